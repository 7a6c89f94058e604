"""Helpers of the technicians' workflow tests: a team in a broadcast queue and mail read in order."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.gateway.accounts.queues import find_queue, set_membership
from helpdesk.store.db import new_session
from tests.mail import client_mail, send, wait_until
from tests.smtp_sink import Caught, SmtpSink

ANNA, PETR, DANA = "anna@provider.example", "petr@provider.example", "dana@provider.example"
JAN = "jan@client.example"


def add_team(engine) -> None:
    """A Polish client organization, two technicians in the broadcast queue `support`, a dispatcher."""
    with new_session(engine) as session, session.begin():
        add_org(session, "Klient Sp. z o.o.", ["client.example"], locale="pl")
        add_user(session, "Anna Nowak", [ANNA], roles=("technician",))
        add_user(session, "Petr Dvořák", [PETR], roles=("technician",), locale="cs")
        add_user(session, "Dana Dispatcher", [DANA], roles=("dispatcher",))
        for who in (ANNA, PETR, DANA):
            set_membership(session, find_queue(session, "support"), who, member=True)


class Inbox:
    """What the relay received, read in order: each call returns only mail not seen before."""

    def __init__(self, sink: SmtpSink):
        self.sink, self.seen = sink, 0

    def next(self, count: int = 1, timeout: float = 15.0) -> dict[str, Caught]:
        got = self.sink.wait_for(self.seen + count, timeout)
        new, self.seen = got[self.seen:], len(got)
        assert len(new) == count, [(m.rcpt_tos, m.message["Subject"]) for m in new]
        return {rcpt: m for m in new for rcpt in m.rcpt_tos}

    def nothing_more(self, db=None, wait: float = 1.5) -> None:
        """No further mail: with `db`, once every stored message is processed and every outbox row
        handed over (no fixed wait); without, nothing arrives within `wait` seconds (for mail a
        scheduled job might still send)."""
        if db is not None:
            wait_until(lambda: all(r.status != "pending" for r in db.inbound())
                       and all(o["status"] not in ("queued", "sending") for o in db.outbox()))
            extra = self.sink.messages[self.seen:]
        else:
            try:
                extra = self.sink.wait_for(self.seen + 1, wait)[self.seen:]
            except TimeoutError:
                return
        assert not extra, f"unexpected mail: {[(m.rcpt_tos, m.message['Subject']) for m in extra]}"


def open_ticket(gw, inbox: Inbox, db) -> tuple[int, dict[str, Caught]]:
    """Jan writes in: returns the ticket number and the three mails it causes (his acknowledgement
    and the notifications of both technicians of the broadcast queue), by recipient."""
    send(gw.port, client_mail(subject="Drukarka nie drukuje", body="Drukarka na 2. piętrze nie drukuje.\n",
                              sender=f"Jan Kowalski <{JAN}>"))
    mail = inbox.next(3)
    (ticket,) = db.tickets()
    return ticket["number"], mail


def body(caught: Caught) -> str:
    return caught.message.get_body(("plain",)).get_content()


def reply_to(port: int, caught: Caught, sender: str, text: str, **headers) -> EmailMessage:
    """Press Reply in a mail client: Re: subject, threading headers, the original quoted below."""
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, caught.message["Reply-To"] or caught.message["From"]
    msg["Subject"] = "Re: " + caught.message["Subject"]
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    msg["In-Reply-To"] = caught.message["Message-ID"]
    msg["References"] = " ".join(filter(None, [caught.message["References"], caught.message["Message-ID"]]))
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    quoted = "\n".join("> " + line for line in body(caught).splitlines())
    msg.set_content(f"{text}\n\nOn Mon, 23 Nov 2026 at 10:15, Support <support@helpdesk.test> wrote:\n{quoted}\n")
    send(port, msg)
    return msg
