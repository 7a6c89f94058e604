"""The running gateway instances, so the outbox claims of a killed one are taken over in seconds.

Each instance adds its row at start, writes its heartbeat every instance_heartbeat_seconds and
deletes the row on a clean stop. Its outbox claims (outbox.claimed_by) hold only while the row
exists and the heartbeat is fresher than instance_stale_seconds (store/outbox.py); the
instances' clocks must agree (NTP) to well within that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Engine

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.models import Instance

_instance = Instance.__table__
BEAT = update(_instance).where(_instance.c.id == bindparam("b_id")).values(heartbeat_at=bindparam("now"))


@dataclass(frozen=True)
class InstanceRecord:
    id: int
    host: str
    pid: int
    started_at: datetime


def register_instance(engine: Engine, host: str, pid: int, now: datetime, stale_after: timedelta,
                      is_gone_here: Callable[[int, datetime], bool]) -> InstanceRecord:
    """Add this instance. First the rows of instances known to be dead go, which frees their claims
    at once: silent for longer than `stale_after`, or on this host with `is_gone_here(pid,
    started_at)` true (the usual restart after a kill -9 need not wait for the heartbeat to age)."""
    with engine.begin() as conn:
        here = conn.execute(select(_instance.c.id, _instance.c.pid, _instance.c.started_at)
                            .where(_instance.c.host == host)).all()
        dead_here = [row.id for row in here if is_gone_here(row.pid, as_utc(row.started_at))]
        conn.execute(delete(_instance).where(or_(_instance.c.heartbeat_at < now - stale_after,
                                                 _instance.c.id.in_(dead_here))))
        new_id = conn.execute(insert(_instance).returning(_instance.c.id),
                              {"host": host, "pid": pid, "started_at": now, "heartbeat_at": now}).scalar_one()
    return InstanceRecord(new_id, host, pid, now)


def write_heartbeat(engine: Engine, me: InstanceRecord, now: datetime) -> bool:
    """One small UPDATE. False when the row was gone: another instance took this one for dead (it
    was silent too long) and may have taken over its claims; the row is written again."""
    with engine.begin() as conn:
        if conn.execute(BEAT, {"b_id": me.id, "now": now}).rowcount:
            return True
        conn.execute(insert(_instance), {"id": me.id, "host": me.host, "pid": me.pid,
                                         "started_at": me.started_at, "heartbeat_at": now})
    return False


def remove_instance(engine: Engine, instance_id: int) -> None:
    """A clean stop: whatever this instance still holds is free for the others at once."""
    with engine.begin() as conn:
        conn.execute(delete(_instance).where(_instance.c.id == instance_id))
