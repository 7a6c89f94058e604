"""A real SMTP server on loopback that catches what the gateway sends (from shared/recipes/smtp_sink.py).

Failure injection: `temp_fail_data = N` answers the next N DATA commands with 451;
`reject_rcpt` answers 550 at RCPT. It offers PIPELINING, as Postfix does, unless told
`pipelining=False` (aiosmtpd reads pipelined commands in order either way). The port can be
fixed, so a test can start the sink late on the port the gateway was told to use ("relay down,
then up").
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Caught:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage = field(repr=False)
    peer: tuple = ()  # the client's address and port: which connection brought it


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # aiosmtpd leaves it to a handler with this hook
        if self.sink.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.sink.reject_rcpt:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.temp_fail_data > 0:
            self.sink.temp_fail_data -= 1
            return "451 4.3.0 Try again later"
        raw = envelope.original_content
        msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
        with self.sink._cond:
            self.sink.messages.append(Caught(envelope.mail_from, list(envelope.rcpt_tos), raw, msg,
                                            tuple(session.peer or ())))
            self.sink._cond.notify_all()
        return "250 2.0.0 Message accepted for delivery"


class _PortController(Controller):
    def _trigger_server(self):
        # The server is bound: learn the real port (port 0) before the readiness probe.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    def __init__(self, port: int = 0, reject_rcpt=(), pipelining: bool = True):
        self.host, self.pipelining = "127.0.0.1", pipelining
        self.messages: list[Caught] = []
        self.reject_rcpt = {a.lower() for a in reject_rcpt}
        self.temp_fail_data = 0
        self._cond = threading.Condition()
        self._controller = _PortController(_Handler(self), hostname=self.host, port=port,
                                           enable_SMTPUTF8=True, data_size_limit=None)

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    __enter__ = start

    def __exit__(self, *exc):
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Caught]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"got {len(self.messages)} of {count} messages")
                self._cond.wait(left)
            return list(self.messages)
