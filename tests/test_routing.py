"""Routing rules through real messages sent to the listener: each condition, action and strategy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk.gateway.accounts.contracts import add_contract
from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.gateway.accounts.queues import ensure_queues, find_queue, set_membership
from helpdesk.store.db import new_session
from tests.mail import Db, client_mail, send

HEAD = """
queues: {general: General, operations: Operations, printers: Printers}
categories: [error, wish, request]
business_hours: {timezone: Europe/Prague, hours: "08:00-17:00", days: [mon, tue, wed, thu, fri]}
default: {queue: general, priority: normal}
rules:
"""


@pytest.fixture
def routed(make_settings, start_gateway, sink, db, tmp_path):
    """Start a gateway with the given rules, send one message, return the ticket (or inbound row)."""
    def run(rules: str, mail=None, clock=None, **send_args):
        path = tmp_path / "rules.yaml"
        path.write_text(HEAD + rules)
        gw = start_gateway(make_settings(rules=path), clock)
        send(gw.port, mail or client_mail(), **send_args)
        (row,) = db.processed(1)
        return db.ticket(db.tickets()[0]["number"]) if row.status == "processed" else row
    return run


def setup_acme(db: Db) -> None:
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"], locale="en")
        add_contract(session, "Acme", "ACME-1", {"starts_on": "2020-01-01", "sla_profile": "gold"})


def rule(when: str, then: str = "{queue: operations}", name: str = "r") -> str:
    return f"  - name: {name}\n    when: {when}\n    then: {then}\n"


@pytest.mark.parametrize("when, mail_args, send_args, expect", [
    ("{sender: jan@client.example}", {}, {}, True),
    ("{sender: eva@client.example}", {}, {}, False),
    ("{sender_domain: client.example}", {"sender": "x@mail.client.example"}, {}, True),
    ("{recipient: support+printers@helpdesk.test}", {"to": "support+printers@helpdesk.test"},
     {"rcpt": ["support+printers@helpdesk.test"]}, True),
    ("{recipient: support+printers@helpdesk.test}", {}, {}, False),
    ("{subject: [printer, tiskárna]}", {"subject": "Moje TISKÁRNA je rozbitá"}, {}, True),
    ("{subject: {regex: '^urgent:'}}", {"subject": "URGENT: server down"}, {}, True),
    ("{subject: {regex: '^urgent:', case_sensitive: true}}", {"subject": "URGENT: server down"}, {}, False),
    ("{body: [compatible]}", {"body": "Is it compatible with Windows 11?\n"}, {}, True),
    ("{header: {name: X-Priority, value: '1'}}", {"X_Priority": "1 (Highest)"}, {}, True),
    ("{header: {name: X-Mailer}}", {"X_Mailer": "Outlook"}, {}, True),
    ("{header: {name: X-Mailer, regex: '^thunder'}}", {"X_Mailer": "Outlook"}, {}, False),
    ("{channel: email}", {}, {}, True),
    ("{channel: sms}", {}, {}, False),
    ("{language: pl}", {"subject": "Drukarka", "body": "Dzień dobry, drukarka nie działa, proszę o pomoc.\n"}, {},
     True),
    ("{language: cs}", {"body": "Hello, the printer does not work, please help.\n"}, {}, False),
    ("{any: [{sender: nobody@x.example}, {subject: printer}]}", {}, {}, True),
    ("{all: [{sender: jan@client.example}, {not: {subject: printer}}]}", {}, {}, False),
])
def test_each_condition(routed, when, mail_args, send_args, expect):
    ticket = routed(rule(when), client_mail(**mail_args), **send_args)
    assert (ticket["queue"] == "operations") is expect
    assert ticket["rule"] == ("r" if expect else "default")


def test_has_attachment(routed):
    mail = client_mail()
    mail.add_attachment(b"log line\n", maintype="text", subtype="plain", filename="app.log")
    assert routed(rule("{has_attachment: true}"), mail)["queue"] == "operations"


def test_organization_contract_and_sla(routed, db):
    setup_acme(db)
    when = "{all: [{organization: Acme}, {contract: ACME-1}, {sla: gold}]}"
    assert routed(rule(when), client_mail(sender="eva@acme.example"))["queue"] == "operations"


@pytest.mark.parametrize("moment, expect", [
    (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), True),     # Monday 10:00 in Prague
    (datetime(2026, 11, 23, 17, 30, tzinfo=UTC), False),  # Monday 18:30
    (datetime(2026, 11, 22, 9, 0, tzinfo=UTC), False),    # Sunday
])
def test_business_hours_with_a_mocked_clock(routed, moment, expect):
    assert (routed(rule("{business_hours: true}"), clock=lambda: moment)["queue"] == "operations") is expect


def test_overnight_time_window(routed):
    tuesday_0230 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    assert routed(rule("{time: {hours: '22:00-06:00', days: [mon]}}"), clock=lambda: tuesday_0230)["queue"] == \
        "operations"


def test_every_action_is_applied_and_continue_adds_up(routed):
    rules = (rule("{subject: printer}", "{priority: high, tags: [hardware]}", "first") +
             "    continue: true\n" +
             rule("{subject: printer}", "{queue: printers, category: error, tags: [printer], alert: important}",
                  "second") +
             rule("{subject: printer}", "{queue: operations}", "never"))
    ticket = routed(rules)
    assert ticket["rule"] == "first+second"
    assert (ticket["queue"], ticket["priority"], ticket["category"], ticket["alert_level"]) == \
        ("printers", "high", "error", "important")
    assert ticket["tags"] == ["hardware", "printer"]
    assert any("by rule first+second" in e["detail"] for e in ticket["events"])


def test_quarantine_action_keeps_the_message_aside(routed, db, sink):
    row = routed(rule("{header: {name: X-Spam-Flag, value: 'YES'}}", "{quarantine: spam}"),
                 client_mail(X_Spam_Flag="YES"))
    assert row.status == "quarantined" and row.reason == "rule r: spam"
    assert db.tickets() == [] and db.outbox() == []


def test_acknowledgement_template_chosen_by_rule(make_settings, start_gateway, sink, db, tmp_path):
    import shutil

    from tests.conftest import REPO
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (templates / "urgent-ack").mkdir()
    (templates / "urgent-ack" / "en.txt.j2").write_text(
        '{% extends "_layout.txt.j2" %}{% block subject %}{{ tag }} URGENT received{% endblock %}'
        '{% block body %}We are on it.{% endblock %}')
    rules = tmp_path / "rules.yaml"
    rules.write_text(HEAD + rule("{subject: down}", "{acknowledgement: urgent-ack}"))
    gw = start_gateway(make_settings(rules=rules, templates_dir=templates))
    send(gw.port, client_mail(subject="server down"))
    assert "URGENT received" in sink.wait_for(1)[0].message["Subject"]


def staff(db: Db, *names: str, queue: str = "operations", available=()) -> dict[str, int]:
    ids = {}
    with new_session(db.engine) as session, session.begin():
        ensure_queues(session, {"operations": "Operations"})
        for name in names:
            user = add_user(session, name, [f"{name}@provider.example"], roles=("technician",))
            set_membership(session, find_queue(session, queue), f"{name}@provider.example", member=True,
                           available=name not in available and None)
            ids[name] = user.id
    return ids


@pytest.mark.parametrize("strategy", ["dispatcher", "broadcast"])
def test_dispatcher_and_broadcast_leave_the_ticket_unassigned(routed, db, strategy):
    staff(db, "petr")
    ticket = routed(rule("{subject: printer}", f"{{queue: operations, assign: {strategy}}}"))
    assert ticket["assignee"] is None and ticket["assignment"] == strategy


def test_guarantor_gets_the_ticket(routed, db):
    setup_acme(db)
    staff(db, "petr", "marek")
    with new_session(db.engine) as session, session.begin():
        add_contract(session, "Acme", "ACME-2", {"starts_on": "2021-01-01", "guarantor": "marek@provider.example"})
    ticket = routed(rule("{sender_domain: acme.example}", "{queue: operations, assign: guarantor}"),
                    client_mail(sender="eva@acme.example"))
    assert ticket["assignee"] == "marek@provider.example"


def test_the_guarantor_gets_the_ticket_even_outside_the_queue_and_hears_of_it(routed, db, sink):
    setup_acme(db)
    staff(db, "marek")
    with new_session(db.engine) as session, session.begin():
        add_user(session, "Petr", ["petr@provider.example"], roles=("technician",))  # in no queue at all
        add_contract(session, "Acme", "ACME-2", {"starts_on": "2021-01-01", "guarantor": "petr@provider.example"})
    ticket = routed(rule("{sender_domain: acme.example}", "{queue: operations, assign: guarantor}"),
                    client_mail(sender="eva@acme.example"))
    assert ticket["assignee"] == "petr@provider.example"
    assert any("guarantor petr@provider.example of contract ACME-2, not a member of operations" in e["detail"]
               for e in ticket["events"])
    assert {r for m in sink.wait_for(2) for r in m.rcpt_tos} == {"eva@acme.example", "petr@provider.example"}


@pytest.mark.parametrize("away, why", [
    ("disabled", "petr@provider.example (contract ACME-2) is disabled"),
    ("unavailable", "petr@provider.example (contract ACME-2) is marked unavailable in operations"),
])
def test_an_unavailable_guarantor_is_not_assigned_and_the_ticket_says_why(routed, db, sink, away, why):
    from helpdesk.gateway.accounts.directory import edit_user, find_user

    setup_acme(db)
    staff(db, "petr", "marek", available=("petr",) if away == "unavailable" else ())
    with new_session(db.engine) as session, session.begin():
        add_contract(session, "Acme", "ACME-2", {"starts_on": "2021-01-01", "guarantor": "petr@provider.example"})
        if away == "disabled":
            edit_user(session, find_user(session, "petr@provider.example"), active=False)
    ticket = routed(rule("{sender_domain: acme.example}", "{queue: operations, assign: guarantor}"),
                    client_mail(sender="eva@acme.example"))
    assert ticket["assignee"] is None
    assert any(f"guarantor not assigned: {why}; left to the queue's dispatchers" in e["detail"]
               for e in ticket["events"])
    # the queue still hears of it (marek, its one available member)
    assert {r for m in sink.wait_for(2) for r in m.rcpt_tos} == {"eva@acme.example", "marek@provider.example"}


def test_round_robin_takes_turns_among_available_technicians(make_settings, start_gateway, sink, db, tmp_path):
    staff(db, "anna", "bert", "cyril", available=("bert",))
    with new_session(db.engine) as session, session.begin():
        set_membership(session, find_queue(session, "operations"), "bert@provider.example", available=False)
    path = tmp_path / "rules.yaml"
    path.write_text(HEAD + rule("{subject: printer}", "{queue: operations, assign: round-robin}"))
    gw = start_gateway(make_settings(rules=path))
    for i in range(4):
        send(gw.port, client_mail(sender=f"c{i}@client.example"))
        db.processed(i + 1)
    assignees = [t["assignee"] for t in sorted(db.tickets(), key=lambda t: t["number"])]
    assert assignees == ["anna@provider.example", "cyril@provider.example"] * 2


def test_least_loaded_picks_the_technician_with_fewest_open_tickets(routed, db):
    from sqlalchemy import insert

    from helpdesk.store.models import Ticket
    ids = staff(db, "anna", "bert")
    with new_session(db.engine) as session, session.begin():
        requester = add_user(session, "Old", ["old@client.example"])
        session.flush()
        now = datetime.now(UTC)
        session.execute(insert(Ticket), [dict(subject="old", requester_id=requester.id, assignee_id=ids["anna"],
                                              status="open", created_at=now, updated_at=now, tags="")])
    ticket = routed(rule("{subject: printer}", "{queue: operations, assign: least-loaded}"))
    assert ticket["assignee"] == "bert@provider.example"


def test_shipped_rules_file_is_valid_and_is_the_readme_example():
    from helpdesk.gateway.routing.rules import load_rules
    from helpdesk.outbound.render import Renderer
    from tests.conftest import REPO

    rules = load_rules(REPO / "rules.yaml", Renderer().kinds())
    assert {r.name for r in rules.rules} >= {"spam", "monitoring-alerts", "printers"}
    assert Path(REPO / "rules.yaml").read_text().strip() in (REPO / "README.md").read_text()


def test_a_rule_that_sets_no_queue_leaves_the_queue_to_the_default_or_the_mailbox():
    from helpdesk.gateway.routing.route import route
    from helpdesk.gateway.routing.routing_facts import RoutingFacts
    from helpdesk.gateway.routing.rules import parse_rules
    from helpdesk.inbound.parse import parse_mail

    rules = parse_rules(HEAD + rule("{subject: printer}", "{tags: [x]}", "tagger") + "    continue: true\n")
    mail = parse_mail(client_mail().as_bytes(), 1, None, ())
    decision = route(RoutingFacts(mail, datetime.now(UTC), rules.zone), rules)
    assert decision.rule == "tagger" and decision.queue == "general" and not decision.queue_from_rule
