"""SMS through the shared pipeline: a stored Twilio webhook body becomes the same message type as
mail, so threading, authorization, routing, apply and notify are the mail path's own.

Each test stores the SMS exactly as the webhook does (tests/test_sms_webhook.py covers the
webhook itself) and lets the real gateway process it; staff mail arrives at the real sink, and
the SMS it answers with waits in the outbox for the SMS dispatcher (tests/test_sms_outbound.py).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import insert, select

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.account_tables import User
from helpdesk.store.db import new_session
from helpdesk.store.models import Article, InboundMessage, Outbox, Ticket, TicketEvent
from tests.mail import wait_until
from tests.test_sla_escalation import set_phone
from tests.workflow import ANNA, JAN, PETR, Inbox, add_team, body, reply_to

RULES = Path(__file__).parent / "rules" / "workflow.yaml"
JAN_PHONE, STRANGER = "+48601234567", "+420777000111"
HELPDESK_NUMBER = "+48221234567"


@pytest.fixture
def sms_gateway(make_settings, start_gateway, db):
    gw = start_gateway(make_settings(rules=RULES))
    add_team(db.engine)
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Jan Kowalski", [JAN], organization="Klient Sp. z o.o.", phone=JAN_PHONE)
    return gw


def text_in(db, sender: str, body: str, **extra) -> str:
    """Store an SMS as the webhook does: the form as received, its MessageSid as external id."""
    sid = "SM" + secrets.token_hex(16)
    form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": HELPDESK_NUMBER,
            "Body": body, "NumMedia": "0", **extra}
    with new_session(db.engine) as session, session.begin():
        session.execute(insert(InboundMessage.__table__).values(
            received_at=utcnow(), channel="sms", source="twilio", envelope_from=sender, envelope_to=HELPDESK_NUMBER,
            raw=urlencode(form).encode(), status="pending", attempts=0, external_id=sid))
    return sid


def processed(db, count: int) -> None:
    wait_until(lambda: len(rows := db.inbound()) >= count and all(r.status != "pending" for r in rows), 15)


def sms_rows(db) -> list[Outbox]:
    with new_session(db.engine) as session:
        return list(session.execute(select(Outbox).where(Outbox.channel == "sms").order_by(Outbox.id)).scalars())


def tickets(db) -> list[Ticket]:
    with new_session(db.engine) as session:
        return list(session.execute(select(Ticket).order_by(Ticket.id)).scalars())


def test_a_text_opens_a_ticket_acknowledged_by_sms_and_staff_hear_of_it(sms_gateway, sink, db):
    text_in(db, JAN_PHONE, "Drukarka na 2. piętrze nie drukuje")
    notes = Inbox(sink).next(2)  # the broadcast queue's technicians, by mail
    assert set(notes) == {ANNA, PETR} and "Drukarka na 2. piętrze nie drukuje" in body(notes[ANNA])
    (ticket,) = tickets(db)
    with new_session(db.engine) as session:
        jan = session.execute(select(User).where(User.phone == JAN_PHONE)).scalar_one()
        (article,) = session.execute(select(Article)).scalars()
    assert (ticket.requester_id, ticket.subject, article.channel) == (jan.id, "Drukarka na 2. piętrze nie drukuje",
                                                                        "sms")
    (ack,) = sms_rows(db)
    assert (ack.kind, ack.rcpt_to, ack.status, ack.ticket_id) == ("sms_acknowledgement", JAN_PHONE, "queued",
                                                                   ticket.id)
    assert f"HD#{ticket.id}" in ack.raw.decode()  # in Jan's language (his organization's Polish)


def test_a_number_in_the_text_appends_and_a_strangers_number_opens_its_own(sms_gateway, sink, db):
    inbox = Inbox(sink)
    text_in(db, JAN_PHONE, "Drukarka nie drukuje")
    inbox.next(2)
    number = tickets(db)[0].id
    text_in(db, JAN_PHONE, f"HD#{number} jeszcze jedno: papier jest")
    inbox.next(2)  # the technicians hear of the follow-up
    assert len(tickets(db)) == 1
    text_in(db, STRANGER, f"#{number} I want in on this ticket")
    inbox.next(2)  # a new ticket of the stranger's own, announced to the queue
    first, second = tickets(db)
    assert second.requester_id != first.requester_id
    with new_session(db.engine) as session:
        events = [e.kind for e in session.execute(select(TicketEvent).where(TicketEvent.ticket_id == second.id))
                  .scalars()]
    assert "not-continued" in events
    assert [r.rcpt_to for r in sms_rows(db)] == [JAN_PHONE, STRANGER]  # one acknowledgement each, none for appends


def test_stop_silences_every_sms_until_start_and_help_answers(sms_gateway, sink, db):
    processed_count = 0
    for word, count in (("STOP", 0), ("Drukarka nie drukuje", 0), ("HELP", 0), ("start", 1), ("POMOC", 2)):
        text_in(db, JAN_PHONE, word)
        processed_count += 1
        processed(db, processed_count)
        assert len(sms_rows(db)) == count, word
    kinds = [r.kind for r in sms_rows(db)]
    assert kinds == ["sms_started", "sms_help"]
    with new_session(db.engine) as session:
        events = session.execute(select(TicketEvent.detail).where(TicketEvent.kind == "reply-suppressed")).scalars()
        assert any("opted out" in e for e in events)  # the acknowledgement of the ticket opened meanwhile
        jan = session.execute(select(User).where(User.phone == JAN_PHONE)).scalar_one()
        assert jan.sms_opted_out_at is None
    assert len(tickets(db)) == 1  # keywords open no ticket


def test_a_technicians_answer_to_an_sms_ticket_goes_by_sms_and_in_full_by_mail(sms_gateway, sink, db):
    inbox = Inbox(sink)
    text_in(db, JAN_PHONE, "Drukarka nie drukuje")
    notes = inbox.next(2)
    answer = "Dzień dobry, proszę wyłączyć drukarkę, odczekać minutę i włączyć ją ponownie. " * 6
    reply_to(sms_gateway.port, notes[ANNA], ANNA, answer + "\n\nAnna")
    mailed = inbox.next()[JAN]  # Jan has an address: the whole answer goes there
    assert "odczekać minutę" in body(mailed)
    texted = [r for r in sms_rows(db) if r.kind == "sms_reply"]
    assert len(texted) == 1 and texted[0].rcpt_to == JAN_PHONE
    text = texted[0].raw.decode()
    assert JAN in text  # the note says where the full answer went
    assert len(text) <= 3 * 67  # three UCS-2 segments at most (Polish letters)
    with new_session(db.engine) as session:
        mailed_to = session.execute(select(Outbox.rcpt_to).where(Outbox.channel == "email")).scalars().all()
    assert all("@" in r for r in mailed_to)  # the number that texted is a participant, never a mail recipient


def test_a_stranger_who_only_texts_gets_the_answer_by_sms_alone(sms_gateway, sink, db):
    inbox = Inbox(sink)
    text_in(db, STRANGER, "Printer broken")
    notes = inbox.next(2)
    reply_to(sms_gateway.port, notes[ANNA], ANNA, "Please restart it.\n\nAnna")
    wait_until(lambda: any(r.kind == "sms_reply" for r in sms_rows(db)))
    (reply,) = [r for r in sms_rows(db) if r.kind == "sms_reply"]
    assert reply.rcpt_to == STRANGER and "Please restart it." in reply.raw.decode()
    reply_to(sms_gateway.port, notes[PETR], PETR, "#resolve")
    wait_until(lambda: db.ticket(tickets(db)[0].id)["status"] == "resolved")
    with new_session(db.engine) as session:  # no mail at all: the stranger has no address
        assert session.execute(select(Outbox.kind).where(Outbox.channel == "email",
                                                         Outbox.kind.in_(("reply", "resolved")))).all() == []
        events = session.execute(select(TicketEvent.detail).where(TicketEvent.kind == "reply-suppressed")).scalars()
        assert any("no mail address" in e for e in events)


def test_mms_media_urls_are_recorded_on_the_article(sms_gateway, sink, db):
    media = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
    text_in(db, JAN_PHONE, "Photo of the error", NumMedia="1", MediaUrl0=media, MediaContentType0="image/jpeg")
    Inbox(sink).next(2)
    with new_session(db.engine) as session:
        (article,) = session.execute(select(Article)).scalars()
    assert json.loads(article.media_urls) == [media]


def test_a_staff_members_number_cannot_add_to_a_clients_ticket(sms_gateway, sink, db):
    """Nothing proves who sent an SMS beyond the number: a technician's number is no proof of the technician."""
    set_phone(db.engine, ANNA, "+420601234567")
    inbox = Inbox(sink)
    text_in(db, JAN_PHONE, "Drukarka nie drukuje")
    inbox.next(2)
    number = tickets(db)[0].id
    text_in(db, "+420601234567", f"HD#{number} closing this, all fine")
    inbox.next(2)  # a ticket of the number's own, announced to the queue
    assert len(tickets(db)) == 2
