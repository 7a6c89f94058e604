"""Take committed, unprocessed inbound messages through the pipeline, a batch per transaction.

Each message runs inside its own savepoint, so one bad message never blocks or undoes the
others: unreadable mail is quarantined with the reason at once; an unexpected error is
retried and, after MAX_ATTEMPTS, quarantined (Mailman's shunt queue), never dropped.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gateway.errors import Quarantine
from gateway.pipeline import PipelineContext, process_message
from store.db import new_session
from store.models import InboundMessage, InboundStatus, utcnow

MAX_ATTEMPTS = 3
disposition_log = logging.getLogger("helpdesk.disposition")


class Processor:
    def __init__(self, engine: Engine, ctx: PipelineContext, batch: int = 32):
        self.engine, self.ctx, self.batch = engine, ctx, batch

    def _claim(self, session: Session) -> list[InboundMessage]:
        return list(session.execute(
            select(InboundMessage).where(InboundMessage.status == InboundStatus.PENDING)
            .order_by(InboundMessage.id).limit(self.batch).with_for_update(skip_locked=True)
        ).scalars())

    def _process_one(self, session: Session, row: InboundMessage) -> None:
        try:
            with session.begin_nested():
                outcome = process_message(session, row, self.ctx)
        except Quarantine as exc:
            row.status, row.reason, row.processed_at = InboundStatus.QUARANTINED, str(exc), utcnow()
            disposition_log.warning("inbound %d quarantined: %s", row.id, exc)
            return
        except Exception as exc:
            row.attempts += 1
            row.reason = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status, row.processed_at = InboundStatus.QUARANTINED, utcnow()
            disposition_log.exception("inbound %d failed (attempt %d)", row.id, row.attempts)
            return
        duplicate = outcome.disposition == "duplicate"
        row.status = InboundStatus.DUPLICATE if duplicate else InboundStatus.PROCESSED
        row.ticket_id, row.processed_at = outcome.ticket_number, utcnow()
        disposition_log.info("inbound %d <%s> from %s: %s%s%s", row.id, outcome.mail.message_id,
                             outcome.mail.sender, outcome.disposition,
                             f" ticket {outcome.ticket_number}" if outcome.ticket_number else "",
                             f" (no reply: {outcome.no_reply_reason})" if outcome.no_reply_reason else "")

    def run_once(self) -> int:
        """Process one batch; returns how many messages were claimed."""
        with new_session(self.engine) as session, session.begin():
            rows = self._claim(session)
            for row in rows:
                self._process_one(session, row)
        return len(rows)

    def drain(self) -> int:
        total = 0
        while (claimed := self.run_once()):
            total += claimed
        return total
