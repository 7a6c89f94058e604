"""The one clock: every time the gateway reads or writes is an aware UTC datetime.

Code that decides by the time takes a `Clock` (a callable returning now) instead of calling
datetime.now() itself, so tests can move time instead of waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_today(clock: Clock = utcnow) -> date:
    """Today in UTC (date.today() would be the server's local date)."""
    return clock().date()


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time the gateway writes is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
