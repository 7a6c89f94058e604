"""SMS through the whole running service: a signed webhook POSTed to the HTTP listener, the ticket
it opens, the acknowledgement arriving at a fake Twilio (a real HTTP server on loopback), urgent
alerts reaching phones by SMS and mailboxes by mail, and STOP/START between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk.gateway.accounts.directory import add_user
from helpdesk.store.db import new_session
from tests.conftest import free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.mail import client_mail, send, wait_until
from tests.test_sla_escalation import set_phone
from tests.test_sms_pipeline import JAN_PHONE
from tests.workflow import ANNA, JAN, PETR, Inbox, add_team

RULES = Path(__file__).parent / "rules" / "sla.yaml"  # subject OUTAGE: highest priority, urgent alert
ANNA_PHONE = "+420601234567"


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def sms_service(make_settings, start_gateway, db, twilio):
    http_port = free_port()
    settings = make_settings(rules=RULES, http_listen=f"127.0.0.1:{http_port}",
                             public_url=f"http://127.0.0.1:{http_port}", sms_provider="twilio",
                             twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                             twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url)
    gw = start_gateway(settings)
    add_team(db.engine)
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Jan Kowalski", [JAN], organization="Klient Sp. z o.o.", phone=JAN_PHONE)
    set_phone(db.engine, ANNA, ANNA_PHONE)
    gw.webhook = f"http://127.0.0.1:{http_port}/sms/twilio"
    return gw


def texts_to(twilio: FakeTwilio, number: str) -> list[str]:
    return [form["Body"] for form in twilio.sent if form["To"] == number]


def test_a_text_opens_a_ticket_and_the_acknowledgement_reaches_the_phone(sms_service, twilio, sink, db):
    status, answer = twilio.post_inbound_sms(sms_service.webhook, JAN_PHONE, FROM_NUMBER, "Drukarka nie drukuje")
    assert status == 200 and "<Response" in answer
    wait_until(lambda: texts_to(twilio, JAN_PHONE), 15)
    (ticket,) = db.tickets()
    (ack,) = texts_to(twilio, JAN_PHONE)
    assert f"HD#{ticket['number']}" in ack
    assert set(Inbox(sink).next(2)) == {ANNA, PETR}  # the queue hears of it by mail
    assert twilio.sent[0]["From"] == FROM_NUMBER


def test_stop_then_an_urgent_alert_reaches_only_mail_and_start_brings_sms_back(sms_service, twilio, sink, db):
    inbox = Inbox(sink)
    assert twilio.post_inbound_sms(sms_service.webhook, ANNA_PHONE, FROM_NUMBER, "STOP")[0] == 200
    wait_until(lambda: all(r.status != "pending" for r in db.inbound()) and db.inbound())
    send(sms_service.port, client_mail(subject="OUTAGE: nothing prints", sender=f"Jan Kowalski <{JAN}>"))
    mail = inbox.next(3)  # Jan's acknowledgement, Anna's and Petr's notifications (the alert's mail)
    assert {ANNA, PETR, JAN} == set(mail)
    inbox.nothing_more(db)
    assert texts_to(twilio, ANNA_PHONE) == []  # opted out: no SMS of any kind

    assert twilio.post_inbound_sms(sms_service.webhook, ANNA_PHONE, FROM_NUMBER, "START")[0] == 200
    wait_until(lambda: len(texts_to(twilio, ANNA_PHONE)) == 1, 15)  # the confirmation
    send(sms_service.port, client_mail(subject="OUTAGE: the second floor too", sender=f"Jan Kowalski <{JAN}>"))
    inbox.next(3)
    wait_until(lambda: len(texts_to(twilio, ANNA_PHONE)) == 2, 15)
    assert "OUTAGE" in texts_to(twilio, ANNA_PHONE)[1]  # the urgent alert, by SMS as well as by mail
