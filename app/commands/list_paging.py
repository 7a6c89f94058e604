"""What the paged `list` commands share: --limit/--offset and --since/--until read strictly, and the
notice on stderr that a list is cut (stdout stays a clean table or JSON document for scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import typer

from helpdesk.app.commands.console import fail

DEFAULT_LIMIT = 50  # a screenful an operator reads; more with --limit, the rest with --offset
MAX_LIMIT = 100_000  # a page is held in memory whole
MAX_OFFSET = 2**63 - 1  # what the database's 64-bit OFFSET takes
BAD_VALUE = 2  # a usage error, as click exits for its own

# Options as text: typer's own check of an int prints a framed usage block, not one line.
LIMIT = typer.Option(str(DEFAULT_LIMIT), "--limit", metavar="N", help="Show at most N rows (1 to 100000).")
OFFSET = typer.Option("0", "--offset", metavar="N", help="Skip the first N rows (for the next page).")
SINCE = typer.Option(None, "--since", metavar="WHEN",
                     help="From this UTC date or time on (2026-01-31 or 2026-01-31T09:30).")
UNTIL = typer.Option(None, "--until", metavar="WHEN",
                     help="Before this UTC time; a date includes that whole day.")


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


@dataclass(frozen=True)
class Window:
    """Aware UTC bounds: since inclusive, until exclusive; None is open."""

    since: datetime | None
    until: datetime | None


def bad_value(option: str, problem: str) -> None:
    fail(f"{option}: {problem}", BAD_VALUE)


def one_of(value: str | None, option: str, allowed) -> str | None:
    """`value` when it is one of `allowed` (or not given); else the one-line error naming them."""
    if value is not None and value not in tuple(allowed):
        bad_value(option, f"unknown {option[2:]} {value!r} (one of {', '.join(allowed)})")
    return value


def _whole_number(value: str, option: str, lowest: int, highest: int) -> int:
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or not lowest <= int(text) <= highest:
        bad_value(option, f"expected a whole number from {lowest} to {highest}, got {value!r}")
    return int(text)


def read_page(limit: str, offset: str) -> Page:
    return Page(_whole_number(limit, "--limit", 1, MAX_LIMIT), _whole_number(offset, "--offset", 0, MAX_OFFSET))


def _moment(value: str, option: str, day_end: bool) -> datetime | None:
    """A date is a whole UTC day (--until includes it); a time without offset is UTC."""
    text = value.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is not None:
        try:
            return datetime.combine(day + timedelta(days=1 if day_end else 0), time(), UTC)
        except OverflowError:  # --until 9999-12-31: no time after it exists, so no bound
            return None
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that moves year 1 or 9999 out of range
        bad_value(option, f"expected a date like 2026-01-31 or a time like 2026-01-31T09:30 (UTC), got {value!r}")


def read_window(since: str | None, until: str | None) -> Window:
    window = Window(_moment(since, "--since", False) if since is not None else None,
                    _moment(until, "--until", True) if until is not None else None)
    if window.since and window.until and window.since >= window.until:
        bad_value("--since", f"{since!r} is not before --until {until!r}")
    return window


def page_notice(page: Page, shown: int, total: int, noun: str) -> str | None:
    """None when the list is whole; else which rows these are and how to get the next ones."""
    if page.offset == 0 and shown == total:
        return None
    if shown == 0:
        return f"showing none of {total} {noun}: --offset {page.offset} is past the end"
    first, last = page.offset + 1, page.offset + shown
    rows = f"{shown}" if first == 1 else f"{first}-{last}"
    more = f"; --offset {last} for the next page" if last < total else ""
    return f"showing {rows} of {total} {noun}{more}"


def tell_if_cut(page: Page, shown: int, total: int, noun: str) -> None:
    notice = page_notice(page, shown, total, noun)
    if notice:
        typer.echo(notice, err=True)
