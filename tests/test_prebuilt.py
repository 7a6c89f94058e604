"""A prebuilt statement writes exactly what SQLAlchemy Core writes, on both databases."""

from __future__ import annotations

from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, bindparam, func, insert, select, text, update

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store.models import Outbox
from helpdesk.store.prebuilt import Prebuilt

_outbox = Outbox.__table__


def _row(now, **changes) -> dict:
    return {"ticket_id": None, "kind": "reply", "mail_from": "support@helpdesk.test", "rcpt_to": "jan@client.example",
            "message_id": f"<{changes.get('n', 0)}@helpdesk.test>", "raw": b"\x00raw\r\n", "created_at": now,
            "queued_at": now, "next_attempt_at": now, "status": "queued", "attempts": 0,
            **{k: v for k, v in changes.items() if k != "n"}}


def _stored(conn, row_id) -> tuple:
    values = conn.execute(select(_outbox).where(_outbox.c.id == row_id)).one()._asdict()
    raw_text = conn.execute(text("SELECT created_at, channel FROM outbox WHERE id = :id"), {"id": row_id}).one()
    return {k: v for k, v in values.items() if k not in ("id", "message_id")}, tuple(raw_text)


def test_an_insert_stores_the_same_values_and_defaults_as_core(engine):
    now, prebuilt = utcnow(), Prebuilt(insert(_outbox).returning(_outbox.c.id))
    with engine.begin() as conn:
        by_core = conn.execute(insert(_outbox).returning(_outbox.c.id), _row(now, n=1)).scalar_one()
        by_prebuilt = prebuilt.scalar(conn, _row(now, n=2))
        assert by_prebuilt == by_core + 1
        assert _stored(conn, by_prebuilt) == _stored(conn, by_core)  # the default channel, the datetime's text


def test_executemany_and_updates_by_name(engine):
    now = utcnow()
    with engine.begin() as conn:
        Prebuilt(insert(_outbox)).executemany(conn, [_row(now, n=i) for i in range(3)])
        mark = Prebuilt(update(_outbox).where(_outbox.c.message_id == bindparam("mid")).values(status="sent"))
        assert mark.execute(conn, {"mid": "<1@helpdesk.test>"}) == 1
        statuses = conn.execute(select(_outbox.c.message_id, _outbox.c.status).order_by(_outbox.c.id)).all()
    assert statuses == [("<0@helpdesk.test>", "queued"), ("<1@helpdesk.test>", "sent"), ("<2@helpdesk.test>", "queued")]


def test_a_datetime_bound_twice_is_converted_once_and_selects_as_core_does(engine):
    now = utcnow()
    due = (_outbox.c.next_attempt_at <= bindparam("now")) & (_outbox.c.created_at != bindparam("now"))
    query = select(_outbox.c.message_id).where(due).order_by(_outbox.c.id)
    with engine.begin() as conn:
        Prebuilt(insert(_outbox)).executemany(conn, [_row(now + timedelta(seconds=i - 1), n=i) for i in range(3)])
        by_core = conn.execute(query, {"now": now}).scalars().all()
        assert [row[0] for row in Prebuilt(query).all(conn, {"now": now})] == by_core
    assert by_core == ["<0@helpdesk.test>"]  # due, and not created at that very moment


# Its own metadata (not the gateway's tables): only compiled, never run.
_COMPUTED = Table("prebuilt_computed_default", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", DateTime, default=utcnow))


def test_a_computed_default_must_be_given(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="give at explicitly"):
        Prebuilt(insert(_COMPUTED)).execute(conn, {"id": 1})


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.utc])))
def test_sqlite_datetimes_as_text_the_quick_way_are_the_text_sqlalchemy_writes(value):
    from sqlalchemy.dialects import sqlite

    from helpdesk.store.prebuilt import _quicker
    column_type = _outbox.c.created_at.type
    slow = column_type._cached_bind_processor(sqlite.dialect())
    assert _quicker(column_type, "sqlite", slow)(value) == slow(value)
    assert _quicker(column_type, "sqlite", slow)(value.replace(microsecond=0)) == slow(value.replace(microsecond=0))


def test_a_new_database_connection_gets_its_own_cursor(engine):
    """psycopg's cursor is kept with its connection: after that connection is lost (invalidated,
    as on a server restart) the next statement runs on a new one, not on the dead cursor."""
    count = Prebuilt(select(func.count()).select_from(_outbox))
    with engine.connect() as conn:
        assert count.scalar(conn, {}) == 0
        conn.rollback()
        conn.invalidate()
    with engine.begin() as conn:
        Prebuilt(insert(_outbox)).execute(conn, _row(utcnow()))
        assert count.scalar(conn, {}) == 1 and count.first(conn, {}) == (1,) and count.all(conn, {}) == [(1,)]
