"""/readyz: is this gateway fit to take mail? The database answers, the listeners are bound, nothing is stuck.

The database is asked through a connection of its own, opened for each check with a short
timeout, so the answer is what a new connection gets now (a pooled one may hide an outage, and on
SQLite it still holds a file that was moved or deleted); the queries run in the HTTP side's own
thread (app/http/db_thread.py), never on the event loop, and a hung database costs only that thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from helpdesk.app.http.db_thread import DatabaseThread
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import database_error_line
from helpdesk.gateway.ground.settings import Settings
from helpdesk.store.db import normalize_url
from helpdesk.store.health_queries import failed_outbox_count, oldest_due_outbox, pending_inbound

DB_TIMEOUT_SECONDS = 2.0  # a check that waits longer than this says "unreachable"


def make_probe_engine(url: str, timeout: float = DB_TIMEOUT_SECONDS) -> Engine:
    """A fresh connection per use; SQLite read-only, so a missing file is an error, not a new empty database."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        where = parsed.set(database=f"file:{quote(parsed.database or '')}?mode=ro", query={"uri": "true"})
        return create_engine(where, poolclass=NullPool, connect_args={"timeout": timeout, "check_same_thread": False})
    return create_engine(parsed, poolclass=NullPool, connect_args={
        "connect_timeout": max(1, round(timeout)), "options": f"-c statement_timeout={int(timeout * 1000)}"})


@dataclass(frozen=True)
class DatabaseFacts:
    pending: int
    oldest_pending: datetime | None
    oldest_due: datetime | None
    failed: int


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round(max((now - since).total_seconds(), 0.0), 3)


class Readiness:
    """`listening()` names each listener and whether it is bound (the service knows its sockets)."""

    def __init__(self, settings: Settings, probe: Engine, db_thread: DatabaseThread,
                 listening: Callable[[], dict[str, bool]], clock: Callable[[], datetime] = utcnow):
        self.settings, self.probe, self.db_thread, self.listening, self.clock = (
            settings, probe, db_thread, listening, clock)
        # Failed outbox rows at the previous check: the report says how many are new since then.
        self.failed_at_last_check: int | None = None
        # Without an SMS provider SMS rows wait in the outbox by design: not a stuck dispatcher.
        self.sent_channels = ("email", "sms") if settings.sms_provider != "none" else ("email",)

    def _read(self) -> DatabaseFacts:
        with self.probe.connect() as conn:
            conn.execute(text("SELECT 1"))
            backlog = pending_inbound(conn)
            return DatabaseFacts(backlog.count, backlog.oldest,
                                 oldest_due_outbox(conn, self.clock(), self.sent_channels),
                                 failed_outbox_count(conn))

    async def check(self) -> tuple[bool, dict]:
        """(ready, report): the report names every check, and `reasons` says why it is not ready."""
        listening = self.listening()
        checks: dict[str, dict] = {f"{name}_listener": {"ok": up} for name, up in listening.items()}
        reasons = [f"{name} listener not bound" for name, up in listening.items() if not up]
        try:
            facts = await self.db_thread.run(self._read, DB_TIMEOUT_SECONDS)
        except TimeoutError:
            facts, error = None, f"no answer within {DB_TIMEOUT_SECONDS:g} s"
        except (SQLAlchemyError, OSError) as exc:
            facts, error = None, database_error_line(exc)
        if facts is None:
            checks["database"] = {"ok": False, "error": error}
            reasons.append(f"database unreachable: {error}")
        else:
            checks["database"] = {"ok": True}
            self._judge_backlogs(facts, checks, reasons)
        return not reasons, {"ready": not reasons, "reasons": reasons, "checks": checks}

    def _judge_backlogs(self, facts: DatabaseFacts, checks: dict, reasons: list[str]) -> None:
        s, now = self.settings, self.clock()
        pending_age, due_age = _age(facts.oldest_pending, now), _age(facts.oldest_due, now)
        processor_ok = pending_age is None or pending_age < s.ready_max_pending_seconds
        outbox_ok = due_age is None or due_age < s.ready_max_due_seconds
        checks["processor"] = {"ok": processor_ok, "pending": facts.pending, "oldest_pending_seconds": pending_age,
                               "max_seconds": s.ready_max_pending_seconds}
        checks["outbox"] = {"ok": outbox_ok, "oldest_due_seconds": due_age, "max_seconds": s.ready_max_due_seconds}
        if not processor_ok:
            reasons.append(f"processor stuck: the oldest pending message was stored {pending_age:g} s ago "
                           f"(limit {s.ready_max_pending_seconds:g} s)")
        if not outbox_ok:
            reasons.append(f"outbox stuck: the oldest queued mail has been due for {due_age:g} s "
                           f"(limit {s.ready_max_due_seconds:g} s)")
        # Failed mail is reported, not a reason to take the gateway out of service: a restart
        # would not deliver it (`helpdesk outbox retry --status failed` does).
        previous, self.failed_at_last_check = self.failed_at_last_check, facts.failed
        checks["failed_outbox"] = {"ok": True, "total": facts.failed,
                                   "since_last_check": None if previous is None else max(facts.failed - previous, 0)}
