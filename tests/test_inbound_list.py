"""`helpdesk inbound list` and `inbound quarantine list`: pages with a notice when cut, status and time
filters, one line for a bad value, and the raw bytes left in the database."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from helpdesk.store.db import new_session
from helpdesk.store.models import InboundMessage
from helpdesk.store.queries import inbound_page
from tests.list_cli import in_process_cli

COUNT = 64
START = datetime(2026, 4, 1, tzinfo=UTC)  # message i arrived START + i hours
STATUSES = ("processed", "processed", "quarantined", "duplicate", "processed", "dropped")


@pytest.fixture
def helpdesk(db_url, monkeypatch):
    return in_process_cli(db_url, monkeypatch)


@pytest.fixture
def stored(engine):
    """COUNT stored messages; returns their ids by index."""
    with new_session(engine) as session, session.begin():
        session.execute(insert(InboundMessage), [
            {"received_at": START + timedelta(hours=i), "envelope_from": f"sender{i}@client.example",
             "envelope_to": "support@helpdesk.test", "raw": b"Subject: x\r\n\r\n" + b"body\r\n" * 1000,
             "status": STATUSES[i % len(STATUSES)], "reason": "no usable sender" if i % 6 == 2 else None,
             "source": "smtp", "channel": "email", "attempts": 0} for i in range(COUNT)])
        by_sender = dict(session.execute(select(InboundMessage.envelope_from, InboundMessage.id)).all())
        return [by_sender[f"sender{i}@client.example"] for i in range(COUNT)]


def listed(helpdesk, *args: str) -> tuple[list[int], str]:
    run = helpdesk("inbound", *args, "--json")
    assert run.code == 0, run.err
    return [row["id"] for row in json.loads(run.out)], run.err.strip()


def newest_first(ids: list[int], keep) -> list[int]:
    return sorted((ids[i] for i in range(COUNT) if keep(i)), reverse=True)


def test_pages_filters_and_the_notice(helpdesk, stored):
    everything = newest_first(stored, lambda i: True)
    assert listed(helpdesk, "list") == (everything[:50], "showing 50 of 64 messages; --offset 50 for the next page")
    assert listed(helpdesk, "list", "--offset", "50") == (everything[50:], "showing 51-64 of 64 messages")
    quarantined = newest_first(stored, lambda i: STATUSES[i % 6] == "quarantined")
    assert listed(helpdesk, "list", "--status", "quarantined") == (quarantined, "")
    assert listed(helpdesk, "quarantine", "list", "--limit", "3") == (
        quarantined[:3], f"showing 3 of {len(quarantined)} quarantined messages; --offset 3 for the next page")
    on_the_second = newest_first(stored, lambda i: 24 <= i < 48)
    assert listed(helpdesk, "list", "--since", "2026-04-02", "--until", "2026-04-02") == (on_the_second, "")
    assert listed(helpdesk, "list", "--since", "2026-04-03T10:00Z") == (newest_first(stored, lambda i: i >= 58), "")

    run = helpdesk("inbound", "list", "--limit", "1", "--json")
    (row,) = json.loads(run.out)
    assert row == {"id": stored[-1], "received_at": row["received_at"], "source": "smtp",
                   "from": f"sender{COUNT - 1}@client.example", "status": STATUSES[(COUNT - 1) % 6],
                   "ticket": None, "reason": None}


def test_bad_values_are_one_line(helpdesk):
    for args, needle in [(("--status", "lost"), "--status: unknown status 'lost' (one of pending, processed"),
                         (("--limit", "-1"), "--limit: expected a whole number"),
                         (("--offset", "1.5"), "--offset: expected a whole number"),
                         (("--since", "April"), "--since: expected a date like 2026-01-31"),
                         (("--until", "2026-04-31"), "--until: expected a date")]:
        run = helpdesk("inbound", "list", *args)
        run.one_line_error(needle)
        assert run.code == 2, args
    helpdesk("inbound", "quarantine", "list", "--until", "soon").one_line_error("--until: expected a date")


def test_a_page_is_one_statement_without_the_raw_bytes(engine, stored):
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for size in (5, 60):
            with new_session(engine) as session, session.begin():
                inbound_page(session, None, None, None, size)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4  # each page and its count, whatever the page size
    assert not any(re.search(r"\braw\b", s) for s in selects)
