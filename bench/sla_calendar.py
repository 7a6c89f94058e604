"""Benchmark: one SLA calendar call on the mail path (target: well under 50 µs for a few working days).

Times add_working and working_seconds on a Mon-Fri 08:00-17:00 Europe/Prague calendar with Czech
holidays, for a 4-hour target and a 10-working-day target, from starts spread over 2026 (weekends,
holidays and both DST changes included). The holiday and DST tables of the year are built in a
warm-up first, as they are once per process in the service.

    .venv/bin/python bench/sla_calendar.py [--repeat 20000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpdesk.gateway.sla.calendar import WorkingCalendar  # noqa: E402

HOUR = 3600
TARGETS = {"4 working hours": 4 * HOUR, "10 working days": 10 * 9 * HOUR}


def per_call_us(call, arguments: list[tuple]) -> tuple[float, float]:
    """Median and p99 in µs over the arguments, each timed in a batch of 10 so the timer's cost is small."""
    samples = []
    for args in arguments:
        started = time.perf_counter()
        for _ in range(10):
            call(*args)
        samples.append((time.perf_counter() - started) * 1e5)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20000)
    args = parser.parse_args()
    office = WorkingCalendar("office", ZoneInfo("Europe/Prague"),
                             {day: ((clock_time(8), clock_time(17)),) for day in range(5)}, "CZ")
    rng = random.Random(2026)
    year = datetime(2026, 1, 1, tzinfo=UTC)
    starts = [year + timedelta(seconds=rng.randrange(365 * 86400)) for _ in range(args.repeat)]
    print(f"calendar {office.name!r}: Mon-Fri 08:00-17:00 Europe/Prague, CZ holidays; {args.repeat} starts in 2026")
    for label, seconds in TARGETS.items():
        for start in starts[:500]:  # warm-up: the year tables, and the next year's for late starts
            office.working_seconds(start, office.add_working(start, seconds))
        median, p99 = per_call_us(office.add_working, [(start, seconds) for start in starts])
        print(f"  add_working      {label:16} median {median:6.2f} µs  p99 {p99:6.2f} µs")
        ends = [(start, office.add_working(start, seconds)) for start in starts]
        median, p99 = per_call_us(office.working_seconds, ends)
        print(f"  working_seconds  {label:16} median {median:6.2f} µs  p99 {p99:6.2f} µs")


if __name__ == "__main__":
    main()
