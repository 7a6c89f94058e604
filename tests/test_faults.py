"""Machine-reported faults end to end: a client's monitoring system mails the real listener; storms
are counted on one ticket per fingerprint, recoveries resolve, flapping reopens, and a fault back
after the window gets a new ticket. Only the clock is moved."""

from __future__ import annotations

import json
import smtplib
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

from helpdesk.gateway.accounts.directory import add_org
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rules import parse_rules
from helpdesk.store.account_tables import Organization
from helpdesk.store.alert_tables import Alert
from helpdesk.store.db import new_session
from helpdesk.store.models import Ticket
from helpdesk.store.object_tables import ClientObject, Fault, ObjectEvent
from tests.clock import MovableClock
from tests.conftest import REPO
from tests.mail import wait_until
from tests.workflow import ANNA, PETR, Inbox, add_team

OBJECT_RULES = REPO / "tests" / "rules" / "objects.yaml"
ZABBIX = "zabbix@client.example"
# What a trusted MX writes for mail it verified: makes a fresh staff mail (not a reply) act.
PASS = "mx.helpdesk.test; dkim=pass header.d=provider.example; dmarc=pass header.from=provider.example"
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday


class Clock(MovableClock):
    def __init__(self):
        super().__init__(T0)


def add_objects(engine, *objects: tuple[str, bool]) -> dict[str, int]:
    """The workflow team, and objects (identifier, critical) of its client organization; identifier -> id."""
    add_team(engine)
    with new_session(engine) as session, session.begin():
        org_id = session.execute(select(Organization.id).where(Organization.name == "Klient Sp. z o.o.")).scalar()
        rows = [ClientObject(organization_id=org_id, identifier=i, name=f"object {i}", critical=c) for i, c in objects]
        session.add_all(rows)
        session.flush()
        return {r.identifier: r.id for r in rows}


def monitoring_mail(state: str, problem: str, host: str, sender: str = ZABBIX) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Zabbix <{sender}>", "support@helpdesk.test"
    msg["Subject"] = f"{state}: {problem} on {host}"
    msg["Message-ID"] = make_msgid(domain="client.example")
    msg.set_content(f"Trigger: {problem}\nHost: {host}\nSeverity: High\n")
    return msg


def send_all(port: int, messages: list[EmailMessage]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for msg in messages:
            smtp.send_message(msg)


def faults(engine) -> dict[str, Fault]:
    with new_session(engine) as session:
        return {f.fingerprint: f for f in session.execute(select(Fault)).scalars()}


def ticket_row(engine, number: int) -> Ticket:
    with new_session(engine) as session:
        return session.get(Ticket, number)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fault_gateway(make_settings, start_gateway, db, clock):
    gw = start_gateway(make_settings(rules=OBJECT_RULES, trusted_authserv_ids="mx.helpdesk.test"), clock=clock)
    add_objects(db.engine, ("SRV-01", False), ("SRV-02", False))
    return gw


def test_a_storm_makes_one_ticket_and_one_notification_per_fingerprint(fault_gateway, sink, db):
    storm = [monitoring_mail("PROBLEM", problem, host) for _ in range(15)
             for problem, host in (("Disk full", "SRV-01"), ("CPU load", "SRV-01"), ("Disk full", "SRV-02"))]
    senders = [threading.Thread(target=send_all, args=(fault_gateway.port, storm[i::3])) for i in range(3)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    db.processed(45, timeout=30)
    tickets = db.tickets()
    assert len(tickets) == 3
    found = faults(db.engine)
    assert sorted(found) == ["zabbix-client/SRV-01/cpu load", "zabbix-client/SRV-01/disk full",
                             "zabbix-client/SRV-02/disk full"]
    assert [f.occurrences for f in found.values()] == [15, 15, 15]
    assert {f.ticket_id for f in found.values()} == {t["number"] for t in tickets}
    # both technicians hear of each new ticket once; the monitoring address is never answered
    inbox = Inbox(sink)
    inbox.next(6)
    inbox.nothing_more(db)
    assert all(m.rcpt_tos[0] in (ANNA, PETR) for m in sink.messages)
    # one article per ticket: the repeats are counts, not articles
    for t in tickets:
        detail = db.ticket(t["number"])
        assert len(detail["articles"]) == 1
        assert any(e["kind"] == "reply-suppressed" and "machine-reported" in e["detail"] for e in detail["events"])
    # linked to the object named in the subject
    by_fp = {fp: ticket_row(db.engine, f.ticket_id).object_id for fp, f in found.items()}
    assert by_fp["zabbix-client/SRV-01/disk full"] == by_fp["zabbix-client/SRV-01/cpu load"] is not None
    assert by_fp["zabbix-client/SRV-02/disk full"] not in (None, by_fp["zabbix-client/SRV-01/disk full"])


def test_recovery_resolves_flapping_reopens_and_a_late_failure_opens_a_new_ticket(fault_gateway, sink, db, clock):
    inbox, port = Inbox(sink), fault_gateway.port
    send_all(port, [monitoring_mail("PROBLEM", "Disk full", "SRV-01")])
    inbox.next(2)
    (ticket,) = db.tickets()
    number = ticket["number"]

    clock.at(minutes=10)
    send_all(port, [monitoring_mail("RESOLVED", "Disk full", "SRV-01")])
    db.processed(2)
    assert ticket_row(db.engine, number).status == "resolved"
    (fault,) = faults(db.engine).values()
    assert fault.state == "recovered" and fault.recoveries == 1 and fault.recovered_at is not None
    inbox.nothing_more(db)  # the requester is the monitoring address: no resolved mail to it

    # back within 30 minutes of the recovery: the same ticket reopens, the technicians hear of it
    db.processed(2)
    clock.at(minutes=25)
    send_all(port, [monitoring_mail("PROBLEM", "Disk full", "SRV-01")])
    inbox.next(2)
    assert ticket_row(db.engine, number).status == "open" and db.ticket_count() == 1
    (fault,) = faults(db.engine).values()
    assert fault.state == "failing" and fault.occurrences == 2
    kinds = [e["kind"] for e in db.ticket(number)["events"]]
    assert "flapping" in kinds and "reopened" in kinds

    # recovers again, and fails again only after the window: a new ticket, counted from 1
    clock.at(minutes=30)
    send_all(port, [monitoring_mail("OK", "Disk full", "SRV-01")])
    db.processed(4)
    clock.at(minutes=90)
    send_all(port, [monitoring_mail("PROBLEM", "Disk full", "SRV-01")])
    inbox.next(2)
    assert db.ticket_count() == 2
    (fault,) = faults(db.engine).values()
    assert fault.ticket_id != number and fault.occurrences == 1 and fault.state == "failing"
    assert ticket_row(db.engine, number).status == "resolved"


def test_a_report_delivered_twice_is_counted_once(fault_gateway, sink, db):
    first, again = monitoring_mail("PROBLEM", "Disk full", "SRV-01"), monitoring_mail("PROBLEM", "Disk full", "SRV-01")
    send_all(fault_gateway.port, [first, again, first, again])  # a sender retrying after a lost 250
    db.processed(4)
    (fault,) = faults(db.engine).values()
    assert fault.occurrences == 2 and db.ticket_count() == 1
    assert [r.status for r in db.inbound()].count("duplicate") == 2


def test_a_recovery_of_no_known_fault_makes_no_ticket(fault_gateway, sink, db):
    send_all(fault_gateway.port, [monitoring_mail("RESOLVED", "Disk full", "SRV-01")])
    (row,) = db.processed(1)
    assert row.status == "processed" and db.ticket_count() == 0
    Inbox(sink).nothing_more(db)


def test_the_first_failure_records_the_object_history(fault_gateway, sink, db):
    send_all(fault_gateway.port, [monitoring_mail("PROBLEM", "Fan failure", "SRV-02")])
    Inbox(sink).next(2)
    with new_session(db.engine) as session:
        (event,) = session.execute(select(ObjectEvent)).scalars()
    assert event.kind == "ticket-linked" and "SRV-02" in event.text and event.ticket_id == db.tickets()[0]["number"]


def test_two_instances_on_one_database_make_one_ticket(make_settings, start_gateway, db, sink):
    settings = make_settings(rules=OBJECT_RULES)
    first, second = start_gateway(settings), start_gateway(make_settings(rules=OBJECT_RULES))
    add_objects(db.engine, ("SRV-01", False))
    storm = [monitoring_mail("PROBLEM", "Disk full", "SRV-01") for _ in range(20)]
    senders = [threading.Thread(target=send_all, args=(gw.port, storm[i::2])) for i, gw in enumerate((first, second))]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    db.processed(20, timeout=30)
    assert db.ticket_count() == 1
    (fault,) = faults(db.engine).values()
    assert fault.occurrences == 20
    inbox = Inbox(sink)
    inbox.next(2)
    inbox.nothing_more(db)


def test_unknown_sender_mail_is_not_machine_reported(fault_gateway, sink, db):
    msg = monitoring_mail("PROBLEM", "Disk full", "SRV-01", sender="jan@client.example")
    send_all(fault_gateway.port, [msg])
    wait_until(lambda: db.ticket_count() == 1)
    got = Inbox(sink).next(3)  # an ordinary ticket: Jan's acknowledgement and both technicians
    assert "jan@client.example" in got and not faults(db.engine)


BASE = "queues: {support: Support}\ndefault: {queue: support}\n"


@pytest.mark.parametrize("section, message", [
    ("monitoring:\n  - name: z\n    senders: [zabbix@x.example]\n    subject: '(?P<object>\\S+)'\n",
     "objects.yaml:4:5: monitoring 'z': subject or body needs a (?P<problem>...) group"),
    ("monitoring:\n  - name: z\n    senders: [zabbix@x.example]\n    subject: '(?P<problem>['\n",
     "objects.yaml:6:14: subject is not a valid regular expression"),
    ("monitoring:\n  - name: z\n    senders: [not an address]\n    subject: '(?P<problem>.+) (?P<object>.+)'\n",
     "objects.yaml:5:14: sender 'not an address' is neither an address"),
    ("monitoring:\n  - name: z\n    senders: [z@x.example]\n    subject: '(?P<problem>.+) (?P<host>.+)'\n",
     "objects.yaml:6:14: subject: unknown named group(s) host"),
    ("monitoring:\n  - name: z\n    senders: [z@x.example]\n    object: SRV-1\n    subject: '(?P<problem>.+)'\n"
     "    flapping_minutes: soon\n", "objects.yaml:8:23: flapping_minutes must be whole minutes"),
    ("rules:\n  - name: r\n    then: {object: 'a b'}\n", "objects.yaml:5:20: object 'a b': an identifier"),
])
def test_bad_monitoring_and_object_rules_name_line_and_column(section, message):
    with pytest.raises(UserError) as caught:
        parse_rules(BASE + section, "objects.yaml")
    assert message in str(caught.value)


def test_the_repository_rules_file_declares_harmless_monitoring_examples():
    rules = parse_rules((REPO / "rules.yaml").read_text(), "rules.yaml")
    names = [r.name for r in rules.monitoring.rules]
    assert {"zabbix", "nagios", "alertmanager", "script"} <= {n.split("-")[0] for n in names}
    zabbix = next(r for r in rules.monitoring.rules if r.name.startswith("zabbix"))
    report = zabbix.read("Problem: Disk space is low on SRV-01", "")
    assert report is not None and report.object_identifier == "SRV-01" and not report.recovery


def test_an_unproven_recovery_is_recorded_but_does_not_resolve(fault_gateway, sink, db):
    """Without trust_unproven a "RECOVERY" resolves only mail a trusted host verified: a From line
    alone must not close someone's outage; a proven one does."""
    inbox, port = Inbox(sink), fault_gateway.port
    host = "nms@nagios.client.example"
    send_all(port, [monitoring_mail("PROBLEM", "HTTP", "SRV-01", sender=host)])
    inbox.next(2)
    (ticket,) = db.tickets()
    send_all(port, [monitoring_mail("RECOVERY", "HTTP", "SRV-01", sender=host)])
    db.processed(2)
    assert ticket_row(db.engine, ticket["number"]).status == "new"
    assert any(e["kind"] == "recovery-unproven" for e in db.ticket(ticket["number"])["events"])
    send_all(port, [monitoring_mail("PROBLEM", "HTTP", "SRV-01", sender=host)])  # flaps: same ticket
    proven = monitoring_mail("RECOVERY", "HTTP", "SRV-01", sender=host)
    proven["Authentication-Results"] = ("mx.helpdesk.test; dkim=pass header.d=nagios.client.example; "
                                        "dmarc=pass header.from=nagios.client.example")
    send_all(port, [proven])
    db.processed(4)
    assert ticket_row(db.engine, ticket["number"]).status == "resolved" and db.ticket_count() == 1
    inbox.nothing_more(db)


def test_tickets_show_prints_the_counts(fault_gateway, sink, db, db_url):
    from tests.test_problems import cli

    send_all(fault_gateway.port, [monitoring_mail("PROBLEM", "Disk full", "SRV-01") for _ in range(4)])
    db.processed(4)
    (ticket,) = db.tickets()
    code, out, err = cli(db_url, "tickets", "show", str(ticket["number"]))
    assert code == 0, err
    assert "fault zabbix-client/SRV-01/disk full: failing, 4 occurrence(s)" in out
    code, out, _ = cli(db_url, "tickets", "show", str(ticket["number"]), "--json")
    (fault,) = json.loads(out)["faults"]
    assert fault["occurrences"] == 4 and fault["recoveries"] == 0


def test_a_report_naming_another_clients_object_is_not_linked_to_it(fault_gateway, sink, db):
    """zabbix@client.example is Klient's: its (unproven) mail naming Other's critical NAS-9 must not
    make Other's ticket, put it on a 24/7 clock or raise an urgent alert to Other's people."""
    with new_session(db.engine) as session, session.begin():
        add_org(session, "Other Ltd", ["other.example"], locale="en")
        other = session.execute(select(Organization.id).where(Organization.name == "Other Ltd")).scalar()
        session.add(ClientObject(organization_id=other, identifier="NAS-9", name="other's", critical=True))
    send_all(fault_gateway.port, [monitoring_mail("PROBLEM", "Disk full", "NAS-9")])
    Inbox(sink).next(2)  # the technicians hear of it as of any new fault
    (ticket,) = db.tickets()
    assert ticket_row(db.engine, ticket["number"]).object_id is None
    with new_session(db.engine) as session:
        assert session.execute(select(Alert)).first() is None and session.execute(select(ObjectEvent)).first() is None


def test_a_recovery_word_counts_only_as_a_whole_word():
    """Without a state group the recovery pattern is looked for in the subject: "UP" must not be
    found in "BACKUP", or a failure would resolve its own ticket."""
    rules = parse_rules(BASE + "monitoring:\n  - name: script\n    senders: [cron@x.example]\n"
                        "    subject: '(?P<problem>\\S+) (?:failed|is up) on (?P<object>\\S+)'\n"
                        "    recovery: 'UP|OK'\n", "objects.yaml")
    (rule,) = rules.monitoring.rules
    assert rule.read("BACKUP failed on SRV-01", "").recovery is False
    assert rule.read("BOOKING failed on SRV-01", "").recovery is False
    assert rule.read("HTTP is up on SRV-01", "").recovery is True


def test_a_nagios_host_alert_is_one_fault_of_the_object_itself():
    """The shipped Nagios entry's problem group is empty for a host alert: still one fingerprint,
    so a host reported down again and again makes one ticket, and its recovery finds it."""
    rules = parse_rules((REPO / "rules.yaml").read_text(), "rules.yaml")
    nagios = next(r for r in rules.monitoring.rules if r.name.startswith("nagios"))
    down = nagios.read("** PROBLEM Host Alert: SRV-01 is DOWN **", "")
    up = nagios.read("** RECOVERY Host Alert: SRV-01 is UP **", "")
    service = nagios.read("** PROBLEM Service Alert: SRV-01/HTTP is CRITICAL **", "")
    assert down is not None and up is not None and service is not None
    assert down.fingerprint == up.fingerprint != service.fingerprint
    assert not down.recovery and up.recovery and service.problem == "HTTP"
