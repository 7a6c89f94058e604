"""What one SMTP client may cost the listener: command line lengths and connections open at once.

Without these bounds one connection could make the process buffer a command line as long as a
whole message, and a flood of connections had no end; see README, "SMTP limits".
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable

log = logging.getLogger("helpdesk.inbound")

S421_TOO_MANY_CONNECTIONS = b"421 4.7.0 Too many connections, try again later\r\n"
S452_TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"

# RFC 5321 4.5.3.1.4: a command line is at most 512 octets; extensions add to MAIL what their
# parameters need: SIZE=<20 digits> 26 octets (RFC 1870), " BODY=8BITMIME" 14 (RFC 6152),
# " SMTPUTF8" 10 (RFC 6531 3.4). We announce no RCPT parameters (no DSN) and no AUTH.
COMMAND_LINE_LIMIT = 512
MAIL_LINE_LIMIT = COMMAND_LINE_LIMIT + 26 + 14 + 10
# The stream reader's limit while commands are read: the longest line plus its CRLF. A longer
# line is drained in chunks of this size and answered 500, so it is never held whole.
COMMAND_STREAM_LIMIT = MAIL_LINE_LIMIT + 2
# How much the transport takes from the socket at once while commands are read (asyncio's own
# 256 KiB is for DATA): a burst of 100 pipelined RCPTs is about 4 KiB, while 400 clients sending
# an endless line at once made the process 54 MiB larger with 256 KiB, 10 MiB with 16 KiB.
COMMAND_RECV_BYTES = 16 * 1024


def command_line_limits() -> collections.defaultdict[str, int]:
    """Per-command limits in aiosmtpd's shape (a fresh dict: aiosmtpd's own is shared by all sessions)."""
    limits: collections.defaultdict[str, int] = collections.defaultdict(lambda: COMMAND_LINE_LIMIT)
    limits["MAIL"] = MAIL_LINE_LIMIT
    return limits


class ConnectionGate:
    """Counts open connections, overall and per client IP, and admits a new one only under both caps.

    Used from the event loop's thread only, so plain counters suffice.
    """

    def __init__(self, max_connections: int, max_per_ip: int):
        self.max_connections, self.max_per_ip = max_connections, max_per_ip
        self.open = 0
        self.open_by_ip: dict[str, int] = {}
        self.refused = 0

    def admit(self, ip: str) -> bool:
        from_ip = self.open_by_ip.get(ip, 0)
        if self.open >= self.max_connections or from_ip >= self.max_per_ip:
            self._note_refusal(ip, from_ip)
            return False
        self.open += 1
        self.open_by_ip[ip] = from_ip + 1
        return True

    def release(self, ip: str) -> None:
        self.open -= 1
        left = self.open_by_ip.pop(ip) - 1
        if left:
            self.open_by_ip[ip] = left

    def _note_refusal(self, ip: str, from_ip: int) -> None:
        # A flood must not flood the log too: the 1st, 10th, 100th ... refusal is logged.
        self.refused += 1
        if str(self.refused).rstrip("0") == "1":
            log.warning("refused SMTP connection from %s with 421 (%d refused so far; %d open, %d from it)",
                        ip, self.refused, self.open, from_ip)


def client_ip(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"


class Doorman(asyncio.Protocol):
    """The first protocol of every connection: answers 421 and closes, or hands over to an SMTP session.

    A refused connection costs no SMTP session object (aiosmtpd's inspects its handler on every
    construction), no greeting, no task and no timer.
    """

    def __init__(self, gate: ConnectionGate, open_session: Callable[[Callable[[], None]], asyncio.Protocol]):
        self.gate, self.open_session = gate, open_session

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        ip = client_ip(transport)
        if not self.gate.admit(ip):
            transport.write(S421_TOO_MANY_CONNECTIONS)  # type: ignore[attr-defined]
            transport.close()  # sends what was written first
            return
        try:
            session = self.open_session(lambda: self.gate.release(ip))
        except BaseException:
            self.gate.release(ip)
            transport.close()
            raise
        transport.set_protocol(session)
        session.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        pass  # a refused client's words: the transport is closing

    def eof_received(self) -> bool:
        return False  # close our side too
