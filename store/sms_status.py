"""What the SMS provider's status callback says became of a sent SMS, recorded on its outbox row."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.errors import TempFail, database_error_line
from helpdesk.store.inbound_messages import bound_waits
from helpdesk.store.models import Outbox

_outbox = Outbox.__table__


def record_delivery_status(engine: Engine, provider_ref: str, status: str, error: str | None,
                           timeout_ms: int = 5000) -> bool:
    """Set delivery_status (and `error`, when given, as last_error) on the SMS the provider calls
    `provider_ref`; False when no outbox row has that reference. Raises TempFail on a database error."""
    values = {"delivery_status": status} | ({"last_error": error} if error else {})
    statement = (update(_outbox).where(_outbox.c.provider_ref == provider_ref, _outbox.c.channel == "sms")
                 .values(**values))
    try:
        with engine.begin() as conn:
            bound_waits(conn, timeout_ms)
            return conn.execute(statement).rowcount > 0
    except SQLAlchemyError as exc:
        raise TempFail(f"database unavailable: {database_error_line(exc)}") from exc
