"""Inspection reminders end to end: the scheduler's real job on the real database, the alert mail at the
real sink in each recipient's language. Only the clock is moved. Each step goes once: run twice,
after a restart (a new scheduler), and from two engines at once on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from helpdesk.app.scheduled_jobs import Housekeeping
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.gateway.objects.inspections import due_steps, remind_inspections
from helpdesk.gateway.objects.object_import import ObjectChange, add_object
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.alert_tables import Alert, AlertDelivery
from helpdesk.store.db import make_engine, new_session
from helpdesk.store.object_tables import InspectionReminder
from tests.workflow import Inbox, body

DUE = date(2027, 1, 31)
JANA, PETR = "jana@acme.example", "petr@provider.example"


class Clock:
    def __init__(self, day: date):
        self.now = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now

    def to(self, day: date) -> None:
        self.now = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)


def test_due_steps():
    assert due_steps(DUE, DUE - timedelta(days=31), (30, 7)) == []
    assert due_steps(DUE, DUE - timedelta(days=30), (30, 7)) == ["30"]
    assert due_steps(DUE, DUE - timedelta(days=5), (30, 7)) == ["30", "7"]
    assert due_steps(DUE, DUE, (30, 7)) == ["30", "7"]
    assert due_steps(DUE, DUE + timedelta(days=1), (30, 7)) == ["30", "7", "overdue"]


@pytest.fixture
def clock():
    return Clock(DUE - timedelta(days=40))


@pytest.fixture
def gw(make_settings, start_gateway, db, clock):
    gw = start_gateway(make_settings(), clock=clock)
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"], locale="cs")
        add_user(session, "Jana Nováková", [JANA], organization="Acme", locale="cs")
        add_user(session, "Petr Kowalski", [PETR], roles=("technician",), locale="pl")
        add_object(session, "Acme", "SRV-01", ObjectChange(name="Main server", interval=365, next_on=DUE,
                                                           clients=[JANA], technicians=[PETR]), clock())
    # The service's own first look is minutes after its start: the tests run the job themselves.
    return gw


def scheduler(gw, clock) -> Housekeeping:
    s = gw.settings
    rules = load_rules(s.rules)
    return Housekeeping(make_engine(s.database_url, s.db_busy_timeout_ms),
                        make_pipeline_context(s, lambda: rules, clock=clock), clock=clock)


def reminders(db) -> list[tuple[str, bool]]:
    with new_session(db.engine) as session:
        rows = session.execute(select(InspectionReminder.step, InspectionReminder.alert_id)
                               .order_by(InspectionReminder.sent_at, InspectionReminder.step)).all()
    return [(step, alert_id is not None) for step, alert_id in rows]


def test_each_step_once_in_each_language_also_after_a_restart(gw, db, sink, clock):
    inbox, job = Inbox(sink), scheduler(gw, clock)
    assert job.inspections_once() == 0  # 40 days before: nothing yet
    clock.to(DUE - timedelta(days=30))
    assert job.inspections_once() == 1
    mail = inbox.next(2)
    assert set(mail) == {JANA, PETR}
    assert "[OBJ SRV-01]" in mail[JANA].message["Subject"] and "za 30 dní" in body(mail[JANA])
    assert "za 30 dni" in body(mail[PETR]) and "Szanowni Państwo" in body(mail[PETR])
    assert job.inspections_once() == 0  # the same day again
    clock.to(DUE - timedelta(days=20))
    assert job.inspections_once() == 0
    restarted = scheduler(gw, clock)  # a new process: the rows, not memory, say what was sent
    clock.to(DUE - timedelta(days=7))
    assert restarted.inspections_once() == 1 and restarted.inspections_once() == 0
    assert "za 7 dní" in body(inbox.next(2)[JANA])
    clock.to(DUE + timedelta(days=1))
    assert restarted.inspections_once() == 1 and job.inspections_once() == 0
    overdue = inbox.next(2)
    assert "uplynul" in body(overdue[JANA])
    inbox.nothing_more()
    assert reminders(db) == [("30", True), ("7", True), ("overdue", True)]
    with new_session(db.engine) as session:
        alerts = session.execute(select(Alert.kind, Alert.level, Alert.initiator, Alert.object_id)
                                 .order_by(Alert.id)).all()
        emailed = session.execute(select(AlertDelivery.address).where(AlertDelivery.channel == "email")).scalars()
        assert sorted(emailed) == sorted([JANA, PETR] * 3)
    assert [a[:3] for a in alerts] == [("inspection-reminder", "important", "internal-service")] * 2 + [
        ("inspection-overdue", "important", "internal-service")]
    assert {a.object_id for a in alerts} == {1}


def test_a_new_object_due_soon_gets_only_the_most_urgent_step(gw, db, sink, clock):
    clock.to(DUE - timedelta(days=5))
    inbox = Inbox(sink)
    assert scheduler(gw, clock).inspections_once() == 1
    mail = inbox.next(2)
    assert "za 5 dní" in body(mail[JANA])
    assert reminders(db) == [("30", False), ("7", True)]
    inbox.nothing_more()


def test_recording_the_inspection_moves_the_next_reminders(gw, db, sink, clock):
    from helpdesk.store.objects import find_object, record_inspection
    inbox, job = Inbox(sink), scheduler(gw, clock)
    clock.to(DUE - timedelta(days=7))
    assert job.inspections_once() == 1
    inbox.next(2)
    with new_session(db.engine) as session, session.begin():
        obj = find_object(session.connection(), "srv-01")
        assert record_inspection(session, obj.id, inspected_on=DUE - timedelta(days=3), document_id=None,
                                 recorded_by=None, now=clock()) == DUE + timedelta(days=362)
    clock.to(DUE + timedelta(days=2))
    assert job.inspections_once() == 0  # the old due date is done with; no overdue
    inbox.nothing_more()


def test_two_instances_at_once_send_each_step_once(gw, db, sink, clock):
    """Two sessions on two engines run the pass at the same moment; the step's row decides."""
    clock.to(DUE - timedelta(days=7))
    s = gw.settings
    rules = load_rules(s.rules)
    ctx = make_pipeline_context(s, lambda: rules, clock=clock)
    engines = [make_engine(s.database_url, s.db_busy_timeout_ms) for _ in range(2)]
    barrier, sent, errors = threading.Barrier(2), [], []

    def run(engine):
        try:
            with new_session(engine) as session, session.begin():
                barrier.wait(5)
                sent.append(remind_inspections(session, ctx, clock().date()))
        except Exception as exc:  # a lock timeout on SQLite's one writer would show here
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for engine in engines:
        engine.dispose()
    assert not errors and sorted(sent) == [0, 1]
    inbox = Inbox(sink)
    inbox.next(2)
    inbox.nothing_more()
    assert reminders(db) == [("30", False), ("7", True)]
