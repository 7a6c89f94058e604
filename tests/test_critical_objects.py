"""Tickets about clients' objects, over the real listener: the tag anywhere, a bare identifier only
in the subject, a rule's `object:`, never another organization's object; a critical object's
ticket is timed 24/7 although the contract's profile keeps office hours, and its alert is urgent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.alert_tables import Alert
from helpdesk.store.db import new_session
from helpdesk.store.object_tables import ObjectEvent
from tests.mail import client_mail, send, wait_until
from tests.test_faults import OBJECT_RULES, T0, Clock, add_objects, ticket_row
from tests.workflow import JAN


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def objects(make_settings, start_gateway, db, clock):
    gw = start_gateway(make_settings(rules=OBJECT_RULES), clock=clock)
    ids = add_objects(db.engine, ("SRV-01", True), ("SRV-02", False), ("NAS-7", False))
    return gw, ids


def _ticket_of(gw, db, **mail) -> int:
    before = db.ticket_count()
    send(gw.port, client_mail(**mail))
    wait_until(lambda: db.ticket_count() == before + 1 and all(r.status != "pending" for r in db.inbound()))
    return max(t["number"] for t in db.tickets())


def _alerts(engine) -> list[Alert]:
    with new_session(engine) as session:
        return list(session.execute(select(Alert).order_by(Alert.id)).scalars())


def test_a_critical_objects_ticket_runs_24_7_and_raises_an_urgent_alert(objects, db):
    gw, ids = objects
    number = _ticket_of(gw, db, subject="[OBJ SRV-01] Disk errors", sender=f"Jan <{JAN}>")
    ticket = ticket_row(db.engine, number)
    assert ticket.object_id == ids["SRV-01"]
    assert ticket.sla_profile == "office+24/7"
    assert as_utc(ticket.resolution_due_at) == T0 + timedelta(hours=24)  # every hour counts
    (alert,) = _alerts(db.engine)
    assert alert.level == "urgent" and alert.ticket_id == number and alert.initiator == "external-client"
    assert "critical object SRV-01" in alert.text
    with new_session(db.engine) as session:
        (event,) = session.execute(select(ObjectEvent)).scalars()
    assert event.object_id == ids["SRV-01"] and event.ticket_id == number and "tagged" in event.text
    assert any(e["kind"] == "object" and "critical" in e["detail"] for e in db.ticket(number)["events"])


def test_an_ordinary_objects_ticket_keeps_office_hours_and_no_alert(objects, db):
    gw, ids = objects
    number = _ticket_of(gw, db, subject="SRV-02 is slow", sender=f"Jan <{JAN}>")
    ticket = ticket_row(db.engine, number)
    assert ticket.object_id == ids["SRV-02"] and ticket.sla_profile == "office"
    # Wednesday 09:00 + 24 working hours of 08:00-17:00 on weekdays (8 + 9 + 7): Friday 15:00
    assert as_utc(ticket.resolution_due_at) == T0 + timedelta(days=2, hours=6)
    assert _alerts(db.engine) == []


@pytest.mark.parametrize("mail, expected", [
    ({"subject": "Backup report", "body": "Nightly backup.\n", "sender": "backup@client.example"}, "NAS-7"),
    ({"subject": "Slow disks", "body": "Please look at [OBJ srv-02] today.\n"}, "SRV-02"),
    ({"subject": "Question", "body": "Our SRV-02 is slow.\n"}, None),           # bare, in the body: no
    ({"subject": "Order of SRV-01 and SRV-02 parts"}, None),                    # two objects: which one?
    ({"subject": "[OBJ SRV-01] Disk errors", "sender": "eve@stranger.example"}, None),  # not her organization
    ({"subject": "[OBJ SRV-99] Unknown"}, None),
])
def test_which_mail_names_which_object(objects, db, mail, expected):
    gw, ids = objects
    number = _ticket_of(gw, db, **mail)
    assert ticket_row(db.engine, number).object_id == (ids[expected] if expected else None)


def test_a_bad_object_rule_is_refused_with_line_and_column(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text(OBJECT_RULES.read_text().replace("then: {object: NAS-7}", "then: {object: 'NAS 7'}"))
    with pytest.raises(Exception) as caught:
        load_rules(bad)
    assert f"{bad}:9:20: object 'NAS 7'" in str(caught.value)
