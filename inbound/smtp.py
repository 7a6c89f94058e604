"""The SMTP listener: check recipients at RCPT, store the raw message at DATA, answer only after commit.

Nothing is decided here (Zulip's email gateway does the same): the pipeline works on the
stored copy later, so a slow or failing decision never costs a message.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import formatdate

from aiosmtpd.smtp import SMTP

from helpdesk.gateway.ground.addresses import base_address
from helpdesk.gateway.ground.errors import TempFail
from helpdesk.inbound.intake import InboundWriter, RawInbound

log = logging.getLogger("helpdesk.inbound")

# Replies carry their codes in their names; basic and enhanced codes always agree (RFC 3463).
S250_STORED = "250 2.0.0 OK: stored as {id}"
S250_RCPT_OK = "250 2.1.5 OK"
S451_TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"
S550_NO_SUCH_USER = "550 5.1.1 <{address}>: no such recipient here"
S501_SENDER_TOO_LONG = "501 5.1.7 Sender address too long"
MAX_ADDRESS = 320  # the widest address a column stores; RFC 5321 allows a path of 256 octets


class IntakeHandler:
    """aiosmtpd handler: accepts mail for the support addresses and commits it before 250."""

    def __init__(self, writer: InboundWriter, accepted: frozenset[str], hostname: str):
        self.writer, self.accepted, self.hostname = writer, accepted, hostname
        self.in_flight = 0  # DATA transactions waiting for their commit (graceful shutdown waits)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # Refused here, clearly and permanently: stored, it would fail at every commit (451 forever).
        if len(address) > MAX_ADDRESS:
            return S501_SENDER_TOO_LONG
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if base_address(address) not in self.accepted:
            return S550_NO_SUCH_USER.format(address=address)
        envelope.rcpt_tos.append(address)
        return S250_RCPT_OK

    def _trace_header(self, session) -> bytes:
        # RFC 5321 4.4: a receiving server prepends a Received line to what it accepts.
        helo = session.host_name or "unknown"
        peer = session.peer[0] if session.peer else "unknown"
        return (f"Received: from {helo} ([{peer}])\r\n\tby {self.hostname} (helpdesk) with ESMTP;"
                f" {formatdate(localtime=False)}\r\n").encode("ascii", "replace")

    async def handle_DATA(self, server, session, envelope):
        raw = self._trace_header(session) + envelope.original_content
        # aiosmtpd reports the null sender MAIL FROM:<> as "<>"; we store it as "".
        null_sender = envelope.mail_from in (None, "", "<>")
        item = RawInbound(raw=raw, envelope_from="" if null_sender else envelope.mail_from,
                          envelope_to=tuple(envelope.rcpt_tos), source="smtp")
        self.in_flight += 1
        try:
            new_id = await self.writer.store(item)
        except TempFail:
            return S451_TEMPFAIL
        finally:
            self.in_flight -= 1
        return S250_STORED.format(id=new_id)

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd's default is a permanent "500 Error: ..." that leaks the exception text.
        log.exception("SMTP session error", exc_info=error)
        return S451_TEMPFAIL


async def start_listener(handler: IntakeHandler, host: str, port: int, max_bytes: int) -> asyncio.Server:
    """Bind the listener on the running loop; SIZE is advertised and enforced (552) by aiosmtpd."""
    loop = asyncio.get_running_loop()

    class Listener(SMTP):
        # aiosmtpd refuses lines over 1,000 bytes with a permanent 500; real mail (CR-only line
        # ends, unwrapped HTML) has longer ones. SIZE still bounds what one client can send.
        line_length_limit = max(SMTP.line_length_limit, max_bytes + 2)

    def factory() -> SMTP:
        return Listener(handler, data_size_limit=max_bytes, enable_SMTPUTF8=True, decode_data=False,
                    hostname=handler.hostname, ident="helpdesk gateway", loop=loop)

    return await loop.create_server(factory, host=host, port=port, reuse_address=True)
