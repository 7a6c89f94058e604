"""The outbox table's one home: enqueue in the caller's transaction, claim due rows, record results.

Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL so concurrent dispatchers never take the
same row; on SQLite the BEGIN IMMEDIATE write lock gives the same exclusivity. A claim is a
lease: a dispatcher that dies mid-send leaves the row to be taken again after claimed_until
(at-least-once delivery; the receiving side deduplicates on Message-ID).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.outgoing import ClaimedMail, ComposedMail, DeliveryPolicy, SendResult
from helpdesk.gateway.ground.statuses import OutboxStatus
from helpdesk.store.db import new_session
from helpdesk.store.models import DeliveryAttempt, Outbox, ThreadRef

INSERT_OUTBOX = insert(Outbox.__table__).returning(Outbox.__table__.c.id)
INSERT_THREAD_REF = insert(ThreadRef.__table__)


def enqueue(session: Session, composed: ComposedMail, kind: str, ticket_id: int | None) -> int:
    """Write a finished mail to the outbox in the caller's transaction; returns the row id."""
    now, conn = utcnow(), session.connection()
    row_id = conn.execute(INSERT_OUTBOX, {
        "ticket_id": ticket_id, "kind": kind, "mail_from": composed.mail_from,
        "rcpt_to": ",".join(composed.rcpt_to), "message_id": composed.message_id, "raw": composed.raw,
        "status": OutboxStatus.QUEUED, "attempts": 0, "created_at": now, "next_attempt_at": now,
    }).scalar_one()
    if ticket_id is not None:  # replies to this mail thread back to the ticket
        conn.execute(INSERT_THREAD_REF, {"message_id": composed.message_id, "ticket_id": ticket_id})
    return row_id


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[ClaimedMail]:
    """Lease up to `limit` due rows to the caller; commit happens in the caller."""
    due = or_(
        and_(Outbox.status == OutboxStatus.QUEUED, Outbox.next_attempt_at <= now),
        and_(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_until < now),
    )
    rows = session.execute(
        select(Outbox).where(due).order_by(Outbox.id).limit(limit).with_for_update(skip_locked=True)
    ).scalars().all()
    for row in rows:
        row.status, row.claimed_until = OutboxStatus.SENDING, now + lease
    return [ClaimedMail(r.id, r.mail_from, tuple(r.rcpt_to.split(",")), r.raw, r.attempts) for r in rows]


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


_outbox = Outbox.__table__
# A bounce can be processed before the dispatcher records the send (a fast local relay): keep it.
_BOUNCED = _outbox.c.status == OutboxStatus.BOUNCED
MARK_SENT = update(_outbox).where(_outbox.c.id == bindparam("row_id")).values(
    status=case((_BOUNCED, OutboxStatus.BOUNCED), else_=OutboxStatus.SENT), attempts=_outbox.c.attempts + 1,
    sent_at=bindparam("now"), claimed_until=None, last_error=case((_BOUNCED, _outbox.c.last_error), else_=None))
INSERT_ATTEMPT = insert(DeliveryAttempt.__table__)


def record_results(session: Session, results: list[SendResult], now: datetime, *,
                   max_attempts: int, retry_base: float, retry_max: float) -> None:
    """Write what the relay answered: successes in bulk, failures with their backoff one by one."""
    conn = session.connection()
    conn.execute(INSERT_ATTEMPT, [{"outbox_id": r.outbox_id, "at": now, "ok": r.ok, "code": r.code,
                                   "detail": r.detail[:2000]} for r in results])
    sent = [{"row_id": r.outbox_id, "now": now} for r in results if r.ok]
    if sent:
        conn.execute(MARK_SENT, sent)
    for result in (r for r in results if not r.ok):
        row = session.get(Outbox, result.outbox_id)
        row.attempts += 1
        row.claimed_until, row.last_error = None, result.detail
        if result.permanent or row.attempts >= max_attempts:
            row.status = OutboxStatus.FAILED
        else:
            row.status = OutboxStatus.QUEUED
            row.next_attempt_at = now + backoff(row.attempts, retry_base, retry_max)


RECENT_TO = select(func.count()).select_from(_outbox).where(
    _outbox.c.rcpt_to == bindparam("address"), _outbox.c.created_at >= bindparam("since"))


def recent_mail_to(session: Session, address: str, since: datetime) -> int:
    """How many mails were queued for this address since then (the auto-reply limit counts them)."""
    return session.connection().execute(RECENT_TO, {"address": address, "since": since}).scalar()


def release_claims(session: Session, outbox_ids: list[int]) -> None:
    """Give claimed but unsent rows back at once, without counting an attempt."""
    if outbox_ids:
        session.execute(update(_outbox).where(_outbox.c.id.in_(outbox_ids), _outbox.c.status == OutboxStatus.SENDING)
                        .values(status=OutboxStatus.QUEUED, claimed_until=None))


def requeue(session: Session, outbox_id: int, now: datetime) -> Outbox:
    """`helpdesk outbox retry`: send a failed or waiting message as soon as possible, with a fresh
    attempt budget. A sent message, or one a dispatcher is sending right now, is left alone."""
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise UserError(f"no outbox message {outbox_id}")
    if row.status == OutboxStatus.SENT:
        raise UserError(f"outbox message {outbox_id} was already sent at {row.sent_at:%Y-%m-%d %H:%M:%S}")
    if row.status == OutboxStatus.SENDING and row.claimed_until and row.claimed_until > now:
        raise UserError(f"outbox message {outbox_id} is being sent right now")
    row.status, row.next_attempt_at, row.claimed_until, row.attempts = OutboxStatus.QUEUED, now, None, 0
    return row


class OutboxRows:
    """The OutboxQueue port over an engine: a dispatcher claims and records without SQL of its own."""

    def __init__(self, engine: Engine, policy: DeliveryPolicy):
        self.engine, self.policy = engine, policy

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[ClaimedMail]:
        with new_session(self.engine) as session, session.begin():
            return claim_due(session, now, limit, lease)

    def record(self, results: list[SendResult], unsent: list[int], now: datetime) -> None:
        p = self.policy
        with new_session(self.engine) as session, session.begin():
            record_results(session, results, now, max_attempts=p.max_attempts,
                           retry_base=p.retry_base_seconds, retry_max=p.retry_max_seconds)
            release_claims(session, unsent)
