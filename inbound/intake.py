"""Commit raw inbound messages durably, several per transaction, before anyone is told "stored".

The SMTP listener awaits `InboundWriter.store()`; whatever arrives while one commit is on
disk goes into the next, so one fsync serves many messages while each sender still gets its
250 only after its own message is committed (group commit).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import TempFail
from helpdesk.store.models import InboundMessage

log = logging.getLogger("helpdesk.inbound")


@dataclass(frozen=True)
class RawInbound:
    raw: bytes
    envelope_from: str | None
    envelope_to: tuple[str, ...]
    source: str = "smtp"
    channel: str = "email"


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
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise TempFail(f"database unavailable: {cause}") from exc


INSERT_INBOUND = insert(InboundMessage.__table__).returning(InboundMessage.__table__.c.id)


def bound_waits(conn: Connection, timeout_ms: int) -> None:
    """On PostgreSQL, give up on locks after timeout_ms (SQLite has busy_timeout for that)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(timeout_ms)}")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms) * 2}")


def insert_raw(conn: Connection, items: list[RawInbound]) -> list[int]:
    """Insert raw messages as pending in the caller's transaction; returns their ids in order."""
    now = utcnow()
    return [conn.execute(INSERT_INBOUND, {
        "raw": item.raw, "envelope_from": item.envelope_from, "envelope_to": ",".join(item.envelope_to),
        "source": item.source, "channel": item.channel, "received_at": now, "status": "pending", "attempts": 0,
    }).scalar_one() for item in items]


class InboundWriter:
    def __init__(self, engine: Engine, max_batch: int = 64, on_commit: Callable[[], None] | None = None,
                 timeout_ms: int = 5000):
        self.engine, self.max_batch, self.on_commit = engine, max_batch, on_commit
        self.timeout_ms = timeout_ms
        self._queue: asyncio.Queue[tuple[RawInbound, asyncio.Future]] = asyncio.Queue()

    async def store(self, item: RawInbound) -> int:
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def run(self) -> None:
        """Commit loop; runs until cancelled, then finishes what is queued."""
        try:
            while True:
                await self._commit_next(await self._queue.get())
        except asyncio.CancelledError:
            while not self._queue.empty():
                await self._commit_next(self._queue.get_nowait())
            raise

    async def _commit_next(self, first) -> None:
        batch = [first]
        while len(batch) < self.max_batch and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        try:
            ids = await asyncio.to_thread(store_raw, self.engine, [item for item, _ in batch], self.timeout_ms)
        except Exception as exc:  # whatever went wrong, the senders retry: never a silent loss
            log.error("cannot store %d inbound message(s), answered 451: %s", len(batch), exc)
            exc = exc if isinstance(exc, TempFail) else TempFail(str(exc))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), new_id in zip(batch, ids):
            if not future.done():
                future.set_result(new_id)
        if self.on_commit:
            self.on_commit()
