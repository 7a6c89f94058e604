"""Take committed, unprocessed inbound messages through the pipeline, a batch per transaction.

Messages are parsed before the write transaction starts, so the database lock is held only
for the decisions and writes. A batch is first applied in one go; if any message fails, the
batch is rolled back and redone with a savepoint per message, so one bad message never
blocks or undoes the others. Unreadable mail is quarantined with the reason at once; an
unexpected error is retried and, after MAX_ATTEMPTS, quarantined (Mailman's shunt queue).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from helpdesk.gateway.ground.clock import as_utc, utcnow
from helpdesk.gateway.ground.errors import Quarantine
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.metrics import QUARANTINED, Metrics, message_outcome
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.statuses import Disposition, InboundStatus
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.pipeline.stages import parse_stored, process_mail
from helpdesk.store.db import is_sqlite, new_session, read_connection
from helpdesk.store.inbound_messages import CLAIM, CLAIM_RANGE, FAILED, FINISH, PENDING_CLAIM, PENDING_FIRST

MAX_ATTEMPTS = 3
disposition_log = logging.getLogger("helpdesk.disposition")

@dataclass(frozen=True)
class _Claimed:
    id: int
    attempts: int
    received_at: datetime | None = None
    channel: str = "email"


def _log(row_id: int, outcome: Outcome, ms: int) -> None:
    # The fields also go as `extra`, so JSON logs carry them as keys (app/logging_setup.py).
    fields = {"inbound_id": row_id, "message_id": outcome.mail.message_id, "ticket": outcome.ticket_number,
              "outcome": str(outcome.disposition), "ms": ms}
    disposition_log.info("inbound %d <%s> from %s: %s%s%s in %d ms", row_id, outcome.mail.message_id,
                         outcome.mail.sender, outcome.disposition,
                         f" ticket {outcome.ticket_number}" if outcome.ticket_number else "",
                         f" (no reply: {outcome.no_reply_reason})" if outcome.no_reply_reason else "", ms,
                         extra=fields)


class Processor:
    def __init__(self, engine: Engine, ctx: PipelineContext, batch: int = 32, metrics: Metrics | None = None):
        self.engine, self.ctx, self.batch = engine, ctx, batch
        self.metrics = metrics if metrics is not None else Metrics()
        self._spent: dict[int, float] = {}  # seconds each message of the batch took, for its log line

    def _parse(self, rows) -> dict[int, InboundMail | Quarantine]:
        parsed: dict[int, InboundMail | Quarantine] = {}
        self._spent = {}
        for row_id, raw, envelope_from, envelope_to, source in rows:
            started = time.perf_counter()
            try:
                parsed[row_id] = parse_stored(row_id, raw, envelope_from, envelope_to, source, self.ctx)
            except Quarantine as exc:
                parsed[row_id] = exc
            self._spent[row_id] = time.perf_counter() - started
        return parsed

    def _parse_pending(self) -> dict[int, InboundMail | Quarantine]:
        """SQLite: read and parse before the write transaction, which has the one write lock."""
        with read_connection(self.engine) as conn:
            rows = PENDING_FIRST.all(conn, {"limit": self.batch})
        return self._parse(rows)

    def _claim_next(self, session: Session) -> tuple[list[_Claimed], dict]:
        """PostgreSQL: lock the next pending rows other instances have not locked, then parse, so
        several instances share the work instead of racing for the same first rows."""
        rows = session.execute(PENDING_CLAIM, {"limit": self.batch}).all()
        return [_Claimed(r[0], *r[5:]) for r in rows], self._parse([r[:5] for r in rows])

    def _claim(self, session: Session, ids: list[int]) -> list[_Claimed]:
        # Re-checked under the lock: another instance may have taken some meanwhile.
        return [_Claimed(*row) for row in session.execute(CLAIM, {"ids": ids}).all()]

    @staticmethod
    def _claim_read(session: Session, ids: list[int]) -> list[_Claimed]:
        """SQLite: `_claim` for the rows `_parse_pending` read (ascending ids), as one prebuilt
        statement; the database's datetime text is read here."""
        wanted = set(ids)
        rows = CLAIM_RANGE.all(session.connection(), {"first": ids[0], "last": ids[-1]})
        return [_Claimed(row_id, attempts, received_at and datetime.fromisoformat(received_at), channel)
                for row_id, attempts, received_at, channel in rows if row_id in wanted]

    def _finish(self, row: _Claimed, result: Outcome | Quarantine) -> tuple[_Claimed, str, dict]:
        """What became of the row: it, its metrics outcome (counted after the commit) and the values
        FINISH records (for the whole batch at once: `_record`)."""
        values = {"row_id": row.id, "processed_at": self.ctx.clock(), "reason": None, "ticket_id": None, "log": None}
        if isinstance(result, Quarantine):
            values.update(status=InboundStatus.QUARANTINED, reason=str(result), log=f"quarantined: {result}")
            disposition_log.warning("inbound %d quarantined: %s", row.id, result)
            outcome = QUARANTINED
        else:
            duplicate = result.disposition == Disposition.DUPLICATE
            values.update(status=InboundStatus.DUPLICATE if duplicate else InboundStatus.PROCESSED,
                          ticket_id=result.ticket_number, log="\n".join(result.log) or None)
            _log(row.id, result, round(self._spent.pop(row.id, 0.0) * 1000))
            outcome = message_outcome(result.disposition, result.no_reply_reason is not None)
        return row, outcome, values

    @staticmethod
    def _record(session: Session, finished: list[tuple[_Claimed, str, dict]]) -> list[tuple[_Claimed, str]]:
        """Every finished row's status in one executemany (psycopg pipelines it: one round trip)."""
        FINISH.executemany(session.connection(), [values for _, _, values in finished])
        return [(row, outcome) for row, outcome, _ in finished]

    def _count(self, done: list[tuple[_Claimed, str]]) -> None:
        # Only committed work is counted: a batch rolled back and redone must not count twice.
        # received_at was written by intake's real clock, so latency is measured against it too.
        now = utcnow()
        for row, outcome in done:
            stored = as_utc(row.received_at)
            self.metrics.count_message(row.channel, outcome, (now - stored).total_seconds() if stored else None)

    def _apply(self, session: Session, mail: InboundMail | Quarantine) -> Outcome | Quarantine:
        if isinstance(mail, Quarantine):
            return mail
        started = time.perf_counter()
        try:
            return process_mail(session, mail, self.ctx)
        except Quarantine as exc:  # a routing rule said so; nothing was written before it
            return exc
        finally:
            self._spent[mail.inbound_id] = self._spent.get(mail.inbound_id, 0.0) + time.perf_counter() - started

    def _apply_each(self, session: Session, rows: list[_Claimed], parsed) -> list[tuple[_Claimed, str]]:
        done, finished = [], []
        for row in rows:
            try:
                with session.begin_nested():
                    result = self._apply(session, parsed[row.id])
            except Exception as exc:
                attempts = row.attempts + 1
                give_up = attempts >= MAX_ATTEMPTS
                session.connection().execute(FAILED, {
                    "row_id": row.id, "attempts": attempts, "reason": f"{type(exc).__name__}: {exc}"[:2000],
                    "status": InboundStatus.QUARANTINED if give_up else InboundStatus.PENDING,
                    "processed_at": self.ctx.clock() if give_up else None})
                disposition_log.exception("inbound %d failed (attempt %d)", row.id, attempts)
                if give_up:
                    done.append((row, QUARANTINED))
                continue
            finished.append(self._finish(row, result))
        return done + self._record(session, finished)

    def run_once(self) -> int:
        """Process one batch; returns how many messages were handled."""
        sqlite = is_sqlite(self.engine)
        parsed = self._parse_pending() if sqlite else {}
        if sqlite and not parsed:
            return 0
        try:
            with new_session(self.engine) as session, session.begin():
                if sqlite:
                    rows = self._claim_read(session, list(parsed))
                else:
                    rows, parsed = self._claim_next(session)
                done = self._record(session, [self._finish(row, self._apply(session, parsed[row.id])) for row in rows])
            self._count(done)
            return len(done)
        except Exception:
            if not parsed:
                raise
            disposition_log.info("batch of %d failed as a whole; retrying message by message", len(parsed))
        with new_session(self.engine) as session, session.begin():
            rows = self._claim(session, list(parsed))
            done = self._apply_each(session, rows, parsed)
        self._count(done)
        return len(rows)

    def drain(self) -> int:
        total = 0
        while (handled := self.run_once()):
            total += handled
        return total
