"""Outbound SMS: the dispatcher sends outbox rows through Twilio (a real HTTP fake on loopback) or an
email-to-SMS gateway (the real SMTP sink), retries what is worth retrying, records every attempt,
honours opt-outs and holds an alert storm back to one summary. Only the clock is moved."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.app.wiring import make_sms_dispatcher
from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.settings import Settings
from helpdesk.outbound.sms_dispatcher import SummaryText
from helpdesk.store.account_tables import User
from helpdesk.store.db import new_session
from helpdesk.store.models import DeliveryAttempt, Outbox, Ticket
from helpdesk.store.outbox import enqueue_sms
from helpdesk.store.tickets import TicketStore
from tests.clock import MovableClock
from tests.conftest import free_port
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.mail import wait_until

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
JAN = "+420601234567"
EVA = "+48601234567"
SECRET = "test-secret-key-0123456789"


class Clock(MovableClock):
    def __init__(self):
        super().__init__(T0)


@pytest.fixture
def twilio():
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def clock():
    return Clock()


def twilio_settings(db_url: str, api_url: str, **overrides) -> Settings:
    values = dict(database_url=db_url, secret_key=SECRET, sms_provider="twilio", twilio_account_sid=ACCOUNT_SID,
                  twilio_auth_token=AUTH_TOKEN, twilio_from_number=FROM_NUMBER, twilio_api_url=api_url)
    return Settings(**{**values, **overrides})


@pytest.fixture
def dispatch(engine, db_url, twilio, clock):
    """The SMS dispatcher alone on the test database, against the fake, on the test's clock."""
    made = []

    def make(**overrides):
        settings = twilio_settings(db_url, overrides.pop("api_url", twilio.url), **overrides)
        made.append(make_sms_dispatcher(engine, settings, clock=clock))
        return made[-1]
    yield make
    for dispatcher in made:
        dispatcher.provider.close()


def queue_sms(engine, number: str, text: str, ticket: int | None = None, kind: str = "alert_sms",
              now: datetime = T0) -> int:
    with new_session(engine) as session, session.begin():
        return enqueue_sms(session.connection(), kind, ticket, number, text, f"sms-{uuid.uuid4().hex}@helpdesk.test",
                           now)


def make_tickets(engine, count: int) -> list[int]:
    with new_session(engine) as session, session.begin():
        contact = TicketStore(session).find_or_create_contact("jan@client.example", "Jan")
        tickets = [Ticket(requester_id=contact.id, subject=f"alert {i}") for i in range(count)]
        session.add_all(tickets)
        session.flush()
        return [t.id for t in tickets]


def add_person(engine, number: str, opted_out_at: datetime | None = None, locale: str | None = None) -> int:
    with new_session(engine) as session, session.begin():
        user = User(display_name="Jan Novák", phone=number, sms_opted_out_at=opted_out_at, locale=locale)
        session.add(user)
        session.flush()
        return user.id


def sms_rows(engine) -> list[Outbox]:
    with new_session(engine) as session:
        return list(session.execute(select(Outbox).where(Outbox.channel == "sms").order_by(Outbox.id)).scalars())


def attempts_of(engine, outbox_id: int) -> list[DeliveryAttempt]:
    with new_session(engine) as session:
        return list(session.execute(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == outbox_id)
                                    .order_by(DeliveryAttempt.id)).scalars())


def opted_out_at(engine, user_id: int) -> datetime | None:
    with new_session(engine) as session:
        return session.get(User, user_id).sms_opted_out_at


def test_the_running_gateway_sends_an_sms_through_twilio_and_keeps_its_sid(make_settings, start_gateway,
                                                                           engine, twilio):
    start_gateway(make_settings(sms_provider="twilio", twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                                twilio_from_number=FROM_NUMBER, twilio_api_url=twilio.url,
                                public_url="https://helpdesk.example.com/"))
    row_id = queue_sms(engine, JAN, "[HD#12] Printer fixed: Grüße", now=datetime.now(UTC))
    (row,) = wait_until(lambda: [r for r in sms_rows(engine) if r.status == "sent"])
    (form,) = twilio.sent
    assert (form["To"], form["Body"], form["From"]) == (JAN, "[HD#12] Printer fixed: Grüße", FROM_NUMBER)
    # Twilio reports delivery to the public URL, never to an address only the gateway's host knows.
    assert form["StatusCallback"] == "https://helpdesk.example.com/sms/twilio/status"
    assert row.id == row_id and row.provider_ref in twilio.messages and row.attempts == 1
    (attempt,) = attempts_of(engine, row_id)
    assert attempt.ok and attempt.code == 201 and row.provider_ref in attempt.detail


def test_a_messaging_service_sends_without_a_from_number(dispatch, engine, twilio):
    queue_sms(engine, JAN, "hello")
    dispatch(twilio_from_number="MG" + "a" * 32).run_once()
    (form,) = twilio.sent
    assert form["MessagingServiceSid"] == "MG" + "a" * 32 and "From" not in form and "StatusCallback" not in form
    assert sms_rows(engine)[0].status == "sent"


@pytest.mark.parametrize("status, code", [(429, 20429), (503, 20503)])
def test_a_busy_twilio_is_retried_after_the_backoff(dispatch, engine, twilio, clock, status, code):
    row_id = queue_sms(engine, JAN, "retry me")
    twilio.fail_next(status, code, "Too Many Requests" if status == 429 else "Service Unavailable", times=2)
    dispatcher = dispatch()
    assert dispatcher.run_once() == 1
    (row,) = sms_rows(engine)
    assert row.status == "queued" and row.attempts == 1 and row.last_error.startswith(f"HTTP {status}")
    assert dispatcher.run_once() == 0 and len(twilio.requests) == 1  # not before the backoff
    clock.later(seconds=61)  # the first retry comes after send_retry_base_seconds (60)
    dispatcher.run_once()
    assert sms_rows(engine)[0].attempts == 2 and len(twilio.requests) == 2
    clock.later(seconds=121)  # then the delay doubles
    dispatcher.run_once()
    (row,) = sms_rows(engine)
    assert row.status == "sent" and row.attempts == 3 and row.last_error is None and row.provider_ref
    assert [(a.ok, a.code) for a in attempts_of(engine, row_id)] == [(False, code), (False, code), (True, 201)]


def test_an_invalid_number_fails_at_once_and_is_never_retried(dispatch, engine, twilio, clock):
    row_id = queue_sms(engine, "+1555", "to nowhere")  # too short: Twilio answers 21211
    dispatcher = dispatch()
    dispatcher.run_once()
    clock.later(hours=5)
    assert dispatcher.run_once() == 0
    (row,) = sms_rows(engine)
    assert row.status == "failed" and row.attempts == 1 and "21211" in row.last_error
    assert len(twilio.requests) == 1 and [a.code for a in attempts_of(engine, row_id)] == [21211]


def test_an_unsubscribed_recipient_is_marked_opted_out_and_gets_nothing_more(dispatch, engine, twilio, clock):
    jan = add_person(engine, JAN)
    queue_sms(engine, JAN, "first")
    twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    dispatcher = dispatch()
    dispatcher.run_once()
    (row,) = sms_rows(engine)
    assert row.status == "failed" and row.attempts == 1 and "21610" in row.last_error
    assert as_utc(opted_out_at(engine, jan)) == T0

    clock.later(minutes=1)
    queue_sms(engine, JAN, "second", now=clock.now)
    assert dispatcher.run_once() == 1
    assert len(twilio.requests) == 1  # the second never reached Twilio
    assert sms_rows(engine)[1].status == "failed" and sms_rows(engine)[1].last_error == "the recipient opted out of SMS"


def test_an_opted_out_number_never_reaches_the_provider(dispatch, engine, twilio):
    add_person(engine, JAN, opted_out_at=T0 - timedelta(days=1))
    refused = queue_sms(engine, JAN, "you said STOP")
    queue_sms(engine, EVA, "but Eva did not")
    dispatch().drain()
    assert twilio.posted_to() == [EVA]
    by_number = {row.rcpt_to: row for row in sms_rows(engine)}
    assert by_number[JAN].status == "failed" and by_number[JAN].last_error == "the recipient opted out of SMS"
    assert by_number[EVA].status == "sent"
    (attempt,) = attempts_of(engine, refused)  # the refusal is in the history like any attempt
    assert not attempt.ok and attempt.detail == "the recipient opted out of SMS"


def test_twilio_unreachable_keeps_everything_queued_and_says_so_once(dispatch, engine, twilio, clock, caplog):
    caplog.set_level(logging.INFO, logger="helpdesk.outbound")
    for text in ("one", "two", "three"):
        queue_sms(engine, JAN, text)
    dispatcher = dispatch(api_url=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert dispatcher.run_once() == 3
    rows = sms_rows(engine)
    assert [r.status for r in rows] == ["queued"] * 3 and all(r.attempts == 1 for r in rows)
    assert "Connection refused" in rows[0].last_error and rows[1].last_error.startswith("not tried:")
    clock.later(minutes=5)
    dispatcher.run_once()
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "helpdesk.outbound" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("SMS provider twilio unavailable")

    dispatcher.provider.client.http_client.base_url = twilio.url  # Twilio is back
    clock.later(minutes=10)
    dispatcher.run_once()
    assert [r.status for r in sms_rows(engine)] == ["sent"] * 3 and len(twilio.sent) == 3
    assert "SMS provider twilio answers again, sending the waiting SMS" in [r.getMessage() for r in caplog.records]


def test_an_sms_is_given_up_after_the_queue_lifetime(dispatch, engine, twilio, clock):
    queue_sms(engine, JAN, "too late")
    twilio.fail_next(503, 20503, "Service Unavailable", times=100)
    dispatcher = dispatch(send_queue_lifetime_hours=2)
    for _ in range(3):
        dispatcher.run_once()
        clock.later(hours=1, minutes=1)
    (row,) = sms_rows(engine)
    assert row.status == "failed" and row.attempts == 3 and "503" in row.last_error


def test_an_alert_storm_is_held_back_and_summarised_in_one_later_sms(dispatch, engine, twilio, clock):
    tickets = make_tickets(engine, 10)
    for number in tickets:
        queue_sms(engine, JAN, f"[HD#{number}] Critical alert", ticket=number)
    queue_sms(engine, EVA, "another person's phone has its own limit")
    dispatcher = dispatch(sms_rate_limit_per_hour=3)
    dispatcher.drain()
    assert twilio.posted_to() == [JAN] * 3 + [EVA]
    rows = [r for r in sms_rows(engine) if r.rcpt_to == JAN]
    assert [r.status for r in rows] == ["sent"] * 3 + ["held"] * 7
    assert {r.last_error for r in rows[3:]} == {"held: 3 SMS to this number in the last hour"}
    assert all(r.attempts == 0 for r in rows[3:])  # held, not tried

    clock.later(minutes=30)  # the hour is still full: nothing more goes to Jan
    dispatcher.drain()
    assert len(twilio.sent) == 4 and all(r.kind != "sms_summary" for r in sms_rows(engine))

    clock.later(minutes=31)
    dispatcher.drain()
    assert twilio.posted_to() == [JAN] * 3 + [EVA, JAN]
    summary = twilio.sent[-1]["Body"]
    assert "7" in summary and ", ".join(str(n) for n in tickets[3:]) in summary
    rows = sms_rows(engine)
    (summary_row,) = [r for r in rows if r.kind == "sms_summary"]
    assert summary_row.status == "sent" and summary_row.rcpt_to == JAN
    held_back = [r for r in rows if r.rcpt_to == JAN and r.ticket_id in tickets[3:]]
    assert [r.status for r in held_back] == ["summarised"] * 7
    assert {r.last_error for r in held_back} == {f"summarised in outbox {summary_row.id}"}
    clock.later(hours=2)
    assert dispatcher.drain() == 0 and len(twilio.sent) == 5  # one summary, not one per run


def test_the_summary_is_plain_english_without_a_template():
    text = SummaryText(None, "Helpdesk", "support@helpdesk.test")(37, [12, 15, 19], None)
    assert text == ("Helpdesk: 37 more SMS were held back in the last hour (tickets 12, 15, 19). "
                    "See your mail or the helpdesk.")
    many = SummaryText(None, "Helpdesk", "support@helpdesk.test")(12, list(range(1, 13)), None)
    assert "(tickets 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...)" in many
    assert "tickets" not in SummaryText(None, "Helpdesk", "support@helpdesk.test")(2, [], None)


def test_email_to_sms_mails_the_text_to_the_operators_gateway(make_settings, start_gateway, engine, sink):
    start_gateway(make_settings(sms_provider="email", sms_email_domain="sms.operator.example"))
    row_id = queue_sms(engine, JAN, "[HD#12] Tiskárna opravena", now=datetime.now(UTC))
    (caught,) = sink.wait_for(1)
    assert caught.rcpt_tos == ["420601234567@sms.operator.example"]
    assert caught.mail_from == "support@helpdesk.test"
    assert caught.message["To"] == "420601234567@sms.operator.example" and caught.message["Subject"] is None
    assert caught.message.get_content().strip() == "[HD#12] Tiskárna opravena"
    (row,) = wait_until(lambda: [r for r in sms_rows(engine) if r.status == "sent"])
    assert row.id == row_id and [a.code for a in attempts_of(engine, row_id)] == [250]


def test_email_to_sms_refused_for_good_fails_and_refused_for_now_is_retried(db_url, engine, sink, clock):
    settings = Settings(database_url=db_url, secret_key=SECRET, relay=f"127.0.0.1:{sink.port}",
                        support_address="support@helpdesk.test", sms_provider="email",
                        sms_email_domain="sms.operator.example")
    sink.reject_rcpt = {"420601234567@sms.operator.example"}
    sink.temp_fail_data = 1
    gone, later = queue_sms(engine, JAN, "to a number the operator refuses"), queue_sms(engine, EVA, "busy")
    dispatcher = make_sms_dispatcher(engine, settings, clock=clock)
    dispatcher.run_once()
    clock.later(seconds=61)
    dispatcher.run_once()
    dispatcher.provider.close()
    by_id = {row.id: row for row in sms_rows(engine)}
    assert by_id[gone].status == "failed" and by_id[gone].attempts == 1 and by_id[gone].last_error.startswith("550")
    assert by_id[later].status == "sent" and [a.code for a in attempts_of(engine, later)] == [451, 250]
    assert [m.rcpt_tos for m in sink.messages] == [["48601234567@sms.operator.example"]]
