"""The outbox table's one home: enqueue in the caller's transaction, claim due rows, record results.

Claiming uses FOR UPDATE SKIP LOCKED on PostgreSQL so concurrent dispatchers never take the
same row; on SQLite the BEGIN IMMEDIATE write lock gives the same exclusivity. A claim names
the instance that took it (store/instances.py) and is a lease: it is taken over when the lease
runs out or, much sooner, when that instance stops writing its heartbeat (it was killed). The
relay's acceptances are committed while the batch is still being sent (outbound/acceptances.py),
so a takeover resends only mail whose 250 had not been recorded yet (at-least-once delivery;
the Message-ID is part of the bytes stored once, so receivers can deduplicate).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, union_all, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from helpdesk.gateway.ground.clock import as_utc, utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.outgoing import ClaimedMail, ComposedMail, DeliveryPolicy, SendResult
from helpdesk.gateway.ground.statuses import OutboxStatus
from helpdesk.store.combined_inserts import NEW_MAIL_WITH_THREAD_REF
from helpdesk.store.db import new_session
from helpdesk.store.models import DeliveryAttempt, Instance, Outbox, ThreadRef
from helpdesk.store.prebuilt import Prebuilt

log = logging.getLogger("helpdesk.outbound")
INSERT_OUTBOX = Prebuilt(insert(Outbox.__table__).returning(Outbox.__table__.c.id))
INSERT_THREAD_REF = Prebuilt(insert(ThreadRef.__table__))
_outbox = Outbox.__table__


def enqueue(session: Session, composed: ComposedMail, kind: str, ticket_id: int | None,
            thread_ref: bool = True) -> int:
    """Write a finished mail to the outbox in the caller's transaction; returns the row id.
    `thread_ref` False for the further copies of one mail (one Message-ID, one per recipient)."""
    now, conn = utcnow(), session.connection()
    row = {"ticket_id": ticket_id, "kind": kind, "mail_from": composed.mail_from,
           "rcpt_to": ",".join(composed.rcpt_to), "message_id": composed.message_id, "raw": composed.raw,
           "status": OutboxStatus.QUEUED, "attempts": 0, "created_at": now, "queued_at": now, "next_attempt_at": now}
    threaded = ticket_id is not None and thread_ref  # replies to this mail thread back to the ticket
    if threaded and conn.dialect.name == "postgresql":  # one round trip for both rows
        return NEW_MAIL_WITH_THREAD_REF.scalar(conn, {**row, "channel": "email"})
    row_id = INSERT_OUTBOX.scalar(conn, row)
    if threaded:
        INSERT_THREAD_REF.execute(conn, {"message_id": composed.message_id, "ticket_id": ticket_id})
    return row_id


def enqueue_sms(conn: Connection, kind: str, ticket_id: int | None, number: str, text: str, message_id: str,
                now: datetime) -> int:
    """Write a text message to the outbox in the caller's transaction, for the SMS dispatcher."""
    return INSERT_OUTBOX.scalar(conn, {
        "ticket_id": ticket_id, "kind": kind, "mail_from": "", "rcpt_to": number, "message_id": message_id,
        "raw": text.encode("utf-8"), "status": OutboxStatus.QUEUED, "attempts": 0, "created_at": now,
        "queued_at": now, "next_attempt_at": now, "channel": "sms"})


def _abandoned_claim():
    """A claim nobody is working on: its lease ran out, its instance is silent or gone, or it is
    this instance's own leftover (a dispatcher holds no claims when it claims; a batch whose
    results could not be recorded, say the database was down, is picked up again at once).
    Binds `now`, `live_since` (a heartbeat since then means alive) and `me` (None: tools
    and tests, whose claims only the plain lease ends: `claimed_by = NULL` is never true)."""
    live = select(Instance.id).where(Instance.heartbeat_at >= bindparam("live_since"))
    # Rows claimed before instances existed (claimed_by NULL) keep the plain lease.
    dead_instance = and_(_outbox.c.claimed_by.is_not(None), _outbox.c.claimed_by.not_in(live))
    return and_(_outbox.c.status == OutboxStatus.SENDING,
                or_(_outbox.c.claimed_until < bindparam("now"), dead_instance, _outbox.c.claimed_by == bindparam("me")))


_CLAIM_COLUMNS = (_outbox.c.id, _outbox.c.mail_from, _outbox.c.rcpt_to, _outbox.c.raw, _outbox.c.attempts)
_QUEUED_DUE = and_(_outbox.c.status == OutboxStatus.QUEUED, _outbox.c.next_attempt_at <= bindparam("now"))


def _oldest_due(where):
    # In the order the rows fell due, which ix_outbox_claim (status, channel, next_attempt_at, id)
    # holds: the walk stops after `limit` rows however many are due. Ordered by id, a backlog of due
    # rows was gathered and sorted whole at every claim (SQLite 1.4 µs per due row: 22 ms a claim
    # with 16,000 waiting, bench/outbox_claim.py --backlog). A recipient's mail still goes in the
    # order it was queued: one processor queues a ticket's mails with one clock, ids breaking ties.
    return (select(*_CLAIM_COLUMNS, _outbox.c.next_attempt_at).where(where, _outbox.c.channel == bindparam("channel"))
            .order_by(_outbox.c.next_attempt_at, _outbox.c.id).limit(bindparam("limit"))
            .with_for_update(skip_locked=True).subquery())


# Queued rows and abandoned claims are walked apart, each along the index (as one OR the whole
# backlog was read); a lease taken over fell due before the queued rows it is merged with.
# Prebuilt (store/prebuilt.py): the dispatcher claims for every batch it sends, and at a low rate
# every mail is a batch; building and compiling this statement with SQLAlchemy cost ~0.9 ms a claim.
_CLAIM_PARTS = union_all(*(select(part) for part in (_oldest_due(_QUEUED_DUE), _oldest_due(_abandoned_claim())))
                         ).subquery()
CLAIM_SELECT = Prebuilt(select(*(_CLAIM_PARTS.c[column.name] for column in _CLAIM_COLUMNS))
                        .order_by(_CLAIM_PARTS.c.next_attempt_at, _CLAIM_PARTS.c.id).limit(bindparam("limit")))
CLAIM_MARK = Prebuilt(update(_outbox).where(_outbox.c.id == bindparam("row_id")).values(
    status=OutboxStatus.SENDING, claimed_until=bindparam("until"), claimed_by=bindparam("me")))


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta, *,
              instance_id: int | None = None, stale_after: timedelta = timedelta(seconds=10),
              channel: str = "email") -> list[ClaimedMail]:
    """Lease up to `limit` due rows of one channel (each has its own dispatcher) to the caller's
    instance; commit happens in the caller."""
    conn = session.connection()
    rows = CLAIM_SELECT.all(conn, {"now": now, "live_since": now - stale_after, "me": instance_id,
                                   "channel": channel, "limit": limit})
    if rows:
        CLAIM_MARK.executemany(conn, [{"row_id": row[0], "until": now + lease, "me": instance_id} for row in rows])
    return [ClaimedMail(row_id, mail_from, tuple(rcpt_to.split(",")), bytes(raw), attempts)
            for row_id, mail_from, rcpt_to, raw, attempts in rows]


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


# Results are written only while the claim is still ours: a row another instance took over
# (this one was taken for dead) is that instance's to record.
_STILL_OURS = _outbox.c.claimed_by.is_not_distinct_from(bindparam("me"))
# A bounce can be processed before the dispatcher records the send (a fast local relay): keep it.
_BOUNCED = _outbox.c.status == OutboxStatus.BOUNCED
MARK_SENT = update(_outbox).where(_outbox.c.id == bindparam("row_id"), _STILL_OURS).values(
    status=case((_BOUNCED, OutboxStatus.BOUNCED), else_=OutboxStatus.SENT), attempts=_outbox.c.attempts + 1,
    sent_at=bindparam("now"), claimed_until=None, claimed_by=None,
    last_error=case((_BOUNCED, _outbox.c.last_error), else_=None))
MARK_NOT_SENT = update(_outbox).where(_outbox.c.id == bindparam("row_id"), _STILL_OURS).values(
    status=bindparam("new_status"), attempts=_outbox.c.attempts + 1, next_attempt_at=bindparam("next"),
    claimed_until=None, claimed_by=None, last_error=bindparam("error"))
INSERT_ATTEMPT = insert(DeliveryAttempt.__table__)
# Every group of the relay's acceptances runs these two (outbound/acceptances.py): prebuilt.
_FAST_INSERT_ATTEMPT, _FAST_MARK_SENT = Prebuilt(INSERT_ATTEMPT), Prebuilt(MARK_SENT)


def record_results(session: Session, results: list[SendResult], now: datetime, *, me: int | None,
                   policy: DeliveryPolicy) -> list[tuple[int, str]]:
    """Write what the relay answered: two statements for successes, three for failures, whatever
    the count. Returns the (id, error) of the mails given up because their queue lifetime ran out."""
    if not results:
        return []
    conn = session.connection()
    _FAST_INSERT_ATTEMPT.executemany(conn, [{"outbox_id": r.outbox_id, "at": now, "ok": r.ok, "code": r.code,
                                             "detail": r.detail[:2000]} for r in results])
    sent = [{"row_id": r.outbox_id, "now": now, "me": me} for r in results if r.ok]
    if sent:
        _FAST_MARK_SENT.executemany(conn, sent)
    failed = {r.outbox_id: r for r in results if not r.ok}
    if not failed:
        return []
    rows = conn.execute(select(_outbox.c.id, _outbox.c.attempts, _outbox.c.queued_at)
                        .where(_outbox.c.id.in_(list(failed)), _STILL_OURS), {"me": me}).all()
    expired_before = now - timedelta(seconds=policy.queue_lifetime_seconds)
    updates, expired = [], []
    for row_id, attempts, queued_at in rows:
        result = failed[row_id]
        # Give up only on a permanent refusal or age, never on a count: a relay outage of any
        # length shorter than the queue lifetime loses nothing.
        gone_stale = as_utc(queued_at) <= expired_before
        if gone_stale and not result.permanent:
            expired.append((row_id, result.detail))
        give_up = result.permanent or gone_stale
        updates.append({"row_id": row_id, "me": me, "error": result.detail,
                        "new_status": OutboxStatus.FAILED if give_up else OutboxStatus.QUEUED,
                        "next": now + backoff(attempts + 1, policy.retry_base_seconds, policy.retry_max_seconds)})
    if updates:
        conn.execute(MARK_NOT_SENT, updates)
    return expired


RECENT_TO = select(func.count()).select_from(_outbox).where(
    _outbox.c.rcpt_to == bindparam("address"), _outbox.c.created_at >= bindparam("since"))


_FAST_RECENT_TO = Prebuilt(RECENT_TO)


def recent_mail_to(conn: Connection, address: str, since: datetime, kind: str | None = None) -> int:
    """How many mails (of `kind`, if given) were queued for this address since then (the
    auto-reply limit and the rate of unverified-staff notices count them)."""
    if kind is None:  # the auto-reply limit, asked for every automatic reply: prebuilt
        return _FAST_RECENT_TO.scalar(conn, {"address": address, "since": since})
    return conn.execute(RECENT_TO.where(_outbox.c.kind == kind), {"address": address, "since": since}).scalar()


def release_claims(session: Session, outbox_ids: list[int], me: int | None = None) -> None:
    """Give claimed but unsent rows back at once, without counting an attempt."""
    if outbox_ids:
        session.execute(update(_outbox).where(_outbox.c.id.in_(outbox_ids), _outbox.c.status == OutboxStatus.SENDING,
                                              _outbox.c.claimed_by.is_not_distinct_from(me))
                        .values(status=OutboxStatus.QUEUED, claimed_until=None, claimed_by=None))


_FRESH_START = {"status": OutboxStatus.QUEUED, "attempts": 0, "claimed_until": None, "claimed_by": None}


def requeue(session: Session, outbox_id: int, now: datetime) -> Outbox:
    """`helpdesk outbox retry ID`: send a failed or waiting message as soon as possible, with a fresh
    queue lifetime. A sent message, or one a dispatcher is sending right now, is left alone."""
    row = session.get(Outbox, outbox_id)
    if row is None:
        raise UserError(f"no outbox message {outbox_id}")
    if row.status == OutboxStatus.SENT:
        raise UserError(f"outbox message {outbox_id} was already sent at {row.sent_at:%Y-%m-%d %H:%M:%S}")
    if row.status == OutboxStatus.SENDING and row.claimed_until and as_utc(row.claimed_until) > now:
        raise UserError(f"outbox message {outbox_id} is being sent right now")
    for name, value in {**_FRESH_START, "next_attempt_at": now, "queued_at": now}.items():
        setattr(row, name, value)
    return row


def requeue_failed(session: Session, now: datetime, since: datetime | None = None) -> int:
    """`helpdesk outbox retry --status failed [--since T]`: every failed mail (queued at or after
    `since`) goes again now, with a fresh queue lifetime; returns how many."""
    query = update(_outbox).where(_outbox.c.status == OutboxStatus.FAILED)
    if since is not None:
        query = query.where(_outbox.c.created_at >= since)
    return session.execute(query.values(**_FRESH_START, next_attempt_at=now, queued_at=now)).rowcount


class OutboxRows:
    """The OutboxQueue port over an engine: a dispatcher claims and records without SQL of its own.

    `instance_id` is the live instance (store/instances.py) the claims are made for; None (tools,
    tests) gives plain leases. `on_refused(session, results, now)` is told, in the transaction that
    marks them failed, of the mails the relay refused at RCPT (app/wiring.py: the bounce logic)."""

    def __init__(self, engine: Engine, policy: DeliveryPolicy, instance_id: int | None = None,
                 on_refused: Callable[[Session, list[SendResult], datetime], None] | None = None):
        self.engine, self.policy, self.instance_id = engine, policy, instance_id
        self.on_refused = on_refused

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[ClaimedMail]:
        with new_session(self.engine) as session, session.begin():
            return claim_due(session, now, limit, lease, instance_id=self.instance_id,
                             stale_after=timedelta(seconds=self.policy.instance_stale_seconds))

    def record(self, results: list[SendResult], unsent: list[int], now: datetime) -> None:
        with new_session(self.engine) as session, session.begin():
            expired = record_results(session, results, now, me=self.instance_id, policy=self.policy)
            release_claims(session, unsent, self.instance_id)
            refused = [r for r in results if not r.ok and r.refused_recipients]
            if refused and self.on_refused is not None:  # the row and what it causes commit together
                self.on_refused(session, refused, now)
        hours = self.policy.queue_lifetime_seconds / 3600
        for row_id, error in expired:
            log.warning("outbox %d failed: not delivered within %g hours (last error: %s)", row_id, hours, error)
