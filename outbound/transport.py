"""Ways to hand a finished message on: an SMTP smarthost (one reused connection) or a folder of .eml files."""

from __future__ import annotations

import errno
import logging
import os
import smtplib
import socket
from pathlib import Path
from typing import Protocol

log = logging.getLogger("helpdesk.outbound")


class SendError(Exception):
    """A mail was not handed on. `permanent`: refused for good (5xx). `unavailable`: the relay (or
    the folder) could not be reached at all, so every other mail would fail the same way now."""

    def __init__(self, detail: str, code: int | None = None, permanent: bool = False, unavailable: bool = False):
        super().__init__(detail)
        self.code, self.permanent, self.unavailable = code, permanent, unavailable


class Transport(Protocol):
    def send(self, mail_from: str, rcpt_to: tuple[str, ...], raw: bytes, name: str) -> str: ...

    def close(self) -> None: ...


class SmtpRelay:
    """Sends through HELPDESK_RELAY, keeping one connection open across messages."""

    def __init__(self, host: str, port: int, local_hostname: str, timeout: float = 30.0):
        self.host, self.port, self.local_hostname, self.timeout = host, port, local_hostname, timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
        smtp.ehlo()
        if smtp.has_extn("starttls") and self.host not in ("127.0.0.1", "localhost", "::1"):
            smtp.starttls()
            smtp.ehlo()
        return smtp

    def _send_once(self, mail_from, rcpt_to, raw) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        # Internationalized addresses need the relay's SMTPUTF8 (RFC 6531).
        utf8 = not all(a.isascii() for a in (mail_from, *rcpt_to))
        if utf8 and not self._smtp.has_extn("smtputf8"):
            raise SendError("the relay does not accept internationalized addresses (no SMTPUTF8)", permanent=True)
        self._smtp.sendmail(mail_from, list(rcpt_to), raw, mail_options=["SMTPUTF8"] if utf8 else ())

    def send(self, mail_from: str, rcpt_to: tuple[str, ...], raw: bytes, name: str) -> str:
        try:
            try:
                self._send_once(mail_from, rcpt_to, raw)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self.close()  # the relay dropped an idle connection: one fresh try
                self._send_once(mail_from, rcpt_to, raw)
        except SendError:
            raise
        except UnicodeError as exc:
            raise SendError(f"cannot encode the message for the relay: {exc}", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise self._error(code, text) from None
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:
            # A greeting or EHLO refusal (even a 554) says nothing about the message: try again later.
            self.close()
            raise SendError(f"relay {self.host}:{self.port}: {exc.smtp_code} {_text(exc.smtp_error)}",
                            code=exc.smtp_code, unavailable=True) from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:  # the relay is closing the connection: it is unavailable, not the mail bad
                self.close()
                raise SendError(f"{exc.smtp_code} {_text(exc.smtp_error)}", code=421, unavailable=True) from None
            raise self._error(exc.smtp_code, exc.smtp_error) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise SendError(f"relay {self.host}:{self.port}: {exc}", unavailable=True) from None
        return f"relay {self.host}:{self.port}"

    def _error(self, code: int, text) -> SendError:
        text = _text(text)
        if code < 500:  # keep the connection usable for the next message unless it closed
            try:
                self._smtp.rset()
            except Exception:
                self.close()
        return SendError(f"{code} {text}", code=code, permanent=500 <= code < 600)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


def _text(text) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


class FolderTransport:
    """Out-of-the-box default: each message becomes an .eml file a new user can open.

    A file is never overwritten: a new database writing into a folder of an older one (its
    numbers start again at 1), or a mail written twice, gets `<name>-1.eml`, `<name>-2.eml`, ...
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, mail_from: str, rcpt_to: tuple[str, ...], raw: bytes, name: str) -> str:
        tmp = self.directory / f".{name}.{os.getpid()}.tmp"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(raw)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                final = _link_under_a_free_name(tmp, self.directory, name)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise SendError(f"cannot write to {self.directory}: {exc.strerror}", unavailable=True) from None
        log.info("wrote outbound mail to %s", final.resolve())
        return str(final)

    def close(self) -> None:
        pass


def _link_under_a_free_name(tmp: Path, directory: Path, name: str) -> Path:
    """Give the written file its name: link() fails instead of replacing an existing file, and
    readers never see half a file."""
    for suffix in range(10_000):
        final = directory / (f"{name}.eml" if suffix == 0 else f"{name}-{suffix}.eml")
        try:
            os.link(tmp, final)
            return final
        except FileExistsError:
            continue
    raise OSError(errno.EEXIST, f"no free name for {name}.eml")


def make_transport(relay: tuple[str, int] | None, outbox_dir: Path) -> Transport:
    if relay is None:
        return FolderTransport(outbox_dir)
    return SmtpRelay(relay[0], relay[1], local_hostname=socket.getfqdn())
