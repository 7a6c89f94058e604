"""The SMTP listener: check recipients at RCPT, store the raw message at DATA, answer only after commit.

Nothing is decided here (Zulip's email gateway does the same): the pipeline works on the
stored copy later, so a slow or failing decision never costs a message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from email.utils import formatdate

from aiosmtpd.smtp import SMTP, syntax

from helpdesk.gateway.ground.addresses import base_address
from helpdesk.gateway.ground.errors import TempFail
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.inbound.intake import InboundWriter, RawInbound
from helpdesk.inbound.smtp_data import BlockData
from helpdesk.inbound.smtp_idle import LazyIdleTimeout
from helpdesk.inbound.smtp_limits import (
    COMMAND_RECV_BYTES,
    COMMAND_STREAM_LIMIT,
    MAIL_LINE_LIMIT,
    S452_TOO_MANY_RECIPIENTS,
    ConnectionGate,
    Doorman,
    command_line_limits,
)
from helpdesk.inbound.smtp_replies import EnhancedReplies, received_protocol

log = logging.getLogger("helpdesk.inbound")

# Replies carry their codes in their names; basic and enhanced codes always agree (RFC 3463).
S250_STORED = "250 2.0.0 OK: stored as {id}"
S250_RCPT_OK = "250 2.1.5 OK"
S451_TEMPFAIL = "451 4.3.0 Temporary failure, please try again later"
S550_NO_SUCH_USER = "550 5.1.1 <{address}>: no such recipient here"
S501_SENDER_TOO_LONG = "501 5.1.7 Sender address too long"
S421_SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
MAX_ADDRESS = 320  # the widest address a column stores; RFC 5321 allows a path of 256 octets
# RFC 5321 4.5.3.2.7: a server waits at least 5 minutes for the next command. The timer restarts
# only on a recognised command, so an endless line or a silent client is cut off too (smtp_idle.py).
IDLE_TIMEOUT_SECONDS = 300
# A burst of connections waits in the kernel's accept queue until the loop takes them; beyond
# asyncio's default of 100 the rest waited for SYN-ACK retransmissions, up to a minute, instead
# of a prompt 220 or 421 (bench/hostile_smtp.py). The kernel caps it at net.core.somaxconn.
LISTEN_BACKLOG = 1024
# A plain <local@domain> path, as nearly every MAIL and RCPT names (dot-atom local part, host
# name domain; RFC 5321 4.1.2). Anything else (quoted local parts, address literals, source
# routes, <>) goes to aiosmtpd's full parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PLAIN_PATH = re.compile(rf"\s*<({_ATEXT}(?:\.{_ATEXT})*)@({_LABEL}(?:\.{_LABEL})*)>\s*(.*)", re.DOTALL)


class IntakeHandler:
    """aiosmtpd handler: accepts mail for the support addresses and commits it before 250."""

    def __init__(self, writer: InboundWriter, accepted: frozenset[str], hostname: str, max_recipients: int = 100,
                 metrics: Metrics | None = None):
        self.writer, self.accepted, self.hostname = writer, accepted, hostname
        self.max_recipients = max_recipients
        self.metrics = metrics if metrics is not None else Metrics()
        # Transactions past DATA, until they are answered: a graceful shutdown waits for them, and
        # while `draining` no new transaction starts (421, RFC 5321 3.8).
        self.in_flight, self.draining = 0, False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # Refused here, clearly and permanently: stored, it would fail at every commit (451 forever).
        if len(address) > MAX_ADDRESS:
            return S501_SENDER_TOO_LONG
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if base_address(address) not in self.accepted:
            return S550_NO_SUCH_USER.format(address=address)
        # RFC 5321 4.5.3.1.10: a temporary 452; the sender delivers the rest in another transaction.
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return S452_TOO_MANY_RECIPIENTS
        envelope.rcpt_tos.append(address)
        return S250_RCPT_OK

    def _trace_header(self, session, envelope) -> bytes:
        # RFC 5321 4.4: a receiving server prepends a Received line to what it accepts.
        helo = session.host_name or "unknown"
        peer = session.peer[0] if session.peer else "unknown"
        protocol = received_protocol(session.extended_smtp, envelope.smtp_utf8, session.ssl is not None,
                                     bool(session.authenticated))
        return (f"Received: from {helo} ([{peer}])\r\n\tby {self.hostname} (helpdesk) with {protocol};"
                f" {formatdate(localtime=False)}\r\n").encode("ascii", "replace")

    async def handle_DATA(self, server, session, envelope):
        raw = self._trace_header(session, envelope) + envelope.original_content
        # aiosmtpd reports the null sender MAIL FROM:<> as "<>"; we store it as "".
        null_sender = envelope.mail_from in (None, "", "<>")
        item = RawInbound(raw=raw, envelope_from="" if null_sender else envelope.mail_from,
                          envelope_to=tuple(envelope.rcpt_tos), source="smtp")
        try:
            new_id = await self.writer.store(item)
        except TempFail:
            return S451_TEMPFAIL
        return S250_STORED.format(id=new_id)

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd's default is a permanent "500 Error: ..." that leaks the exception text.
        log.exception("SMTP session error", exc_info=error)
        return S451_TEMPFAIL


class Listener(LazyIdleTimeout, BlockData, EnhancedReplies):
    """aiosmtpd's session with short command lines, long DATA lines read in blocks and a
    connection slot to give back."""

    line_length_limit = COMMAND_STREAM_LIMIT  # aiosmtpd sizes the stream reader from it

    def __init__(self, handler: IntakeHandler, release_slot: Callable[[], None], max_bytes: int,
                 loop: asyncio.AbstractEventLoop):
        super().__init__(handler, data_size_limit=max_bytes, enable_SMTPUTF8=True, decode_data=False,
                         hostname=handler.hostname, ident="helpdesk gateway", timeout=IDLE_TIMEOUT_SECONDS,
                         loop=loop)
        self.command_size_limits = command_line_limits()
        # Real mail has DATA lines over RFC 5322's 998 (CR-only line ends, unwrapped HTML): they
        # may be as long as the message, which SIZE (552) bounds.
        self.data_line_limit = max(SMTP.line_length_limit, max_bytes + 2)
        self.release_slot: Callable[[], None] | None = release_slot
        self.data_recv_bytes: int | None = None  # the transport's own read size, for DATA
        self.count_reply = handler.metrics.count_reply

    async def push(self, status: str | bytes) -> None:
        # Every reply of a session passes here; a multi-line one (EHLO) is counted once, at its last line.
        line = status if isinstance(status, str) else status.decode("ascii", "replace")
        if line[3:4] != "-":
            self.count_reply(line[:3])
        await super().push(status)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.data_recv_bytes = getattr(transport, "max_size", None)
        self._read_commands()

    def connection_lost(self, error: Exception | None) -> None:
        # Called once however the connection ends: QUIT, the client gone, the idle timeout, an error.
        if self.release_slot:
            self.release_slot()
            self.release_slot = None
        super().connection_lost(error)

    def body_started(self) -> None:
        self.event_handler.writer.body_started()  # a commit about to start waits a moment for it

    def body_ended(self) -> None:
        self.event_handler.writer.body_ended()

    def _getaddr(self, arg: str):
        # aiosmtpd reads every MAIL and RCPT argument with the email package's RFC 5322 header
        # parser, a fifth of a millisecond each; a plain path gives the same result from one match.
        match = _PLAIN_PATH.fullmatch(arg)
        if match is None or (self.local_part_limit and len(match.group(1)) > self.local_part_limit):
            return super()._getaddr(arg)
        return f"{match.group(1)}@{match.group(2)}", match.group(3)

    # Each override carries aiosmtpd's syntax text again: HELP lists only the methods with one.
    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:
        await super().smtp_EHLO(hostname)
        # aiosmtpd adds SIZE's and SMTPUTF8's octets to MAIL's limit at every EHLO; ours has them.
        self.command_size_limits["MAIL"] = MAIL_LINE_LIMIT

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str) -> None:
        if not await self._refused_while_draining():
            await super().smtp_MAIL(arg)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self._refused_while_draining():
            return
        self._set_reading(self.data_line_limit, self.data_recv_bytes)
        handler = self.event_handler
        handler.in_flight += 1  # from DATA until the reply is sent: SIGTERM lets it finish
        try:
            await super().smtp_DATA(arg)
        finally:
            handler.in_flight -= 1
            self._read_commands()

    async def _refused_while_draining(self) -> bool:
        """At shutdown a transaction not yet in DATA is told 421 and the connection closed; the
        client delivers it again later (to us after the restart, or to another instance)."""
        if not self.event_handler.draining:
            return False
        await self.push(S421_SHUTTING_DOWN)
        self.transport.close()
        return True

    def _read_commands(self) -> None:
        self._set_reading(COMMAND_STREAM_LIMIT, COMMAND_RECV_BYTES)

    def _set_reading(self, line_limit: int, recv_bytes: int | None) -> None:
        # One stream reader serves commands and DATA, and asyncio has no public setter for its
        # limit, nor for how much the transport reads at once (selector transports: max_size).
        self.line_length_limit = line_limit
        self._reader._limit = line_limit  # type: ignore[attr-defined]
        if recv_bytes and hasattr(self.transport, "max_size"):
            self.transport.max_size = recv_bytes  # type: ignore[union-attr]


async def start_listener(handler: IntakeHandler, host: str, port: int, max_bytes: int,
                         max_connections: int = 400, max_connections_per_ip: int = 100) -> asyncio.Server:
    """Bind the listener on the running loop; SIZE is advertised and enforced (552) by aiosmtpd."""
    loop = asyncio.get_running_loop()
    gate = ConnectionGate(max_connections, max_connections_per_ip)

    def open_session(release_slot: Callable[[], None]) -> Listener:
        return Listener(handler, release_slot, max_bytes, loop)

    return await loop.create_server(lambda: Doorman(gate, open_session), host=host, port=port, reuse_address=True,
                                    backlog=LISTEN_BACKLOG)
