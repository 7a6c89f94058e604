"""Working calendars over random moments: working_seconds and add_working are inverse, and both
(with their shortcuts: nominal days, skipped weeks) agree with the plain definition written out here."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpdesk.gateway.sla.calendar import WorkingCalendar
from tests.test_sla_calendar import ALL_DAY, HOUR, LUNCH_BREAK, OFFICE, WARSAW, calendar

HAVANA, SANTIAGO, LORD_HOWE = ZoneInfo("America/Havana"), ZoneInfo("America/Santiago"), ZoneInfo("Australia/Lord_Howe")
CALENDARS = [
    calendar(country="CZ"),
    calendar(zone=WARSAW, hours=LUNCH_BREAK, country="PL", closed=[date(2026, 5, 4), date(2026, 12, 31)],
             name="lunch"),
    calendar(hours=ALL_DAY, days=range(7), name="all-days"),
    calendar(hours=((time(0, 30), time(2, 30)), (time(2, 45), time(5))), days=[5, 6], name="dst-night"),
    calendar(hours=((time(1), time(2, 30)), (time(3), time(4))), days=[6], name="overlapping"),
    calendar(zone=HAVANA, hours=((time(0), time(2)), (time(22), time(0))), days=range(6), name="havana-night"),
    calendar(zone=SANTIAGO, hours=((time(20), time(0)),), days=[5], country="CL", name="santiago-saturday"),
    calendar(zone=LORD_HOWE, hours=((time(1, 30), time(3)),), days=[6], name="lord-howe-sunday"),
    calendar(hours=OFFICE, days=[0, 1, 2, 3, 4, 5, 6], closed=[date(2026, 1, 1) + timedelta(n) for n in range(40)],
             name="closed-january"),
    WorkingCalendar.around_the_clock(),
]
NAMED = {cal.name: cal for cal in CALENDARS}
FIRST, LAST = datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 12, 31, tzinfo=UTC)
MOMENTS = st.integers(0, int((LAST - FIRST).total_seconds())).map(lambda s: FIRST + timedelta(seconds=s))
DST_EDGES = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
             datetime(2026, 4, 5, 3, tzinfo=UTC), datetime(2026, 9, 6, 4, tzinfo=UTC)]
PROPERTIES = settings(max_examples=300, derandomize=True, deadline=None)


@lru_cache(maxsize=None)
def holidays_of(country: str, year: int) -> frozenset[date]:
    name, _, subdiv = country.partition("-")
    return frozenset(holidays.country_holidays(name, subdiv=subdiv or None, years=year))


def to_utc_seconds(day: date, moment: time, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, moment, zone).timestamp())


def plain_spans(cal: WorkingCalendar, first: date, last: date) -> list[tuple[int, int]]:
    """The definition without shortcuts: each boundary of each local day from `first` to `last`
    converted on its own (fold=0), then kept in order and within the day."""
    spans = []
    for n in range((last - first).days + 1):
        day = first + timedelta(n)
        if day in cal.closed_days or (cal.holiday_country and day in holidays_of(cal.holiday_country, day.year)):
            continue
        floor, ceiling = to_utc_seconds(day, time(0), cal.zone), to_utc_seconds(day + timedelta(1), time(0), cal.zone)
        previous = floor
        for start, end in cal.hours.get(day.weekday(), ()):
            a = min(max(to_utc_seconds(day, start, cal.zone), previous), ceiling)
            b = ceiling if end == time(0) else min(max(to_utc_seconds(day, end, cal.zone), a), ceiling)
            spans += [(a, b)] if b > a else []
            previous = b
    return spans


def plain_working_seconds(cal: WorkingCalendar, start: datetime, end: datetime) -> int:
    if cal.always:
        return max(0, int(end.timestamp()) - int(start.timestamp()))
    first, last = start.astimezone(cal.zone).date() - timedelta(1), end.astimezone(cal.zone).date() + timedelta(1)
    begin, finish = int(start.timestamp()), int(end.timestamp())
    return sum(max(0, min(b, finish) - max(a, begin)) for a, b in plain_spans(cal, first, last))


@PROPERTIES
@given(st.sampled_from(CALENDARS), MOMENTS, st.integers(0, 90 * 24 * HOUR))
@example(NAMED["office"], DST_EDGES[0] - timedelta(days=3), 8 * 24 * HOUR)
@example(NAMED["dst-night"], DST_EDGES[1] - timedelta(hours=3), 3 * HOUR)
@example(NAMED["santiago-saturday"], DST_EDGES[2] - timedelta(hours=1), 2 * HOUR)
@example(NAMED["santiago-saturday"], DST_EDGES[3] - timedelta(hours=5), 7 * 24 * HOUR)
def test_working_seconds_follow_the_plain_definition(cal, start, length):
    end = start + timedelta(seconds=length)
    assert cal.working_seconds(start, end) == plain_working_seconds(cal, start, end)
    assert cal.working_seconds(end, start) == 0


@PROPERTIES
@given(st.sampled_from(CALENDARS), MOMENTS, st.integers(0, 30 * 9 * HOUR))
@example(NAMED["office"], DST_EDGES[0] - timedelta(days=2), 4 * HOUR)
@example(NAMED["all-days"], DST_EDGES[0] - timedelta(hours=2), 2 * HOUR)
@example(NAMED["lord-howe-sunday"], datetime(2026, 10, 3, 15, 10, tzinfo=UTC), 40 * 60)
def test_add_working_and_working_seconds_are_inverse(cal, start, seconds):
    due = cal.add_working(start, seconds)
    assert due.tzinfo is UTC and due >= start
    assert cal.working_seconds(start, due) == seconds
    if seconds:  # due is the first moment with that much working time behind it
        assert cal.working_seconds(start, due - timedelta(seconds=1)) == seconds - 1


@PROPERTIES
@given(st.sampled_from(CALENDARS), MOMENTS, st.integers(0, 60 * 24 * HOUR))
def test_the_time_worked_until_a_moment_falls_due_by_that_moment(cal, start, length):
    end = start + timedelta(seconds=length)
    due = cal.add_working(start, cal.working_seconds(start, end))
    assert due <= end
    assert cal.working_seconds(due, end) == 0  # no working time is left between them


@PROPERTIES
@given(st.sampled_from(CALENDARS), MOMENTS)
def test_the_next_working_moment_is_where_work_starts(cal, moment):
    found = cal.next_working_moment(moment)
    assert found >= moment
    assert cal.working_seconds(moment, found) == 0
    assert cal.working_seconds(found, found + timedelta(seconds=1)) == 1
    assert cal.add_working(moment, 1) == found.replace(microsecond=0) + timedelta(seconds=1)
