"""The SLA clock of one ticket as pure arithmetic: durations used and paused, due times, next look.

The clock is durations plus the moment of the last change, never a due date computed once:
`used` is the working time the ticket has consumed, `paused` the wall time it spent waiting for
the client, both up to `since`; `state` says what the clock has done since. Advancing it to a
new moment adds what passed (by the calendar in force until then); a change of priority or
profile then only changes the targets and the calendar the remaining time is counted on, so
nothing already used or paused is forgotten (GLPI restarts from the opening date; osTicket has
no pause at all). Both targets count from the ticket's creation on the same `used` clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.gateway.sla.calendar import WorkingCalendar
from helpdesk.gateway.sla.profiles import Targets

RUNNING, WAITING, STOPPED, NONE = "running", "waiting", "stopped", "none"
FIRST_RESPONSE, RESOLUTION = 1, 2  # bits of Ticket.sla_warned / sla_breached
TARGET_NAMES = {FIRST_RESPONSE: "first response", RESOLUTION: "resolution"}


def state_for(status: str) -> str:
    """Pending and resolved wait for the client (paused); closed stops; everything else runs."""
    if status in (TicketStatus.PENDING, TicketStatus.RESOLVED):
        return WAITING
    return STOPPED if status == TicketStatus.CLOSED else RUNNING


@dataclass(frozen=True)
class Clock:
    state: str
    since: datetime
    used: int = 0               # working seconds
    paused: int = 0             # wall seconds waiting for the client
    responded: bool = False     # the first public answer by staff was given

    def advanced(self, calendar: WorkingCalendar, now: datetime) -> Clock:
        """The clock brought up to `now` under the calendar that was in force since `since`."""
        if now <= self.since:
            return self
        if self.state == RUNNING:
            return replace(self, since=now, used=self.used + calendar.working_seconds(self.since, now))
        if self.state == WAITING:
            return replace(self, since=now, paused=self.paused + int((now - self.since).total_seconds()))
        return replace(self, since=now)


@dataclass(frozen=True)
class Escalated:
    """What the scheduler has done about the clock so far (bits of FIRST_RESPONSE / RESOLUTION)."""

    warned: int = 0
    breached: int = 0
    level: int = 0
    at: datetime | None = None
    acked: bool = False


@dataclass(frozen=True)
class Plan:
    """What is stored on the ticket after a change: when each target is due and when to look next."""

    first_response_due: datetime | None
    resolution_due: datetime | None
    next_look: datetime | None


def _open_targets(clock: Clock, targets: Targets) -> dict[int, int]:
    wanted = {RESOLUTION: targets.resolution}
    if not clock.responded:
        wanted[FIRST_RESPONSE] = targets.first_response
    return {bit: seconds for bit, seconds in wanted.items() if seconds is not None}


def _still_breached(clock: Clock, targets: Targets, done: Escalated) -> bool:
    """A breach repeats only while its target is still open: a first response given late ends the
    first response's escalation (the resolution's, if breached, goes on)."""
    open_bits = sum(_open_targets(clock, targets))
    return bool(done.breached & open_bits)


def plan(clock: Clock, targets: Targets, calendar: WorkingCalendar, done: Escalated, warn_share: float,
         repeat_every: int) -> Plan:
    """Due times and the next moment something may happen: a warning, a breach, or a repeated
    escalation. Nothing is due while the clock is paused or stopped."""
    if clock.state != RUNNING:
        return Plan(None, None, None)
    due, moments = {}, []
    for bit, target in _open_targets(clock, targets).items():
        due[bit] = calendar.add_working(clock.since, target - clock.used) if target > clock.used else None
        if not done.warned & bit and not done.breached & bit:
            moments.append(calendar.add_working(clock.since, max(0, math.ceil(warn_share * target) - clock.used)))
        if not done.breached & bit:
            moments.append(due[bit] or clock.since)
    if _still_breached(clock, targets, done) and not done.acked and done.at is not None:
        moments.append(done.at + timedelta(seconds=repeat_every))
    return Plan(due.get(FIRST_RESPONSE), due.get(RESOLUTION), min(moments) if moments else None)


@dataclass(frozen=True)
class Step:
    """What the scheduler must do now: warn about targets, announce breaches, or repeat an escalation."""

    warn: int = 0        # bits newly past the warning share
    breach: int = 0      # bits newly breached
    repeat: bool = False

    def __bool__(self) -> bool:
        return bool(self.warn or self.breach or self.repeat)


def step(clock: Clock, targets: Targets, done: Escalated, warn_share: float, repeat_every: int,
         now: datetime) -> Step:
    """Decide from a clock advanced to `now`. A target already breached is not warned about (a
    gateway that was down catches up once, with the breach); a repeat waits its interval."""
    if clock.state != RUNNING:
        return Step()
    warn = breach = 0
    for bit, target in _open_targets(clock, targets).items():
        if done.breached & bit:
            continue
        if clock.used >= target:
            breach |= bit
        elif not done.warned & bit and clock.used >= warn_share * target:
            warn |= bit
    repeat = (not breach and _still_breached(clock, targets, done) and not done.acked and done.at is not None
              and now >= done.at + timedelta(seconds=repeat_every))
    return Step(warn, breach, repeat)
