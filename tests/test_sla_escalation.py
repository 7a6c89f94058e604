"""SLA clocks end to end: real mail to the real listener, the scheduler's real job on the real
database, escalation mail at the real sink. Only the clock is moved (the calendar is 24/7 here, so
working time is wall time; the calendar arithmetic has its own tests)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpdesk.app.scheduled_jobs import Housekeeping
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.contracts import add_contract
from helpdesk.gateway.accounts.directory import add_user
from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.gateway.sla.contract_change import follow_contract_change
from helpdesk.store.alert_tables import Alert, AlertDelivery
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.models import Outbox, Ticket
from tests.clock import MovableClock
from tests.conftest import free_port
from tests.mail import client_mail, send
from tests.service import run_helpdesk, service_env
from tests.workflow import ANNA, DANA, JAN, PETR, Inbox, add_team, body, reply_to

RULES = Path(__file__).parent / "rules" / "sla.yaml"
ADAM = "adam@provider.example"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock(MovableClock):
    def __init__(self):
        super().__init__(T0)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sla_gateway(make_settings, start_gateway, db, clock):
    # The service's own SLA job runs once at start; the tests run the job themselves when they move the clock.
    settings = make_settings(rules=RULES, sla_check_seconds=86400)
    gw = start_gateway(settings, clock=clock)
    add_team(db.engine)
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Adam Admin", [ADAM], roles=("admin",))
    set_phone(db.engine, ANNA, "+420601234567")
    return gw


def set_phone(engine, address: str, phone: str) -> None:
    from helpdesk.store.account_tables import User, UserEmail
    with new_session(engine) as session, session.begin():
        user_id = session.execute(select(UserEmail.user_id).where(UserEmail.address == address)).scalar_one()
        session.get(User, user_id).phone = phone


def scheduler(gw, clock) -> Housekeeping:
    """A scheduler like the one in `helpdesk serve`, on the same database and clock."""
    s = gw.settings
    rules = load_rules(s.rules)
    return Housekeeping(make_engine(s.database_url, s.db_busy_timeout_ms),
                        make_pipeline_context(s, lambda: rules, clock=clock), clock=clock)


def ticket_row(db, number: int) -> Ticket:
    with new_session(db.engine) as session:
        return session.get(Ticket, number)


def alerts(db) -> list[Alert]:
    with new_session(db.engine) as session:
        return list(session.execute(select(Alert).order_by(Alert.id)).scalars())


def open_ticket(gw, inbox, subject="Drukarka nie drukuje") -> tuple[int, dict]:
    send(gw.port, client_mail(subject=subject, body="Drukarka na 2. piętrze nie drukuje.\n",
                              sender=f"Jan Kowalski <{JAN}>"))
    mail = inbox.next(3)  # Jan's acknowledgement, Anna's and Petr's notifications
    return int(mail[ANNA].message["Subject"].split("HD#")[1].split("]")[0]), mail


def test_warning_breach_and_widening_escalation_until_acknowledged(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox)
    t = ticket_row(db, number)
    assert (t.sla_profile, t.sla_state, t.first_response_target_s, t.resolution_target_s) == \
        ("standard", "running", 3600, 14400)
    assert as_utc(t.first_response_due_at) == T0 + timedelta(hours=1)
    assert as_utc(t.resolution_due_at) == T0 + timedelta(hours=4)
    assert as_utc(t.sla_next_at) == T0 + timedelta(minutes=45)  # the warning at 75 % of the first response
    hk = scheduler(gw, clock)

    clock.at(minutes=44)
    assert hk.sla_once() == 0
    clock.at(minutes=46)
    hk.sla_once()
    warned = inbox.next(3)  # nobody has it: the queue's technicians and its dispatcher
    assert set(warned) == {ANNA, PETR, DANA}
    warning = warned[ANNA].message
    assert warning["Subject"] == mail[ANNA].message["Subject"]  # threads with the ticket's staff mail
    assert warning["In-Reply-To"] == mail[ANNA].message["Message-ID"]
    assert "75" in body(warned[ANNA]) and "first response" in body(warned[ANNA])
    hk.sla_once()
    inbox.nothing_more(db)

    clock.at(minutes=61)
    hk.sla_once()
    breach = inbox.next(3)
    assert set(breach) == {ANNA, PETR, DANA} and "1 min" in body(breach[ANNA])
    t = ticket_row(db, number)
    assert (t.escalation_level, t.sla_breached) == (1, 1)
    clock.at(minutes=100)
    hk.sla_once()
    inbox.nothing_more(db)  # the repeat waits its hour

    clock.at(minutes=122)
    hk.sla_once()
    wider = inbox.next(4)  # level 2: all staff, the admin too
    assert set(wider) == {ANNA, PETR, DANA, ADAM}
    assert ticket_row(db, number).escalation_level == 2

    # Anna acknowledges by mail: the repetition stops
    reply_to(gw.port, wider[ANNA], ANNA, "#ack")
    db.processed(2)
    inbox.nothing_more(db)
    assert ticket_row(db, number).escalation_acked
    clock.at(minutes=170)
    hk.sla_once()
    inbox.nothing_more(db)
    kinds = [(a.kind, a.level, a.escalation_level, a.acknowledged_at is not None) for a in alerts(db)]
    assert kinds == [("sla-warning", "important", None, True), ("sla-breach", "important", 1, True),
                     ("escalation", "important", 2, True)]

    # the resolution target is new news: warned about and announced despite the earlier acknowledgement
    clock.at(hours=3, minutes=1)
    hk.sla_once()
    assert "resolution" in body(inbox.next(3)[DANA])  # Dana reads English, Petr Czech: "vyřešení"
    clock.at(hours=4, minutes=1)
    hk.sla_once()
    assert set(inbox.next(4)) == {ANNA, PETR, DANA, ADAM}  # level 3 stays with the widest circle
    assert ticket_row(db, number).sla_breached == 3


def test_waiting_for_the_client_pauses_the_clock_and_keeps_what_was_used(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox)
    clock.at(minutes=30)
    reply_to(gw.port, mail[ANNA], ANNA, "#take\n\nDzień dobry, jaki to model drukarki?")
    answer = inbox.next()[JAN]
    t = ticket_row(db, number)
    assert (t.status, t.sla_state, t.sla_used_s, t.first_response_used_s) == ("pending", "waiting", 1800, 1800)
    assert t.resolution_due_at is None and t.sla_next_at is None  # nothing is due while it waits
    assert as_utc(t.first_response_at) == T0 + timedelta(minutes=30)

    clock.at(hours=6)  # far past the resolution target in wall time, but the client was the one to answer
    hk = scheduler(gw, clock)
    hk.sla_once()
    inbox.nothing_more(db)
    reply_to(gw.port, answer, JAN, "To HP LaserJet 4.")
    inbox.next()  # Anna hears of the answer
    t = ticket_row(db, number)
    assert (t.status, t.sla_state, t.sla_used_s, t.sla_paused_s) == ("open", "running", 1800, 5 * 3600 + 1800)
    assert as_utc(t.resolution_due_at) == T0 + timedelta(hours=6) + timedelta(hours=3, minutes=30)
    assert t.first_response_due_at is None  # answered in time: met, nothing more due for it


def test_a_change_of_priority_keeps_the_time_used_and_a_highest_breach_is_urgent(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox)
    clock.at(minutes=20)
    reply_to(gw.port, mail[ANNA], ANNA, "#priority highest")  # a command only: no answer to the client
    db.processed(2)
    inbox.nothing_more(db)
    t = ticket_row(db, number)
    # 20 minutes used stay used: the 15-minute first response of highest is already missed
    assert (t.priority, t.sla_used_s, t.first_response_target_s) == ("highest", 1200, 900)
    assert as_utc(t.sla_next_at) <= clock.now
    scheduler(gw, clock).sla_once()
    breach = inbox.next(3)
    assert set(breach) == {ANNA, PETR, DANA}
    (alert,) = alerts(db)
    assert (alert.kind, alert.level, alert.initiator) == ("sla-breach", "urgent", "internal-service")
    with new_session(db.engine) as session:
        sms = session.execute(select(Outbox).where(Outbox.channel == "sms")).scalars().all()
        rows = session.execute(select(AlertDelivery.channel, AlertDelivery.address, AlertDelivery.detail)
                               .where(AlertDelivery.channel == "sms")).all()
    assert [(o.rcpt_to, o.status) for o in sms] == [("+420601234567", "queued")]  # for the SMS dispatcher
    assert f"HD#{number}" in sms[0].raw.decode()
    assert sorted(rows) == [("sms", "", "no phone number"), ("sms", "", "no phone number"),
                            ("sms", "+420601234567", "")]


def test_a_reopened_ticket_is_under_the_sla_again(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox)
    hk = scheduler(gw, clock)
    clock.at(hours=5)
    hk.sla_once()
    inbox.next(3)  # both targets breached at once: one escalation, no warnings
    assert [a.kind for a in alerts(db)] == ["sla-breach"]
    reply_to(gw.port, mail[ANNA], ANNA, "#resolve\n\nDzień dobry, drukarka działa.")
    resolved = inbox.next()[JAN]
    t = ticket_row(db, number)
    assert (t.status, t.resolution_used_s, t.sla_state) == ("resolved", 5 * 3600, "waiting")
    clock.at(hours=7)
    reply_to(gw.port, resolved, JAN, "Niestety nadal nie drukuje.")
    inbox.next(3)  # the client is told it is reopened; the queue hears of it (nobody took it)
    t = ticket_row(db, number)
    assert (t.status, t.resolution_used_s, t.escalation_level, t.sla_breached) == ("open", None, 0, 0)
    hk.sla_once()
    again = inbox.next(3)
    assert set(again) == {ANNA, PETR, DANA}
    assert ticket_row(db, number).escalation_level == 1


def test_two_schedulers_on_one_database_escalate_once(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    open_ticket(gw, inbox)
    open_ticket(gw, inbox, subject="Druga drukarka")
    clock.at(hours=5)
    first, second = scheduler(gw, clock), scheduler(gw, clock)
    second.holder += "-other"
    barrier = threading.Barrier(2)

    def run(hk):
        barrier.wait()
        hk.sla_once()

    threads = [threading.Thread(target=run, args=(hk,)) for hk in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    inbox.next(6)  # two tickets, three people each
    first.sla_once(), second.sla_once()
    inbox.nothing_more(db)
    assert [a.kind for a in alerts(db)] == ["sla-breach", "sla-breach"]


def test_a_restart_catches_up_once_without_repeating(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, _ = open_ticket(gw, inbox)
    clock.at(hours=2)  # the gateway "was down" past the warning and the first-response breach
    scheduler(gw, clock).sla_once()
    inbox.next(3)
    restarted = scheduler(gw, clock)  # a new process: what was sent is on the ticket
    restarted.sla_once()
    inbox.nothing_more(db)
    assert [a.kind for a in alerts(db)] == ["sla-breach"]
    assert ticket_row(db, number).sla_warned == 1  # the skipped warning counts as given


def test_an_urgent_rule_alerts_by_mail_and_sms_and_records_every_delivery(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox, subject="OUTAGE: nothing prints")
    (alert,) = alerts(db)
    assert (alert.kind, alert.level, alert.initiator, alert.ticket_id) == \
        ("ticket-alert", "urgent", "external-client", number)
    with new_session(db.engine) as session:
        rows = session.execute(select(AlertDelivery.channel, AlertDelivery.address, AlertDelivery.outbox_id)
                               .order_by(AlertDelivery.id)).all()
        staff_new = dict(session.execute(select(Outbox.rcpt_to, Outbox.id).where(Outbox.kind == "staff_new")).all())
    assert sorted((c, a) for c, a, _ in rows if c == "web") == [("web", ANNA), ("web", PETR)]
    # the new-ticket notification is the alert's mail: nobody gets a second one
    assert sorted((a, o) for c, a, o in rows if c == "email") == sorted(staff_new.items())
    assert [(a, o is not None) for c, a, o in rows if c == "sms"] == [("+420601234567", True), ("", False)]
    with new_session(db.engine) as session:
        kinds = session.execute(select(Outbox.kind, Outbox.channel).order_by(Outbox.id)).all()
    assert sorted(kinds) == [("acknowledgement", "email"), ("alert_sms", "sms"), ("staff_new", "email"),
                             ("staff_new", "email")]


def test_a_new_contract_moves_open_tickets_to_its_profile_keeping_the_time_used(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, _ = open_ticket(gw, inbox)
    clock.at(minutes=20)
    with new_session(db.engine) as session, session.begin():
        contract = add_contract(session, "Klient Sp. z o.o.", "KL-1",
                                {"starts_on": "2026-01-01", "sla_profile": "gold"})
        assert follow_contract_change(session, load_rules(RULES).sla, contract.organization_id, clock.now.date(),
                                      clock) == (1, "gold")
    t = ticket_row(db, number)
    assert (t.sla_profile, t.sla_used_s, t.first_response_target_s, t.resolution_target_s) == ("gold", 1200, 900, 7200)
    assert as_utc(t.resolution_due_at) == T0 + timedelta(hours=2)
    scheduler(gw, clock).sla_once()  # 20 minutes used of gold's 15: the breach goes now
    assert set(inbox.next(3)) == {ANNA, PETR, DANA}


def test_the_contracts_command_says_which_profile_open_tickets_follow(sla_gateway, sink, db, clock):
    open_ticket(sla_gateway, Inbox(sink))
    env = service_env(sla_gateway.settings.database_url, free_port(), None, HELPDESK_RULES=str(RULES))
    result = run_helpdesk(["contracts", "add", "KL-1", "--org", "Klient Sp. z o.o.", "--start", "2026-01-01",
                           "--sla", "gold"], env)
    assert result.returncode == 0, result.stderr
    assert "1 open ticket(s) of the organization now follow SLA profile gold" in result.stdout.decode()
    result = run_helpdesk(["contracts", "edit", "KL-1", "--sla", "platinum"], env)
    assert result.returncode == 0 and "'platinum' is not declared in rules.yaml" in result.stderr.decode()
    assert "now follow SLA profile standard" in result.stdout.decode()  # the default, until rules.yaml declares it


def test_a_late_first_response_ends_that_escalation_and_the_resolution_still_counts(sla_gateway, sink, db, clock):
    gw, inbox = sla_gateway, Inbox(sink)
    number, mail = open_ticket(gw, inbox)
    hk = scheduler(gw, clock)
    clock.at(minutes=61)
    hk.sla_once()
    inbox.next(3)  # the first response is breached
    clock.at(minutes=70)
    reply_to(gw.port, mail[ANNA], ANNA, "Dzień dobry, sprawdzamy drukarkę.")
    inbox.next()  # Jan gets the answer
    clock.at(minutes=140)  # past the hourly repeat: nothing, the first response was given
    hk.sla_once()
    inbox.nothing_more(db)
    assert ticket_row(db, number).escalation_level == 1
    clock.at(hours=4, minutes=1)
    hk.sla_once()
    # The resolution breach is the ticket's second escalation: level 2, every staff member (admin Adam too).
    assert "resolution" in body(inbox.next(4)[DANA])
    inbox.nothing_more(db)
