"""The SMS side of the outbox: claim due text messages, hold those over a number's hourly limit and
summarise them later, refuse opted-out numbers, record what the provider answered.

SMS rows are outbox rows (store/outbox.py) with channel "sms", so they share its leases, instance
takeover, attempts history, backoff and queue lifetime; this module adds only what is SMS's own.
The hourly limit is applied here, when the dispatcher claims, rather than when a row is written:
every producer (alerts, acknowledgements, replies) is covered without knowing about it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from helpdesk.gateway.ground.outgoing import ClaimedMail, DeliveryPolicy, SendResult
from helpdesk.gateway.ground.statuses import OutboxStatus
from helpdesk.store.account_tables import User
from helpdesk.store.db import new_session
from helpdesk.store.models import Outbox
from helpdesk.store.outbox import claim_due, enqueue_sms, record_results, release_claims

log = logging.getLogger("helpdesk.outbound")
SUMMARY_KIND = "sms_summary"
OPTED_OUT = "the recipient opted out of SMS"
HOUR = timedelta(hours=1)
# (count, ticket numbers, locale) -> the text of the summary SMS (outbound/sms_dispatcher.py writes it).
SummaryText = Callable[[int, list[int], str | None], str]

_outbox, _user = Outbox.__table__, User.__table__
_SMS = _outbox.c.channel == "sms"
SET_PROVIDER_REF = update(_outbox).where(_outbox.c.id == bindparam("row_id")).values(provider_ref=bindparam("ref"))
HOLD = update(_outbox).where(_outbox.c.id == bindparam("row_id")).values(
    status=OutboxStatus.HELD, claimed_until=None, claimed_by=None, last_error=bindparam("error"))


def _recent_sends(conn: Connection, numbers: set[str], now: datetime, not_ids: list[int]) -> dict[str, int]:
    """SMS per number sent within the last hour, or being sent right now by another claim (another
    instance's batch): both use up the hour's allowance."""
    sending_elsewhere = and_(_outbox.c.status == OutboxStatus.SENDING, _outbox.c.id.not_in(not_ids))
    query = (select(_outbox.c.rcpt_to, func.count()).where(
        _SMS, _outbox.c.rcpt_to.in_(sorted(numbers)), or_(_outbox.c.sent_at >= now - HOUR, sending_elsewhere))
        .group_by(_outbox.c.rcpt_to))
    return dict(conn.execute(query).all())


def opted_out_numbers(conn: Connection, numbers: set[str]) -> set[str]:
    """The numbers whose person said STOP (user_account.sms_opted_out_at is set)."""
    return set(conn.execute(select(_user.c.phone).where(
        _user.c.phone.in_(sorted(numbers)), _user.c.sms_opted_out_at.is_not(None))).scalars())


def mark_opted_out(conn: Connection, numbers: list[str], now: datetime) -> None:
    """The provider said the number unsubscribed: nothing more goes to it until it says START."""
    conn.execute(update(_user).where(_user.c.phone.in_(numbers), _user.c.sms_opted_out_at.is_(None))
                 .values(sms_opted_out_at=now))


def hold_over_limit(conn: Connection, claimed: list[ClaimedMail], now: datetime, per_hour: int) -> set[int]:
    """Set rows to numbers that had `per_hour` SMS this hour to "held"; returns their ids. The oldest
    rows go first. A summary is never held (it tells of the held ones) but counts like any SMS."""
    if not claimed:
        return set()
    ids = [mail.id for mail in claimed]
    kinds = dict(conn.execute(select(_outbox.c.id, _outbox.c.kind).where(_outbox.c.id.in_(ids))).all())
    sent = _recent_sends(conn, {mail.rcpt_to[0] for mail in claimed}, now, ids)
    held = []
    for mail in sorted(claimed, key=lambda m: m.id):
        number = mail.rcpt_to[0]
        if sent.get(number, 0) >= per_hour and kinds[mail.id] != SUMMARY_KIND:
            held.append({"row_id": mail.id, "error": f"held: {sent[number]} SMS to this number in the last hour"})
        else:
            sent[number] = sent.get(number, 0) + 1
    if held:
        conn.execute(HOLD, held)
    return {row["row_id"] for row in held}


def _locale_of(conn: Connection, number: str) -> str | None:
    return conn.execute(select(_user.c.locale).where(_user.c.phone == number, _user.c.locale.is_not(None))
                        .order_by(_user.c.id).limit(1)).scalar()


def summarise_held(conn: Connection, now: datetime, per_hour: int, write_text: SummaryText,
                   message_id_domain: str) -> int:
    """For each number with held rows whose hour has room again: queue ONE summary SMS and mark the
    held rows "summarised" (pointing at it). Returns how many summaries were queued."""
    held = conn.execute(select(_outbox.c.id, _outbox.c.rcpt_to, _outbox.c.ticket_id)
                        .where(_SMS, _outbox.c.status == OutboxStatus.HELD).order_by(_outbox.c.id)
                        .with_for_update(skip_locked=True)).all()  # another instance summarising skips them
    by_number: dict[str, list] = {}
    for row in held:
        by_number.setdefault(row.rcpt_to, []).append(row)
    sent = _recent_sends(conn, set(by_number), now, [])
    written = 0
    for number, rows in by_number.items():
        if sent.get(number, 0) >= per_hour:
            continue
        tickets = sorted({row.ticket_id for row in rows if row.ticket_id is not None})
        text = write_text(len(rows), tickets, _locale_of(conn, number))
        summary_id = enqueue_sms(conn, SUMMARY_KIND, None, number, text,
                                 f"sms-summary-{uuid.uuid4().hex}@{message_id_domain}", now)
        conn.execute(update(_outbox).where(_outbox.c.id.in_([row.id for row in rows]))
                     .values(status=OutboxStatus.SUMMARISED, last_error=f"summarised in outbox {summary_id}"))
        log.info("outbox %d: summary of %d held SMS to one number", summary_id, len(rows))
        written += 1
    return written


def record_sms_results(session: Session, results: list[SendResult], now: datetime, *, me: int | None,
                       policy: DeliveryPolicy, provider_refs: dict[int, str],
                       opted_out: list[str]) -> list[tuple[int, str]]:
    """Like store.outbox.record_results, plus the provider's id of each sent SMS and the numbers the
    provider reported unsubscribed. Returns the rows given up by age, as record_results does."""
    refs = [{"row_id": r.outbox_id, "ref": provider_refs[r.outbox_id]} for r in results
            if r.ok and r.outbox_id in provider_refs]
    if refs:
        session.connection().execute(SET_PROVIDER_REF, refs)
    expired = record_results(session, results, now, me=me, policy=policy)
    if opted_out:
        mark_opted_out(session.connection(), opted_out, now)
    return expired


class SmsOutboxRows:
    """The SMS dispatcher's outbox (outbound/sms_dispatcher.py SmsOutbox) over an engine.
    `per_hour`: HELPDESK_SMS_RATE_LIMIT_PER_HOUR; `instance_id` as for store.outbox.OutboxRows."""

    def __init__(self, engine: Engine, policy: DeliveryPolicy, per_hour: int, message_id_domain: str,
                 instance_id: int | None = None):
        self.engine, self.policy, self.per_hour = engine, policy, per_hour
        self.message_id_domain, self.instance_id = message_id_domain, instance_id

    def summarise_held(self, now: datetime, write_text: SummaryText) -> int:
        with new_session(self.engine) as session, session.begin():
            return summarise_held(session.connection(), now, self.per_hour, write_text, self.message_id_domain)

    def claim(self, now: datetime, limit: int, lease: timedelta) -> tuple[list[ClaimedMail], int]:
        """The rows to send now, and how many more were settled without sending: held over the
        limit, or failed because the number opted out (no provider is asked about those)."""
        with new_session(self.engine) as session, session.begin():
            claimed = claim_due(session, now, limit, lease, instance_id=self.instance_id, channel="sms",
                                stale_after=timedelta(seconds=self.policy.instance_stale_seconds))
            if not claimed:
                return [], 0
            conn = session.connection()
            stopped = opted_out_numbers(conn, {mail.rcpt_to[0] for mail in claimed})
            refused = [SendResult(m.id, ok=False, permanent=True, detail=OPTED_OUT)
                       for m in claimed if m.rcpt_to[0] in stopped]
            record_results(session, refused, now, me=self.instance_id, policy=self.policy)
            rest = [mail for mail in claimed if mail.rcpt_to[0] not in stopped]
            held = hold_over_limit(conn, rest, now, self.per_hour)
        for result in refused:
            log.warning("outbox %d failed: %s", result.outbox_id, OPTED_OUT)
        return [mail for mail in rest if mail.id not in held], len(claimed) - len(rest) + len(held)

    def record(self, results: list[SendResult], unsent: list[int], now: datetime,
               provider_refs: dict[int, str] | None = None, opted_out: list[str] | None = None) -> None:
        with new_session(self.engine) as session, session.begin():
            expired = record_sms_results(session, results, now, me=self.instance_id, policy=self.policy,
                                         provider_refs=provider_refs or {}, opted_out=opted_out or [])
            release_claims(session, unsent, self.instance_id)
        hours = self.policy.queue_lifetime_seconds / 3600
        for row_id, error in expired:
            log.warning("outbox %d failed: not delivered within %g hours (last error: %s)", row_id, hours, error)
