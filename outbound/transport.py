"""Ways to hand a finished message on: an SMTP smarthost (one reused connection) or a folder of .eml files."""

from __future__ import annotations

import errno
import logging
import os
import smtplib
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from helpdesk.outbound.relay_smtp import RelaySMTP

log = logging.getLogger("helpdesk.outbound")


class SendError(Exception):
    """A mail was not handed on. `permanent`: refused for good (5xx). `unavailable`: the relay (or
    the folder) could not be reached at all, so every other mail would fail the same way now.
    `refused`: the recipients the relay refused for good at RCPT (the address itself is bad)."""

    def __init__(self, detail: str, code: int | None = None, permanent: bool = False, unavailable: bool = False,
                 refused: tuple[str, ...] = ()):
        super().__init__(detail)
        self.code, self.permanent, self.unavailable, self.refused = code, permanent, unavailable, refused


class Transport(Protocol):
    def send(self, mail_from: str, rcpt_to: tuple[str, ...], raw: bytes, name: str) -> str: ...

    def close(self) -> None: ...

    def close_if_idle(self) -> None: ...  # called while there is nothing to send


class SmtpRelay:
    """Sends through HELPDESK_RELAY, keeping one connection open across messages.

    Relays drop clients that stay silent (RFC 5321 4.5.3.2.7; Postfix's smtpd_timeout is 300 s, 10 s
    under load, and it says 421 4.4.2 first), so a connection idle for `idle_seconds` is closed
    before that happens, and a reused one found dropped anyway is replaced at once: neither is a
    failed delivery, and the first mail after a quiet spell does not wait for a retry."""

    def __init__(self, host: str, port: int, local_hostname: str, timeout: float = 30.0,
                 idle_seconds: float = 30.0, monotonic: Callable[[], float] = time.monotonic):
        self.host, self.port, self.local_hostname, self.timeout = host, port, local_hostname, timeout
        self.idle_seconds, self.monotonic = idle_seconds, monotonic
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    def _connect(self) -> smtplib.SMTP:
        smtp = RelaySMTP(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
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

    def _send_on_live_connection(self, mail_from, rcpt_to, raw) -> None:
        reused = self._smtp is not None
        try:
            self._send_once(mail_from, rcpt_to, raw)
        except (OSError, smtplib.SMTPException) as exc:
            if not (reused and _hung_up(exc)):
                raise
            log.debug("relay %s:%d had dropped the idle connection (%s): reconnecting", self.host, self.port, exc)
            self.close()
            self._send_once(mail_from, rcpt_to, raw)  # on a fresh connection, a failure is a real one

    def send(self, mail_from: str, rcpt_to: tuple[str, ...], raw: bytes, name: str) -> str:
        self.close_if_idle()
        try:
            self._send_on_live_connection(mail_from, rcpt_to, raw)
        except SendError:
            raise
        except UnicodeError as exc:
            raise SendError(f"cannot encode the message for the relay: {exc}", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            refused = tuple(a for a, (c, _) in exc.recipients.items() if 500 <= c < 600)
            raise self._error(code, text, refused) from None
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
        finally:
            self._last_used = self.monotonic()
        return f"relay {self.host}:{self.port}"

    @staticmethod
    def _error(code: int, text, refused: tuple[str, ...] = ()) -> SendError:
        # No RSET here: sendmail (smtplib's, and RelaySMTP's pipelined one) has reset the session
        # before it raised, or closed it on a 421; a second RSET was one more round trip.
        return SendError(f"{code} {_text(text)}", code=code, permanent=500 <= code < 600, refused=refused)

    def close_if_idle(self) -> None:
        """Say QUIT on a connection unused for `idle_seconds`, before the relay cuts it off."""
        if self._smtp is not None and self.monotonic() - self._last_used >= self.idle_seconds:
            self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self._smtp = None


def _hung_up(exc: Exception) -> bool:
    """The relay closed the connection (a 421 or the socket gone), as it does with an idle client."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code == 421 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError)


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

    def close_if_idle(self) -> None:
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


def make_transport(relay: tuple[str, int] | None, outbox_dir: Path, ehlo_name: str | None = None,
                   idle_seconds: float = 30.0) -> Transport:
    """`ehlo_name`: what we call ourselves in EHLO (a relay with reject_non_fqdn_helo_hostname wants
    a fully qualified name, which socket.getfqdn() often is not)."""
    if relay is None:
        return FolderTransport(outbox_dir)
    return SmtpRelay(relay[0], relay[1], local_hostname=ehlo_name or socket.getfqdn(), idle_seconds=idle_seconds)
