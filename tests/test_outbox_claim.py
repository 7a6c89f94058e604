"""A dispatcher's claim: the rows that fell due first, abandoned leases among them, and a cost that
does not grow with the backlog (the claim walks ix_outbox_claim and stops after its batch).

Real databases; the plan checks ask each database how it would run the claim with a backlog.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.combined_inserts import OUTBOX_COLUMNS
from helpdesk.store.db import new_session
from helpdesk.store.models import Outbox
from helpdesk.store.outbox import CLAIM_SELECT, claim_due

LEASE = timedelta(minutes=5)


def _row(message_id: str, due, *, status="queued", channel="email", claimed_until=None, claimed_by=None) -> dict:
    return dict.fromkeys(OUTBOX_COLUMNS) | {
        "kind": "ack", "mail_from": "support@helpdesk.test", "rcpt_to": "jan@client.example", "raw": b"x",
        "status": status, "attempts": 0, "created_at": due, "queued_at": due, "next_attempt_at": due,
        "channel": channel, "message_id": message_id, "claimed_until": claimed_until, "claimed_by": claimed_by}


def _insert(engine, rows: list[dict]) -> dict[str, int]:
    with engine.begin() as conn:
        conn.execute(Outbox.__table__.insert(), rows)
        return dict(conn.execute(text("SELECT message_id, id FROM outbox")).all())


def _claim(engine, now, limit: int) -> list[int]:
    with new_session(engine) as session, session.begin():
        return [mail.id for mail in claim_due(session, now, limit, LEASE)]


def test_a_claim_takes_the_rows_that_fell_due_first_with_abandoned_leases_among_them(engine):
    now = utcnow()
    ids = _insert(engine, [
        _row("late", now - timedelta(seconds=10)),
        _row("early", now - timedelta(minutes=3)),
        _row("future", now + timedelta(minutes=1)),        # backing off: not yet
        _row("sms", now - timedelta(hours=1), channel="sms"),  # the SMS dispatcher's
        _row("abandoned", now - timedelta(minutes=2), status="sending", claimed_until=now - timedelta(seconds=1)),
        _row("leased", now - timedelta(hours=2), status="sending", claimed_until=now + timedelta(minutes=1)),
        _row("tie-a", now - timedelta(seconds=30)), _row("tie-b", now - timedelta(seconds=30)),
    ])
    assert _claim(engine, now, 3) == [ids["early"], ids["abandoned"], ids["tie-a"]]
    assert _claim(engine, now, 10) == [ids["tie-b"], ids["late"]]
    assert _claim(engine, now, 10) == []
    # Two minutes on, the other lease has run out too; the claims taken above are still leased.
    assert _claim(engine, now + timedelta(minutes=2), 10) == [ids["leased"], ids["future"]]


def _plan_with_backlog(engine, backlog: int) -> list[str]:
    now = utcnow()
    _insert(engine, [_row(f"<{n}@bench>", now - timedelta(seconds=n)) for n in range(backlog)]
            + [_row(f"<s{n}@bench>", now - timedelta(seconds=n), status="sending", claimed_until=now + LEASE)
               for n in range(20)])
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE outbox")
        return CLAIM_SELECT.explain(conn, {"now": now, "live_since": now, "me": None, "channel": "email",
                                           "limit": 50})


def test_the_claim_walks_the_index_in_due_order_instead_of_sorting_the_backlog(engine):
    plan = _plan_with_backlog(engine, 3000)
    if engine.dialect.name == "sqlite":
        # (id, parent, _, detail): both parts search the index; only the outer merge of at most
        # twice the batch is sorted (its parent is the top level, 0).
        assert sum("SEARCH outbox USING INDEX ix_outbox_claim" in line for line in plan) == 2, plan
        sorts = [line for line in plan if "TEMP B-TREE" in line]
        assert len(sorts) == 1 and sorts[0].split()[1] == "0", plan
    else:
        scans = [n for n, line in enumerate(plan) if "Index Scan using ix_outbox_claim" in line]
        assert len(scans) == 2, plan
        # Under each part's Limit and LockRows the index scan itself: no Sort of the due rows.
        for n in scans:
            assert "LockRows" in plan[n - 1] and "Limit" in plan[n - 2], plan
