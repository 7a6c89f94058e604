"""Test helpers: build client mail, send it over SMTP, wait for the gateway to act, read tickets."""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from helpdesk.store.db import make_engine, new_session
from helpdesk.store.models import InboundMessage
from helpdesk.store.queries import list_outbox, list_tickets, ticket_detail


def client_mail(subject="Printer does not print", body="The printer on floor 2 is jammed.\n",
                sender="Jan Novak <jan@client.example>", to="support@helpdesk.test", **headers) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="client.example")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def send(port: int, msg: EmailMessage, envelope_from: str | None = None, rcpt: list[str] | None = None) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        return smtp.send_message(msg, from_addr=envelope_from, to_addrs=rcpt)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        time.sleep(interval)


class Db:
    """Read-only views of the gateway's database for assertions."""

    def __init__(self, url: str):
        self.engine = make_engine(url)

    def tickets(self, status: str | None = None) -> list[dict]:
        with new_session(self.engine) as s, s.begin():
            return list_tickets(s, status)

    def ticket_count(self) -> int:
        from sqlalchemy import func

        from helpdesk.store.models import Ticket
        with new_session(self.engine) as s:
            return s.execute(select(func.count()).select_from(Ticket)).scalar()

    def ticket(self, number: int) -> dict | None:
        with new_session(self.engine) as s, s.begin():
            return ticket_detail(s, number)

    def outbox(self) -> list[dict]:
        with new_session(self.engine) as s, s.begin():
            return list_outbox(s)

    def inbound(self) -> list[InboundMessage]:
        with new_session(self.engine) as s, s.begin():
            return list(s.execute(select(InboundMessage).order_by(InboundMessage.id)).scalars())

    def processed(self, count: int, timeout: float = 10.0) -> list[InboundMessage]:
        """Wait until `count` inbound messages left the pending state."""
        return wait_until(lambda: (rows := self.inbound()) and len(rows) >= count
                          and all(r.status != "pending" for r in rows) and rows, timeout)
