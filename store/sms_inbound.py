"""Incoming SMS committed raw, once per MessageSid, before Twilio is told it is stored."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import TempFail, database_error_line
from helpdesk.gateway.ground.message import RawInbound
from helpdesk.gateway.ground.statuses import InboundStatus
from helpdesk.store.inbound_messages import bound_waits
from helpdesk.store.models import InboundMessage

_inbound = InboundMessage.__table__


def store_sms(engine: Engine, sms: RawInbound, message_sid: str, timeout_ms: int = 5000) -> int | None:
    """Insert and commit; the new id, or None when this MessageSid is stored already.

    Raises TempFail when the database cannot take it (waits bounded as for mail), so the
    webhook answers 503 and Twilio delivers again.
    """
    try:
        with engine.begin() as conn:
            bound_waits(conn, timeout_ms)
            return insert_sms(conn, sms, message_sid)
    except SQLAlchemyError as exc:
        raise TempFail(f"database unavailable: {database_error_line(exc)}") from exc


def insert_sms(conn: Connection, sms: RawInbound, message_sid: str) -> int | None:
    """Insert a pending SMS in the caller's transaction unless its MessageSid is there already."""
    # ON CONFLICT rather than a lookup first: two deliveries of one SMS racing each other
    # (Twilio retries after a timeout) still end as one row, and neither gets an error.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(_inbound).on_conflict_do_nothing(index_elements=["external_id"])
                 .returning(_inbound.c.id))
    return conn.execute(statement, {
        "raw": sms.raw, "envelope_from": sms.envelope_from, "envelope_to": ",".join(sms.envelope_to),
        "source": sms.source, "channel": sms.channel, "received_at": utcnow(), "status": InboundStatus.PENDING,
        "attempts": 0, "external_id": message_sid,
    }).scalar_one_or_none()
