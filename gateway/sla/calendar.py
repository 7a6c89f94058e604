"""Working calendars: how much working time lies between two moments, and when a target falls due.

A calendar is weekly working hours in a timezone, minus public holidays (the `holidays` package)
and the provider's own closing days, or 24/7. Moments in and out are aware UTC datetimes counted
in whole seconds (a fraction of a second is dropped). Each local day is turned into UTC spans of
its own, so a DST change day has 23 or 25 hours. A boundary at a local time that a DST change
skips or repeats is read with fold=0, the offset in force before the change (a skipped 02:30 is
03:30 summer time, a repeated 02:30 its first occurrence); the day's boundaries are then kept in
order and within the day, so a span can shrink or vanish there but no second counts twice.

The arithmetic steps per working span and per day, never per second, and jumps over whole weeks
that hold no holiday, closing day or DST change, whose working time is the nominal weekly total.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

DAY = 86400
MIDNIGHT = time(0, 0)
SEARCH_DAYS = 366 * 2  # a calendar without a working day this long is a configuration mistake
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")

Spans = tuple[tuple[int, int], ...]  # [start, end) in UTC seconds since the epoch


def check_country(code: str) -> None:
    """Raise ValueError unless `code` ("PL", "DE-BY": country-subdivision) is known to `holidays`."""
    country, _, subdiv = code.partition("-")
    if not _is_known(country, None):
        raise ValueError(f"unknown holiday country {code!r}")
    if subdiv and not _is_known(country, subdiv):
        raise ValueError(f"unknown holiday country {code!r}: {country} has no subdivision {subdiv!r}")


@lru_cache(maxsize=256)
def _is_known(country: str, subdiv: str | None) -> bool:
    try:
        holidays.country_holidays(country, subdiv=subdiv, years=())
    except NotImplementedError:
        return False
    return True


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """"08:00-12:00, 13:00-17:00" as sorted (start, end) pairs; "24:00" ends at midnight (time(0, 0))."""
    intervals = []
    for part in text.split(","):
        found = _INTERVAL.fullmatch("".join(part.split()))
        if found is None:
            raise ValueError(f"working hours {text!r}: {part.strip()!r} is not like 08:00-12:00")
        start_hour, start_minute, end_hour, end_minute = (int(g) for g in found.groups())
        if (end_hour, end_minute) == (0, 0):
            raise ValueError(f"working hours {text!r}: write 24:00, not 00:00, for an end at midnight")
        if start_hour > 23 or end_hour > 24 or start_minute > 59 or end_minute > 59 or (end_hour == 24 and end_minute):
            raise ValueError(f"working hours {text!r}: {part.strip()!r} is not a time of day")
        intervals.append((time(start_hour, start_minute), time(end_hour % 24, end_minute)))
    intervals.sort()
    _check_intervals(intervals, f"working hours {text!r}")
    return tuple(intervals)


def _check_intervals(intervals, where: str) -> None:
    """Every start before its end and after the previous end; end time(0, 0) is midnight."""
    previous_end = 0
    for start, end in intervals:
        if any(t.tzinfo is not None or t.microsecond for t in (start, end)):
            raise ValueError(f"{where}: times must be local, in whole seconds: {start}-{end}")
        begins, ends = _seconds_of(start), _seconds_of(end) or DAY
        if ends <= begins:
            raise ValueError(f"{where}: {start:%H:%M}-{end:%H:%M} must end after it starts")
        if begins < previous_end:
            raise ValueError(f"{where}: {start:%H:%M}-{end:%H:%M} overlaps or precedes the interval before it")
        previous_end = ends


def _seconds_of(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


@lru_cache(maxsize=256)
def _offset_changes(zone: tzinfo, year: int) -> frozenset[int]:
    """Days (ordinals) whose local midnight has another UTC offset than the next one: DST change days.

    Every other day is 24 hours long, so its spans are its UTC midnight plus local seconds (a day
    with two changes that cancel each other out would pass for an ordinary day)."""
    first = date(year, 1, 1)
    count = date(year + 1, 1, 1).toordinal() - first.toordinal()
    offsets = [datetime.combine(first + timedelta(n), MIDNIGHT, zone).utcoffset() for n in range(count + 1)]
    return frozenset(first.toordinal() + n for n in range(count) if offsets[n] != offsets[n + 1])


@dataclass(frozen=True, slots=True)
class _Year:
    """What one calendar year holds for one calendar, as day ordinals."""
    first: int
    last: int
    closed: frozenset[int]   # public holidays and the provider's closing days
    changes: frozenset[int]  # DST change days
    unusual: tuple[int, ...]  # both, sorted: the days on which a week may not be the usual week


@lru_cache(maxsize=256)
def _year_profile(zone: tzinfo, holiday_country: str | None, closed_days: frozenset[date], year: int) -> _Year:
    closed = frozenset(day.toordinal() for day in closed_days if day.year == year)
    if holiday_country:
        country, _, subdiv = holiday_country.partition("-")
        closed |= {day.toordinal() for day in holidays.country_holidays(country, subdiv=subdiv or None, years=year)}
    changes = _offset_changes(zone, year)
    return _Year(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal(), closed, changes,
                 tuple(sorted(closed | changes)))


def _to_seconds(moment: datetime) -> int:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: SLA times must be timezone-aware UTC")
    return (moment - _EPOCH) // _SECOND


def _to_datetime(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _overlap(spans: Spans, begin: int, end: int) -> int:
    return sum(max(0, min(b, end) - max(a, begin)) for a, b in spans)


def _spend(spans: Spans, since: int, left: int) -> tuple[int | None, int]:
    """Spend `left` working seconds of `spans` from `since` on: the moment they run out, or None and the rest."""
    for a, b in spans:
        a = max(a, since)
        if b > a:
            if left <= b - a:
                return a + left, 0
            left -= b - a
    return None, left


@dataclass(frozen=True)
class WorkingCalendar:
    name: str
    zone: ZoneInfo  # local time of the working hours
    # weekday (0 = Monday) -> sorted, non-overlapping local intervals; an end of time(0, 0) is midnight
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(hash=False)  # a mapping cannot be hashed
    holiday_country: str | None = None  # "PL", "CZ", "DE-BY" (country-subdivision)
    closed_days: frozenset[date] = frozenset()  # the provider's own closing days
    always: bool = False  # 24/7: every second counts; hours, holidays and closing days are ignored
    _week: tuple[Spans, ...] = field(init=False, repr=False, compare=False)  # local seconds per weekday
    _nominal: tuple[int, ...] = field(init=False, repr=False, compare=False)  # working seconds per weekday
    _weekly: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.zone, tzinfo):
            raise ValueError(f"calendar {self.name!r}: zone must be a ZoneInfo, got {self.zone!r}")
        hours = {day: tuple(intervals) for day, intervals in self.hours.items()}
        for day, intervals in hours.items():
            if day not in range(7):
                raise ValueError(f"calendar {self.name!r}: weekday {day!r} is not 0 (Monday) to 6 (Sunday)")
            _check_intervals(intervals, f"calendar {self.name!r}, {WEEKDAYS[day]}")
        if self.holiday_country is not None:
            check_country(self.holiday_country)
        week = tuple(tuple((_seconds_of(s), _seconds_of(e) or DAY) for s, e in hours.get(day, ())) for day in range(7))
        nominal = tuple(sum(e - s for s, e in spans) for spans in week)
        # Frozen, yet the caller's dict or set could still change under us: keep copies that cannot.
        object.__setattr__(self, "hours", MappingProxyType(hours))
        object.__setattr__(self, "closed_days", frozenset(self.closed_days))
        object.__setattr__(self, "_week", week)
        object.__setattr__(self, "_nominal", nominal)
        object.__setattr__(self, "_weekly", sum(nominal))

    @classmethod
    def around_the_clock(cls, name: str = "24/7") -> WorkingCalendar:
        return cls(name, ZoneInfo("UTC"), {}, always=True)

    def is_working_day(self, day: date) -> bool:
        ordinal = day.toordinal()
        return self.always or bool(self._week[day.weekday()]) and ordinal not in self._year_at(ordinal).closed

    def working_seconds(self, start: datetime, end: datetime) -> int:
        """Working seconds in [start, end); 0 if end <= start."""
        begin, finish = _to_seconds(start), _to_seconds(end)
        if finish <= begin:
            return 0
        if self.always:
            return finish - begin
        first, first_midnight, year = self._locate(begin)
        last, last_midnight, last_year = self._locate(finish)
        total = _overlap(self._spans(first, first_midnight, year), begin, finish)
        if last == first:
            return total
        day = first + 1
        while day < last:
            if day > year.last:
                year = self._year_at(day)
            weeks = min(self._clean_weeks(day, year), (last - day) // 7) if last - day >= 7 else 0
            if weeks:
                total += weeks * self._weekly
                day += 7 * weeks
                continue
            total += self._day_seconds(day, year)
            day += 1
        return total + _overlap(self._spans(last, last_midnight, last_year), begin, finish)

    def add_working(self, start: datetime, seconds: int) -> datetime:
        """The moment when `seconds` of working time after `start` have elapsed; `start` for seconds <= 0."""
        since = _to_seconds(start)
        if seconds <= 0:
            return start.astimezone(UTC)
        if self.always:
            return _to_datetime(since + seconds)
        day, midnight, year = self._locate(since)
        due, left = _spend(self._spans(day, midnight, year), since, seconds)
        idle = 0
        while due is None:
            midnight, day = self._next_midnight(day, midnight, year), day + 1
            if day > year.last:
                year = self._year_at(day)
            if left > self._weekly > 0:
                weeks = min(self._clean_weeks(day, year), (left - 1) // self._weekly)
                left, day, midnight = left - weeks * self._weekly, day + 7 * weeks, midnight + 7 * weeks * DAY
                if day > year.last:
                    year = self._year_at(day)
            worked = self._day_seconds(day, year)
            if worked >= left:
                due, left = _spend(self._spans(day, midnight, year), since, left)
            else:
                left -= worked
            idle = 0 if worked else idle + 1
            if idle > SEARCH_DAYS:
                raise self._no_working_time(start)
        return _to_datetime(due)

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself if it is working time, else the start of the next working span."""
        since = _to_seconds(moment)
        if self.always:
            return moment.astimezone(UTC)
        day, midnight, year = self._locate(since)
        for _ in range(SEARCH_DAYS + 1):
            for a, b in self._spans(day, midnight, year):
                if b > since:
                    return moment.astimezone(UTC) if a <= since else _to_datetime(a)
            midnight, day = self._next_midnight(day, midnight, year), day + 1
            if day > year.last:
                year = self._year_at(day)
        raise self._no_working_time(moment)

    def _no_working_time(self, since: datetime) -> ValueError:
        return ValueError(f"calendar {self.name!r} has no working time in the {SEARCH_DAYS} days after {since}")

    def _year_at(self, day: int) -> _Year:
        return _year_profile(self.zone, self.holiday_country, self.closed_days, date.fromordinal(day).year)

    def _utc_seconds(self, day: int, moment: time) -> int:
        """A local time of a day in UTC seconds; fold=0 for a time a DST change skips or repeats."""
        return (datetime.combine(date.fromordinal(day), moment, self.zone) - _EPOCH) // _SECOND

    def _locate(self, moment: int) -> tuple[int, int, _Year]:
        """The local day of a moment (an ordinal), the UTC seconds of its midnight, and its year."""
        local = datetime.fromtimestamp(moment, self.zone)
        day = local.toordinal()
        year = self._year_at(day)
        if day not in year.changes:
            return day, moment - _seconds_of(local.time()), year
        midnight = self._utc_seconds(day, MIDNIGHT)
        if moment < midnight:  # this midnight fell into a DST gap, which fold=0 places after the moment
            day, midnight = day - 1, self._utc_seconds(day - 1, MIDNIGHT)
            year = self._year_at(day)
        return day, midnight, year

    def _next_midnight(self, day: int, midnight: int, year: _Year) -> int:
        return self._utc_seconds(day + 1, MIDNIGHT) if day in year.changes else midnight + DAY

    def _spans(self, day: int, midnight: int, year: _Year) -> Spans:
        """A day's working spans in UTC seconds."""
        local = self._week[(day - 1) % 7]  # ordinal 1 (0001-01-01) was a Monday
        if not local or day in year.closed:
            return ()
        if day not in year.changes:
            return tuple((midnight + s, midnight + e) for s, e in local)
        return self._change_day_spans(day)

    def _change_day_spans(self, day: int) -> Spans:
        """Each boundary converted on its own, then kept in order and within the day (see the module text)."""
        floor, ceiling = self._utc_seconds(day, MIDNIGHT), self._utc_seconds(day + 1, MIDNIGHT)
        spans, previous = [], floor
        for start, end in self.hours.get((day - 1) % 7, ()):
            a = min(max(self._utc_seconds(day, start), previous), ceiling)
            b = ceiling if end == MIDNIGHT else min(max(self._utc_seconds(day, end), a), ceiling)
            if b > a:
                spans.append((a, b))
            previous = b
        return tuple(spans)

    def _day_seconds(self, day: int, year: _Year) -> int:
        if day in year.closed:
            return 0
        if day in year.changes:
            return sum(b - a for a, b in self._change_day_spans(day))
        return self._nominal[(day - 1) % 7]

    def _clean_weeks(self, day: int, year: _Year) -> int:
        """Whole weeks from `day` on before the next holiday, closing day or DST change."""
        found = bisect_left(year.unusual, day)
        if found < len(year.unusual):
            return (year.unusual[found] - day) // 7
        following = self._year_at(year.last + 1)
        return ((following.unusual or (following.last + 1,))[0] - day) // 7
