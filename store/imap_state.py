"""Per-mailbox IMAP progress and the lease that lets one gateway instance at a time read a mailbox.

Storing a batch and advancing last_uid happen in one transaction, guarded by the lease: a
message is committed exactly once per UIDVALIDITY, and an instance that lost its lease
cannot advance the mailbox behind the new holder's back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from helpdesk.gateway.ground.errors import LeaseLost
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.statuses import InboundStatus
from helpdesk.store.inbound_messages import bound_waits, insert_raw
from helpdesk.store.models import ImapMailbox, InboundMessage

_box = ImapMailbox.__table__


def acquire_lease(engine: Engine, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another live instance holds it."""
    with engine.begin() as conn:
        if conn.execute(select(_box.c.name).where(_box.c.name == name)).first() is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(_box).values(name=name, last_uid=0))
            except IntegrityError:
                pass  # another instance created it at the same moment
        taken = conn.execute(update(_box).where(
            _box.c.name == name,
            or_(_box.c.lease_holder.is_(None), _box.c.lease_holder == holder, _box.c.lease_until < now),
        ).values(lease_holder=holder, lease_until=now + ttl))
        return taken.rowcount == 1


def release_lease(engine: Engine, name: str, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(_box).where(_box.c.name == name, _box.c.lease_holder == holder)
                     .values(lease_holder=None, lease_until=None))


def progress(engine: Engine, name: str) -> tuple[int | None, int]:
    """(uidvalidity, last stored uid) of a mailbox."""
    with engine.execution_options(read_only=True).begin() as conn:  # no SQLite write lock for a read
        row = conn.execute(select(_box.c.uidvalidity, _box.c.last_uid).where(_box.c.name == name)).first()
    return (row[0], row[1]) if row else (None, 0)


def start_uidvalidity(engine: Engine, name: str, holder: str, uidvalidity: int) -> None:
    """A new UIDVALIDITY: UIDs mean other messages now, so scan from the start (duplicates of mail
    already stored are recognised by Message-ID later)."""
    with engine.begin() as conn:
        changed = conn.execute(update(_box).where(_box.c.name == name, _box.c.lease_holder == holder)
                               .values(uidvalidity=uidvalidity, last_uid=0))
        if changed.rowcount != 1:
            raise LeaseLost(name)


def store_batch(engine: Engine, name: str, holder: str, uidvalidity: int, items: list[tuple[int, RawInbound]],
                timeout_ms: int = 5000) -> list[int]:
    """Commit the raw messages and advance last_uid past them, atomically."""
    with engine.begin() as conn:
        bound_waits(conn, timeout_ms)
        ids = insert_raw(conn, [raw for _, raw in items])
        advanced = conn.execute(update(_box).where(
            and_(_box.c.name == name, _box.c.lease_holder == holder, _box.c.uidvalidity == uidvalidity)
        ).values(last_uid=max(uid for uid, _ in items)))
        if advanced.rowcount != 1:
            raise LeaseLost(name)  # rolls the inserts back with the transaction
    return ids


def pending_from(engine: Engine, source: str) -> int:
    """How many messages from this source still wait for processing."""
    inbound = InboundMessage.__table__
    with engine.execution_options(read_only=True).begin() as conn:
        return conn.execute(select(func.count()).select_from(inbound).where(
            inbound.c.status == InboundStatus.PENDING, inbound.c.source == source)).scalar()


class ImapProgress:
    """The MailboxProgressStore port over an engine (the IMAP reader knows no SQL)."""

    def __init__(self, engine: Engine, timeout_ms: int = 5000):
        self.engine, self.timeout_ms = engine, timeout_ms

    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        return acquire_lease(self.engine, name, holder, now, ttl)

    def release_lease(self, name: str, holder: str) -> None:
        release_lease(self.engine, name, holder)

    def progress(self, name: str) -> tuple[int | None, int]:
        return progress(self.engine, name)

    def start_uidvalidity(self, name: str, holder: str, uidvalidity: int) -> None:
        start_uidvalidity(self.engine, name, holder, uidvalidity)

    def store_batch(self, name: str, holder: str, uidvalidity: int, items: list[tuple[int, RawInbound]]) -> None:
        store_batch(self.engine, name, holder, uidvalidity, items, self.timeout_ms)

    def pending_from(self, source: str) -> int:
        return pending_from(self.engine, source)
