"""Billing periods by name: `2026-10` is October 2026 (monthly contracts), `2026-Q4` its quarter
(quarterly contracts); which period is due at a given moment; how many days a contract is active in one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from helpdesk.gateway.ground.errors import UserError

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


@dataclass(frozen=True)
class Period:
    key: str          # 2026-10, 2026-Q4
    kind: str         # the contracts' billing_period it bills: monthly, quarterly
    start: date
    end: date         # the last day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def parse_period(text: str) -> Period:
    """`2026-10` or `2026-Q4`; UserError naming the problem otherwise."""
    text = (text or "").strip().upper()
    if match := _MONTH.fullmatch(text):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 2000 <= year <= 9999:
            return Period(text, "monthly", date(year, month, 1), _month_end(year, month))
    elif match := _QUARTER.fullmatch(text):
        year, quarter = int(match[1]), int(match[2])
        if 2000 <= year <= 9999:
            first = 3 * quarter - 2
            return Period(text, "quarterly", date(year, first, 1), _month_end(year, first + 2))
    raise UserError(f"period must be a month like 2026-10 or a quarter like 2026-Q4, got {text!r}")


def active_window(period: Period, starts_on: date, ends_on: date | None) -> tuple[date, date]:
    """The first and last day of the period the contract runs (first after last when it does not)."""
    first = max(period.start, starts_on)
    last = min(period.end, ends_on) if ends_on else period.end
    return first, last


def active_days(period: Period, starts_on: date, ends_on: date | None) -> int:
    """Days of the period the contract runs (0 when it does not run in it at all)."""
    first, last = active_window(period, starts_on, ends_on)
    return max(0, (last - first).days + 1)


def periods_due(now: datetime, run_hour: int) -> list[Period]:
    """The periods that ended before today's run hour: the previous month, and on a quarter's first
    month the previous quarter as well. Before the run hour of the first day, the ones before those."""
    today = now.date() if now.hour >= run_hour or now.day != 1 else now.date() - timedelta(days=1)
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    due = [parse_period(f"{last_month_end.year}-{last_month_end.month:02d}")]
    quarter_start = month_start.replace(month=3 * ((month_start.month - 1) // 3) + 1)
    last_quarter_end = quarter_start - timedelta(days=1)
    due.append(parse_period(f"{last_quarter_end.year}-Q{(last_quarter_end.month - 1) // 3 + 1}"))
    return due
