"""Reads and writes of alerts and their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.account_tables import User
from helpdesk.store.alert_tables import Alert, AlertDelivery
from helpdesk.store.models import Outbox, Ticket

_alert, _delivery, _outbox, _user = Alert.__table__, AlertDelivery.__table__, Outbox.__table__, User.__table__
INSERT_ALERT = insert(_alert).returning(_alert.c.id)
INSERT_DELIVERY = insert(_delivery)
PHONES = select(_user.c.id, _user.c.phone).where(_user.c.id.in_(bindparam("ids", expanding=True)))
ACK = update(_alert).where(_alert.c.id == bindparam("alert_id"), _alert.c.acknowledged_at.is_(None)).values(
    acknowledged_at=bindparam("now"), acknowledged_by=bindparam("user_id"))
ACK_TICKET = update(_alert).where(_alert.c.ticket_id == bindparam("number"),
                                  _alert.c.acknowledged_at.is_(None)).values(
    acknowledged_at=bindparam("now"), acknowledged_by=bindparam("user_id"))
STOP_REPEATS = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("number")).values(
    escalation_acked=True)
_DELIVERIES = (select(_delivery.c.alert_id, _delivery.c.user_id, _delivery.c.channel, _delivery.c.address,
                      _delivery.c.outbox_id, _outbox.c.status, _delivery.c.detail)
               .outerjoin(_outbox, _outbox.c.id == _delivery.c.outbox_id))


def insert_alert(conn: Connection, *, kind: str, level: str, initiator: str, ticket_id: int | None, subject: str,
                 text: str, now: datetime, escalation_level: int | None = None, object_id: int | None = None) -> int:
    return conn.execute(INSERT_ALERT, {"kind": kind, "level": level, "initiator": initiator, "ticket_id": ticket_id,
                                       "subject": subject, "text": text, "created_at": now,
                                       "escalation_level": escalation_level, "object_id": object_id}).scalar_one()


def insert_deliveries(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(INSERT_DELIVERY, rows)


def phones(conn: Connection, user_ids: list[int]) -> dict[int, str | None]:
    return dict(conn.execute(PHONES, {"ids": sorted(set(user_ids))}).all()) if user_ids else {}


def acknowledge(conn: Connection, alert_id: int, user_id: int | None, now: datetime) -> int | None:
    """Acknowledge one alert; its ticket's escalation stops repeating. Returns the ticket number
    (None when the alert has none); raises LookupError for an unknown or already acknowledged alert."""
    row = conn.execute(select(_alert.c.ticket_id, _alert.c.acknowledged_at).where(_alert.c.id == alert_id)).first()
    if row is None:
        raise LookupError(f"no alert {alert_id}")
    if row[1] is not None:
        raise LookupError(f"alert {alert_id} was already acknowledged at {as_utc(row[1]).isoformat()}")
    conn.execute(ACK, {"alert_id": alert_id, "now": now, "user_id": user_id})
    if row[0] is not None:
        conn.execute(STOP_REPEATS, {"number": row[0]})
    return row[0]


def acknowledge_ticket(conn: Connection, number: int, user_id: int | None, now: datetime) -> int:
    """`#ack` on a ticket: every open alert of it is acknowledged; returns how many."""
    count = conn.execute(ACK_TICKET, {"number": number, "now": now, "user_id": user_id}).rowcount
    conn.execute(STOP_REPEATS, {"number": number})
    return count


def deliveries(conn: Connection, alert_ids: list[int]) -> dict[int, list[dict]]:
    """alert id -> its deliveries, with the outbox status saying whether each was delivered."""
    found: dict[int, list[dict]] = {}
    if not alert_ids:
        return found
    query = _DELIVERIES.where(_delivery.c.alert_id.in_(alert_ids)).order_by(_delivery.c.id)
    for alert_id, user_id, channel, address, outbox_id, status, detail in conn.execute(query):
        found.setdefault(alert_id, []).append({
            "user_id": user_id, "channel": channel, "address": address, "outbox_id": outbox_id,
            "delivery": "stored" if channel == "web" else (status or "not sent"), "detail": detail})
    return found
