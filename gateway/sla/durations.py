"""SLA durations and moments as people read them in alerts and lists: "1 h 20 min", "2026-12-01 14:00 UTC"."""

from __future__ import annotations

from datetime import datetime


def say_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes = max(0, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def say_moment(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""
