"""The inbound_message table's one home: raw messages committed, claimed for processing, finished.

Intake commits here (SMTP, pipe, IMAP) before anyone is told "stored"; the processor claims
pending rows and records what became of each; the CLI looks at and releases quarantined ones.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import TempFail, database_error_line
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.statuses import InboundStatus
from helpdesk.store.models import InboundMessage
from helpdesk.store.prebuilt import Prebuilt

_inbound = InboundMessage.__table__


def store_raw(engine: Engine, items: list[RawInbound], timeout_ms: int = 5000) -> list[int]:
    """Insert and commit; returns the new ids. Raises TempFail when the database cannot take them.

    The wait for locks is bounded (SQLite busy_timeout, PostgreSQL lock/statement timeout), so a
    blocked database answers the sender with a 451 instead of leaving the connection hanging.
    """
    try:
        with engine.begin() as conn:
            bound_waits(conn, timeout_ms)
            return insert_raw(conn, items)
    except SQLAlchemyError as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: Exception) -> TempFail:
    """What the sender hears (451) when the database cannot take its message."""
    return TempFail(f"database unavailable: {database_error_line(exc)}")


INSERT_INBOUND = Prebuilt(insert(InboundMessage.__table__).returning(InboundMessage.__table__.c.id))


def bound_waits(conn: Connection, timeout_ms: int) -> None:
    """On PostgreSQL, give up on locks after timeout_ms (SQLite has busy_timeout for that)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout_ms)}")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms) * 2}")


def raw_rows(items: list[RawInbound]) -> list[dict]:
    """The inbound_message values of raw messages, pending, received now."""
    now = utcnow()
    return [{"raw": item.raw, "envelope_from": item.envelope_from, "envelope_to": ",".join(item.envelope_to),
             "source": item.source, "channel": item.channel, "received_at": now, "status": InboundStatus.PENDING,
             "attempts": 0} for item in items]


def insert_raw(conn: Connection, items: list[RawInbound]) -> list[int]:
    """Insert raw messages as pending in the caller's transaction; returns their ids in order."""
    return [INSERT_INBOUND.scalar(conn, values) for values in raw_rows(items)]




# What the processor claims and records (gateway/pipeline/processor.py).
# SQLite: the first pending rows, read outside the write transaction (one statement: no BEGIN).
PENDING_FIRST = Prebuilt(
    select(_inbound.c.id, _inbound.c.raw, _inbound.c.envelope_from, _inbound.c.envelope_to, _inbound.c.source)
    .where(_inbound.c.status == InboundStatus.PENDING).order_by(_inbound.c.id).limit(bindparam("limit")))
# SQLite: the same rows again under the write lock, by their id range (the caller keeps those it
# read: a row made pending meanwhile, by `inbound retry`, waits for the next batch). Every pending
# row up to the last one read was read, so the range adds no others.
CLAIM_RANGE = Prebuilt(
    select(_inbound.c.id, _inbound.c.attempts, _inbound.c.received_at, _inbound.c.channel)
    .where(_inbound.c.id.between(bindparam("first"), bindparam("last")), _inbound.c.status == InboundStatus.PENDING)
    .order_by(_inbound.c.id))
# PostgreSQL, several processing workers or instances: the next pending rows nobody has locked,
# except a message whose sender has an earlier one another worker is still processing (that one
# is locked, so it is not among ours). Without this rule a sender's second mail could be applied
# before its first: a reply before the mail that opens its ticket. It waits for the next claim.
# The null sender (bounces) has no order to keep. The status is written literally (see role_in).
PENDING_CLAIM = text("""
WITH mine AS MATERIALIZED (
    SELECT id FROM inbound_message WHERE status = 'pending' ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
SELECT m.id, m.raw, m.envelope_from, m.envelope_to, m.source, m.attempts, m.received_at, m.channel
FROM inbound_message m JOIN mine ON mine.id = m.id
WHERE coalesce(m.envelope_from, '') = '' OR NOT EXISTS (
    SELECT 1 FROM inbound_message earlier
    WHERE earlier.status = 'pending' AND earlier.envelope_from = m.envelope_from AND earlier.id < m.id
      AND earlier.id NOT IN (SELECT id FROM mine))
ORDER BY m.id""")
assert InboundStatus.PENDING == "pending"
CLAIM = (select(_inbound.c.id, _inbound.c.attempts, _inbound.c.received_at, _inbound.c.channel)
         .where(_inbound.c.id.in_(bindparam("ids", expanding=True)), _inbound.c.status == InboundStatus.PENDING)
         .order_by(_inbound.c.id).with_for_update(skip_locked=True))
FINISH = Prebuilt(update(_inbound).where(_inbound.c.id == bindparam("row_id")).values(
    status=bindparam("status"), processed_at=bindparam("processed_at"), reason=bindparam("reason"),
    ticket_id=bindparam("ticket_id"), processing_log=bindparam("log")))
FAILED = update(_inbound).where(_inbound.c.id == bindparam("row_id")).values(
    status=bindparam("status"), processed_at=bindparam("processed_at"), reason=bindparam("reason"),
    attempts=bindparam("attempts"))


class RawMessageCommitter:
    """The RawMessageStore port over an engine: one transaction per batch, waits bounded."""

    def __init__(self, engine: Engine, timeout_ms: int = 5000):
        self.engine, self.timeout_ms = engine, timeout_ms

    def commit(self, items: list[RawInbound]) -> list[int]:
        return store_raw(self.engine, items, self.timeout_ms)

    def close(self) -> None:
        pass


class HeldSqliteCommitter(RawMessageCommitter):
    """SQLite: the listener's batches on one connection of their own, kept open, run on the driver.

    The pool's checkout and return (with its reset), SQLAlchemy's transaction and execution around
    three inserts cost as much as the inserts and the fsync together: 110 of 225 µs for a batch
    of three, the intake's usual batch at full load. busy_timeout still bounds the wait for the
    write lock. After an error the transaction is rolled back; a connection that cannot even do
    that is dropped for a new one.

    InboundWriter awaits each commit, but a shutdown that cancels it leaves a commit running in
    its thread while the queued messages are committed from another, and `close` follows: the
    lock makes each of them wait for the batch in flight, which would otherwise be rolled back
    under it by the pool and its remaining inserts run outside any transaction."""

    def __init__(self, engine: Engine, timeout_ms: int = 5000):
        super().__init__(engine, timeout_ms)
        self._held = None  # the pool's DB-API connection, checked out for good
        self._in_use = threading.Lock()

    def commit(self, items: list[RawInbound]) -> list[int]:
        with self._in_use:
            return self._commit(items)

    def _commit(self, items: list[RawInbound]) -> list[int]:
        try:
            if self._held is None:
                self._held = self.engine.raw_connection()
            driver = self._held.driver_connection
            driver.execute("BEGIN IMMEDIATE")
            try:
                ids = [INSERT_INBOUND.scalar_on_sqlite(self.engine.dialect, driver, values)
                       for values in raw_rows(items)]
                driver.execute("COMMIT")
            except BaseException:
                self._roll_back(driver)
                raise
        except (sqlite3.Error, SQLAlchemyError) as exc:
            raise _unavailable(exc) from exc
        return ids

    def _roll_back(self, driver) -> None:
        try:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
        except sqlite3.Error:
            self._held.invalidate()
            self._held = None

    def close(self) -> None:
        with self._in_use:
            if self._held is not None:
                self._held.close()  # back to the pool, which the engine's dispose closes
                self._held = None
