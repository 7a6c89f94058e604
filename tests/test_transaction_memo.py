"""A read remembered for its transaction: read once in it, read afresh in the next."""

from __future__ import annotations

from sqlalchemy import text

from helpdesk.store.transaction_memo import remembered


def test_a_read_is_made_once_per_transaction_and_key(db):
    reads = []

    def read(value):
        reads.append(value)
        return value

    with db.engine.begin() as conn:
        assert remembered(conn, "a", lambda: read(1)) == 1
        assert remembered(conn, "a", lambda: read(2)) == 1  # remembered
        assert remembered(conn, "b", lambda: read(3)) == 3  # another key
        with conn.begin_nested():  # a savepoint is still the same transaction
            assert remembered(conn, "a", lambda: read(4)) == 1
    with db.engine.begin() as conn:
        assert remembered(conn, "a", lambda: read(5)) == 5  # a new transaction reads again
    assert reads == [1, 3, 5]


def test_without_a_transaction_every_call_reads(db):
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1")).all()
        conn.rollback()  # autobegun transaction ended: none now
        assert conn.get_transaction() is None
        assert [remembered(conn, "a", lambda v=v: v) for v in (1, 2)] == [1, 2]
