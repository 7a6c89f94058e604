"""People as SMS sees them: a number's opt-out (STOP/START) and a contact's phone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import User

_user = User.__table__
OPTED_OUT = select(_user.c.id).where(_user.c.phone == bindparam("number"), _user.c.sms_opted_out_at.is_not(None))
SET_OPT_OUT = update(_user).where(_user.c.phone == bindparam("number")).values(sms_opted_out_at=bindparam("at"))
PHONE = select(_user.c.phone, _user.c.sms_opted_out_at).where(_user.c.id == bindparam("user_id"))


def is_opted_out(conn: Connection, phone: str) -> bool:
    """Whether any user with this number said STOP (and not START since)."""
    return conn.execute(OPTED_OUT.limit(1), {"number": phone}).first() is not None


def set_opt_out(conn: Connection, phone: str, at: datetime | None) -> int:
    """STOP (at = now) or START (at = None) for every user with this number; returns how many."""
    return conn.execute(SET_OPT_OUT, {"number": phone, "at": at}).rowcount


def phone_of(conn: Connection, user_id: int) -> tuple[str | None, bool]:
    """The user's number and whether it opted out of SMS."""
    row = conn.execute(PHONE, {"user_id": user_id}).first()
    return (row[0], row[1] is not None) if row else (None, False)
