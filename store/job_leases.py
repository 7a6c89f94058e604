"""One run per scheduled job across gateway instances: a lease row per job in the database.

An instance runs a job only after taking its lease (a conditional UPDATE, so two instances
racing for it cannot both win); a dead instance's lease runs out after its time to live.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from helpdesk.store.alert_tables import JobLease

_lease = JobLease.__table__
_TAKE = update(_lease).where(
    _lease.c.name == bindparam("job"),
    or_(_lease.c.lease_until.is_(None), _lease.c.lease_until < bindparam("now"), _lease.c.holder == bindparam("me")),
).values(holder=bindparam("me"), lease_until=bindparam("until"))
_DONE = update(_lease).where(_lease.c.name == bindparam("job"), _lease.c.holder == bindparam("me")).values(
    lease_until=None, last_run_at=bindparam("now"))


def take_lease(conn: Connection, job: str, me: str, now: datetime, ttl: timedelta) -> bool:
    """True when this instance may run `job` now (nobody else holds a live lease on it)."""
    if conn.execute(select(_lease.c.name).where(_lease.c.name == job)).first() is None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        # ON CONFLICT DO NOTHING: another instance may create the row at the same moment
        conn.execute(dialect.insert(_lease).values(name=job).on_conflict_do_nothing(index_elements=["name"]))
    return conn.execute(_TAKE, {"job": job, "me": me, "now": now, "until": now + ttl}).rowcount == 1


def release_lease(conn: Connection, job: str, me: str, now: datetime) -> None:
    conn.execute(_DONE, {"job": job, "me": me, "now": now})
