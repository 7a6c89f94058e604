"""`helpdesk tickets list` over a real database: pages that say when they are cut, every filter, one line
for every bad value, and a constant number of SQL statements whatever the page size."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from helpdesk.gateway.accounts.directory import add_org, add_user
from helpdesk.store.account_tables import Queue
from helpdesk.store.db import new_session
from helpdesk.store.models import Ticket
from helpdesk.store.queries import TicketFilter, list_tickets, ticket_page
from tests.conftest import free_port
from tests.list_cli import in_process_cli
from tests.service import run_helpdesk, service_env

COUNT = 230
START = datetime(2026, 3, 1, tzinfo=UTC)  # ticket i is created START + i hours
REQUESTERS = ("jan@acme.example", "eva@beta.example", "ola@acme.example")
QUEUES = ("general", "printers")
PRIORITIES = ("normal", "high", "low", "normal", "highest")
STATUSES = ("new", "open", "pending", "resolved", "closed", "open", "new")


def spec(i: int) -> dict:
    """What ticket i (0-based, created in this order) is, so the tests can compute what they expect."""
    return {"requester": REQUESTERS[i % 3], "queue": QUEUES[i % 2], "priority": PRIORITIES[i % 5],
            "status": STATUSES[i % 7], "assignee": "petr@provider.example" if i % 4 == 0 else None,
            "created_at": START + timedelta(hours=i), "org": "Beta" if i % 3 == 1 else "Acme"}


@pytest.fixture
def helpdesk(db_url, monkeypatch):
    return in_process_cli(db_url, monkeypatch)


@pytest.fixture
def tickets(engine):
    """COUNT tickets of three requesters in two organizations; returns ticket numbers by index."""
    with new_session(engine) as session, session.begin():
        add_org(session, "Acme", ["acme.example"])
        add_org(session, "Beta", ["beta.example"])
        people = {address: add_user(session, address.split("@")[0], [address],
                                    organization="Beta" if "beta" in address else "Acme") for address in REQUESTERS}
        people["petr@provider.example"] = add_user(session, "Petr", ["petr@provider.example"], roles=("technician",))
        session.add_all([Queue(name=name, title=name) for name in QUEUES if name != "general"])
        session.flush()
        session.execute(insert(Ticket), [
            {"subject": f"Ticket {i}", "status": s["status"], "priority": s["priority"], "queue": s["queue"],
             "requester_id": people[s["requester"]].id, "created_at": s["created_at"], "updated_at": s["created_at"],
             "assignee_id": people[s["assignee"]].id if s["assignee"] else None}
            for i, s in enumerate(map(spec, range(COUNT)))])
        by_subject = dict(session.execute(select(Ticket.subject, Ticket.id)).all())
        return [by_subject[f"Ticket {i}"] for i in range(COUNT)]


def newest_first(numbers: list[int], keep) -> list[int]:
    return sorted((numbers[i] for i in range(COUNT) if keep(spec(i))), reverse=True)


def listed(helpdesk, *args: str) -> tuple[list[int], str]:
    run = helpdesk("tickets", "list", "--json", *args)
    assert run.code == 0, run.err
    return [row["number"] for row in json.loads(run.out)], run.err.strip()


def test_a_page_at_a_time_with_a_notice_when_cut(helpdesk, tickets):
    everything = newest_first(tickets, lambda s: True)
    page, notice = listed(helpdesk)
    assert page == everything[:50]
    assert notice == "showing 50 of 230 tickets; --offset 50 for the next page"
    page, notice = listed(helpdesk, "--offset", "50")
    assert page == everything[50:100]
    assert notice == "showing 51-100 of 230 tickets; --offset 100 for the next page"
    page, notice = listed(helpdesk, "--offset", "200", "--limit", "100")
    assert page == everything[200:] and notice == "showing 201-230 of 230 tickets"
    page, notice = listed(helpdesk, "--limit", "1000")
    assert page == everything and notice == ""  # the whole list: nothing to say
    page, notice = listed(helpdesk, "--offset", "400")
    assert page == [] and notice == "showing none of 230 tickets: --offset 400 is past the end"

    (row,) = json.loads(helpdesk("tickets", "list", "--json", "--limit", "1").out)  # what scripts read
    newest = spec(COUNT - 1)
    assert row == {"number": tickets[-1], "subject": f"Ticket {COUNT - 1}", "status": newest["status"],
                   "priority": newest["priority"], "queue": newest["queue"], "requester": newest["requester"],
                   "assignee": newest["assignee"], "organization": newest["org"],
                   "created_at": row["created_at"], "updated_at": row["updated_at"]}
    assert datetime.fromisoformat(row["created_at"]).replace(tzinfo=UTC) == newest["created_at"]
    table = helpdesk("tickets", "list", "--limit", "2")  # the table, for a person: the notice still on stderr
    assert table.code == 0 and "Ticket 229" in table.out and "Ticket 227" not in table.out
    assert table.err == "showing 2 of 230 tickets; --offset 2 for the next page\n"


FILTERS = [
    (("--queue", "printers"), lambda s: s["queue"] == "printers"),
    (("--assignee", "Petr@Provider.example"), lambda s: s["assignee"] == "petr@provider.example"),
    (("--requester", "eva@beta.example"), lambda s: s["requester"] == "eva@beta.example"),
    (("--org", "acme"), lambda s: s["org"] == "Acme"),
    (("--priority", "high"), lambda s: s["priority"] == "high"),
    (("--status", "closed"), lambda s: s["status"] == "closed"),
    (("--since", "2026-03-05", "--until", "2026-03-05"), lambda s: s["created_at"].day == 5),  # that whole day
    (("--since", "2026-03-05T12:00+02:00"), lambda s: s["created_at"] >= datetime(2026, 3, 5, 10, tzinfo=UTC)),
    (("--until", "2026-03-02T06:30"), lambda s: s["created_at"] < datetime(2026, 3, 2, 6, 30, tzinfo=UTC)),
    (("--org", "Acme", "--status", "open", "--queue", "general"),
     lambda s: (s["org"], s["status"], s["queue"]) == ("Acme", "open", "general")),
]

BAD_VALUES = [
    (("--limit", "0"), "--limit: expected a whole number from 1 to 100000, got '0'"),
    (("--limit", "lots"), "--limit: expected a whole number"),
    (("--offset", "-5"), "--offset: expected a whole number from 0"),
    (("--since", "yesterday"), "--since: expected a date like 2026-01-31"),
    (("--until", "2026-13-01"), "--until: expected a date like"),
    (("--since", "2026-03-05", "--until", "2026-03-01"), "--since: '2026-03-05' is not before --until"),
    (("--status", "bogus"), "--status: unknown status 'bogus'"),
    (("--priority", "urgent"), "--priority: unknown priority 'urgent' (one of lowest, low, normal"),
    (("--queue", "nowhere"), "--queue: unknown queue 'nowhere'"),
    (("--assignee", "nobody@provider.example"), "--assignee: unknown user 'nobody@provider.example'"),
    (("--requester", "not an address"), "--requester: unknown user"),
    (("--org", "Gamma"), "--org: unknown organization 'Gamma'"),
]


def test_each_filter(helpdesk, tickets):
    for args, keep in FILTERS:
        expected = newest_first(tickets, keep)
        assert 5 < len(expected) < COUNT, args
        assert listed(helpdesk, *args, "--limit", "1000") == (expected, ""), args
        # Under a filter the page and the count are of the matching tickets.
        assert listed(helpdesk, *args, "--limit", "5") == (
            expected[:5], f"showing 5 of {len(expected)} tickets; --offset 5 for the next page"), args


def test_bad_values_are_one_line(helpdesk):
    for args, needle in BAD_VALUES:
        run = helpdesk("tickets", "list", *args)
        run.one_line_error(needle)
        assert run.code == 2, args


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # about the process's streams, not the database
def test_the_installed_command_keeps_json_clean(db_url, tickets):
    """Through the real executable: stdout is one JSON document, the notice goes to stderr."""
    env = service_env(db_url, free_port(), None)
    result = run_helpdesk(["tickets", "list", "--json", "--limit", "3"], env, installed=True)
    assert result.returncode == 0
    assert len(json.loads(result.stdout)) == 3
    assert result.stderr.decode().strip() == "showing 3 of 230 tickets; --offset 3 for the next page"


def statements_for(engine, read) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        with new_session(engine) as session, session.begin():
            read(session)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])


def test_a_page_costs_the_same_statements_whatever_its_size(engine, tickets):
    everything = TicketFilter()
    small = statements_for(engine, lambda s: ticket_page(s, everything, 5))
    large = statements_for(engine, lambda s: ticket_page(s, everything, 200))
    assert small == large == 2  # the page and the count
    assert statements_for(engine, lambda s: ticket_page(s, everything, 1000)) == 1  # whole: no count needed
    assert statements_for(engine, lambda s: list_tickets(s, limit=5)) == \
        statements_for(engine, lambda s: list_tickets(s, limit=200))
