"""The SLA report's figures of a group of tickets: outcomes counted, working times by nearest rank, time paused.

Percentiles are nearest-rank: the p-th percentile of n sorted values is the ceil(p/100 * n)-th of
them, so every figure is one real ticket's time, and the median of an even count is the lower of
the two middle values. The outcome codes come from store/report_outcomes.py.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from helpdesk.store.report_outcomes import FIRST_RESPONSE_NAMES, RESOLUTION_NAMES


@dataclass(frozen=True)
class TicketColumns:
    """A report's tickets column by column (parallel sequences, ticket i at index i): counting a
    column at a time runs in C (Counter, zip) where a loop over 100,000 ticket objects would not."""

    first_response: Sequence[int]  # outcome codes
    resolution: Sequence[int]
    first_response_used: Sequence[int | None]  # working seconds when reached
    resolution_used: Sequence[int | None]
    paused: Sequence[int]  # wall seconds waiting for the client


def nearest_rank(ordered: Sequence[int], percent: int) -> int | None:
    """The nearest-rank percentile of values sorted ascending; None for no values."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def _sorted_times(keys: Sequence[Hashable], tickets: TicketColumns) -> tuple[dict, dict, dict]:
    """Each group's first response, resolution and paused seconds, sorted; a ticket without a
    time is left out of that one. One loop for all three: the loop is what costs."""
    first: dict[Hashable, list[int]] = defaultdict(list)
    resolution: dict[Hashable, list[int]] = defaultdict(list)
    paused: dict[Hashable, list[int]] = defaultdict(list)
    for key, first_used, resolution_used, paused_s in zip(keys, tickets.first_response_used,
                                                          tickets.resolution_used, tickets.paused):
        if first_used is not None:
            first[key].append(first_used)
        if resolution_used is not None:
            resolution[key].append(resolution_used)
        paused[key].append(paused_s)
    for times in (first, resolution, paused):
        for group in times.values():
            group.sort()
    return first, resolution, paused


def _figures(count: int, outcomes: Counter, first: list[int], resolution: list[int], paused: list[int]) -> dict:
    """One group's figures; outcomes counts its (first response, resolution) pairs of codes."""
    return {
        "tickets": count,
        **{f"first_response_{name}": sum(n for (f, _), n in outcomes.items() if f == code)
           for code, name in FIRST_RESPONSE_NAMES.items()},
        "first_response_median_s": nearest_rank(first, 50), "first_response_p90_s": nearest_rank(first, 90),
        **{f"resolution_{name}": sum(n for (_, r), n in outcomes.items() if r == code)
           for code, name in RESOLUTION_NAMES.items()},
        "resolution_median_s": nearest_rank(resolution, 50), "resolution_p90_s": nearest_rank(resolution, 90),
        "paused_total_s": sum(paused), "paused_median_s": nearest_rank(paused, 50),
    }


def figures_by_group(keys: Sequence[Hashable], tickets: TicketColumns) -> dict[Hashable, dict]:
    """For each group (keys[i] is ticket i's): how many tickets had each outcome, median and p90
    working times over the tickets that reached the target, total and median time paused."""
    outcomes: dict[Hashable, Counter] = defaultdict(Counter)
    for (key, first, resolution), n in Counter(zip(keys, tickets.first_response, tickets.resolution)).items():
        outcomes[key][first, resolution] = n
    first_times, resolution_times, paused = _sorted_times(keys, tickets)
    return {key: _figures(sum(pairs.values()), pairs, first_times.get(key, []), resolution_times.get(key, []),
                          paused[key]) for key, pairs in outcomes.items()}


def total_figures(tickets: TicketColumns) -> dict:
    """The same figures for all the tickets as one group."""
    return _figures(len(tickets.paused), Counter(zip(tickets.first_response, tickets.resolution)),
                    sorted(t for t in tickets.first_response_used if t is not None),
                    sorted(t for t in tickets.resolution_used if t is not None), sorted(tickets.paused))
