"""Reads of `helpdesk alerts list` and `show`: a page of alerts with the total, and one alert whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.account_tables import User, UserEmail
from helpdesk.store.alert_tables import Alert
from helpdesk.store.alerts import deliveries
from helpdesk.store.models import Ticket

_alert, _user, _email, _ticket = Alert.__table__, User.__table__, UserEmail.__table__, Ticket.__table__
NAMES = select(_user.c.id, _user.c.display_name).where(_user.c.id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a list shows; times are aware UTC on created_at, since inclusive, until exclusive."""

    level: str | None = None
    initiator: str | None = None
    kind: str | None = None
    ticket: int | None = None
    object_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    unacknowledged: bool = False


def _iso(value: datetime | None) -> str | None:
    # SQLite hands back naive UTC, PostgreSQL the session's zone: both are shown as UTC.
    return as_utc(value).astimezone(UTC).isoformat() if value else None


def _primary_address(user_id):
    """A user's address as the rest of the CLI shows it (primary first), inside the row's own query."""
    return (select(_email.c.address).where(_email.c.user_id == user_id)
            .order_by(_email.c.is_primary.desc(), _email.c.address).limit(1).scalar_subquery())


_COLUMNS = (_alert.c.id, _alert.c.created_at, _alert.c.level, _alert.c.initiator, _alert.c.kind,
            _alert.c.ticket_id, _alert.c.object_id, _alert.c.subject, _alert.c.escalation_level,
            _alert.c.acknowledged_at,
            _primary_address(_alert.c.acknowledged_by).label("acknowledged_by"))


def _conditions(f: AlertFilter) -> list:
    equal = ((_alert.c.level, f.level), (_alert.c.initiator, f.initiator), (_alert.c.kind, f.kind),
             (_alert.c.ticket_id, f.ticket), (_alert.c.object_id, f.object_id))
    conditions = [column == value for column, value in equal if value is not None]
    # SQLite compares times as UTC text without an offset, so a bound must be UTC already.
    if f.since is not None:
        conditions.append(_alert.c.created_at >= f.since.astimezone(UTC))
    if f.until is not None:
        conditions.append(_alert.c.created_at < f.until.astimezone(UTC))
    if f.unacknowledged:
        conditions.append(_alert.c.acknowledged_at.is_(None))
    return conditions


def _row(r) -> dict:
    return {"id": r.id, "created_at": _iso(r.created_at), "level": r.level, "initiator": r.initiator,
            "kind": r.kind, "ticket": r.ticket_id, "object": r.object_id, "subject": r.subject,
            "escalation_level": r.escalation_level,
            "acknowledged_at": _iso(r.acknowledged_at), "acknowledged_by": r.acknowledged_by}


def alert_page(conn: Connection, f: AlertFilter, limit: int, offset: int = 0) -> tuple[list[dict], int]:
    """A page of alerts, newest first, and how many match (counted only when the page cannot tell)."""
    conditions = _conditions(f)
    query = (select(*_COLUMNS).where(*conditions).order_by(_alert.c.created_at.desc(), _alert.c.id.desc())
             .limit(limit).offset(offset))
    rows = [_row(r) for r in conn.execute(query)]
    if 0 < len(rows) < limit or (not rows and offset == 0):
        return rows, offset + len(rows)
    return rows, conn.execute(select(func.count()).select_from(_alert).where(*conditions)).scalar_one()


def _names(conn: Connection, user_ids: set[int]) -> dict[int, str]:
    return dict(conn.execute(NAMES, {"ids": sorted(user_ids)}).all()) if user_ids else {}


def alert_detail(conn: Connection, alert_id: int) -> dict | None:
    """Every field of one alert, its ticket's subject, and each delivery with the recipient's name."""
    row = conn.execute(select(*_COLUMNS, _alert.c.text, _ticket.c.subject.label("ticket_subject"))
                       .outerjoin(_ticket, _ticket.c.id == _alert.c.ticket_id)
                       .where(_alert.c.id == alert_id)).first()
    if row is None:
        return None
    sent = deliveries(conn, [alert_id]).get(alert_id, [])
    names = _names(conn, {d["user_id"] for d in sent if d["user_id"] is not None})
    return {**_row(row), "text": row.text, "ticket_subject": row.ticket_subject,
            "deliveries": [{"name": names.get(d["user_id"], ""), **d} for d in sent]}
