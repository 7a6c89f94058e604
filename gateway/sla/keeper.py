"""Keeps a ticket's stored SLA columns true on every change of status, priority, profile or answer.

Runs in the transaction of the change (the caller merges the returned columns into its own
UPDATE, so a status change costs one read more, not another write). The clock is advanced to
the change's moment under the calendar in force until then; the new status, priority and
profile decide how it runs from now on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import Clock as NowClock
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES
from helpdesk.gateway.sla.clock import (
    FIRST_RESPONSE,
    NONE,
    RESOLUTION,
    RUNNING,
    Clock,
    Escalated,
    plan,
    state_for,
)
from helpdesk.gateway.sla.profiles import (
    SlaConfig,
    SlaProfile,
    Targets,
    critical_profile_name,
    is_critical_profile,
)
from helpdesk.store.sla_clock import clock_row, requester_profile


def clock_of(row: dict, now: datetime) -> Clock:
    if row["sla_state"] == NONE or row["sla_since"] is None:  # a ticket from before SLA clocks: starts now
        return Clock(state_for(row["status"]), now)
    return Clock(row["sla_state"], row["sla_since"], row["sla_used_s"], row["sla_paused_s"],
                 row["first_response_at"] is not None)


def done_of(row: dict) -> Escalated:
    return Escalated(row["sla_warned"], row["sla_breached"], row["escalation_level"], row["escalated_at"],
                     bool(row["escalation_acked"]))


def targets_of(profile: SlaProfile, priority: str) -> Targets:
    return profile.targets.get(priority) or profile.targets["normal"]


def still_true(done: Escalated, clock: Clock, targets: Targets, warn_share: float) -> Escalated:
    """Warnings and breaches that still hold under the (possibly new) targets: a lower priority can
    end a breach, and then its escalation ends too."""
    warned = breached = 0
    for bit, target in ((FIRST_RESPONSE, targets.first_response), (RESOLUTION, targets.resolution)):
        if target is not None and clock.used >= target:
            breached |= done.breached & bit
        if target is not None and clock.used >= warn_share * target:
            warned |= done.warned & bit
    if not breached:
        return Escalated(warned)
    return replace(done, warned=warned, breached=breached)


def clock_columns(clock: Clock, profile: SlaProfile, priority: str, done: Escalated, config: SlaConfig) -> dict:
    targets, esc = targets_of(profile, priority), config.escalation
    due = plan(clock, targets, profile.calendar, done, esc.warn_share, esc.repeat_every)
    return {"sla_profile": profile.name, "sla_state": clock.state, "sla_since": clock.since,
            "sla_used_s": clock.used, "sla_paused_s": clock.paused,
            "first_response_target_s": targets.first_response, "resolution_target_s": targets.resolution,
            "first_response_due_at": due.first_response_due, "resolution_due_at": due.resolution_due,
            "sla_next_at": due.next_look, "sla_warned": done.warned, "sla_breached": done.breached,
            "escalation_level": done.level, "escalated_at": done.at, "escalation_acked": done.acked}


class SlaKeeper:
    """`config` returns the SLA section of the current rules (reloading swaps it)."""

    def __init__(self, config: Callable[[], SlaConfig], clock: NowClock = utcnow):
        self.config, self.clock = config, clock

    def initial(self, priority: str, profile_name: str | None) -> dict:
        """The columns of a ticket created now: its clock starts running."""
        config, now = self.config(), self.clock()
        return clock_columns(Clock(RUNNING, now), config.profile(profile_name), priority, Escalated(), config)

    def changed(self, conn: Connection, number: int, values: dict, *, first_response: bool = False,
                profile_name: str | None = None) -> dict:
        """The SLA columns after `values` (the ticket's other changes) are applied now.
        `first_response`: staff gave the client a public answer; `profile_name`: the contract's
        profile changed to it."""
        # Locked: a scheduler pass on another instance must not write an escalation meanwhile that
        # this change would then overwrite with what it read before (PostgreSQL; SQLite has one writer).
        config, row, now = self.config(), clock_row(conn, number, lock=True), self.clock()
        if row["sla_state"] == NONE and profile_name is None:  # from before SLA clocks: the contract's profile
            profile_name = requester_profile(conn, row["requester_id"], now.date())
        if profile_name is not None and is_critical_profile(row["sla_profile"]):
            profile_name = critical_profile_name(profile_name)  # a new contract; the object is still critical
        clock = clock_of(row, now).advanced(config.profile(row["sla_profile"]).calendar, now)
        old_status, status = row["status"], values.get("status", row["status"])
        priority = values.get("priority", row["priority"])
        profile = config.profile(profile_name or row["sla_profile"])
        done, extra = done_of(row), {}
        if old_status in FINISHED_STATUSES and status not in FINISHED_STATUSES:
            done, extra["resolution_used_s"] = Escalated(), None  # reopened: under the SLA again
        elif status in FINISHED_STATUSES and old_status not in FINISHED_STATUSES:
            extra["resolution_used_s"] = clock.used
        if first_response and not clock.responded:
            clock = replace(clock, responded=True)
            extra.update(first_response_at=now, first_response_used_s=clock.used)
        clock = replace(clock, state=state_for(status))
        targets = targets_of(profile, priority)
        done = still_true(done, clock, targets, config.escalation.warn_share)
        if extra.get("resolution_used_s") is not None and targets.resolution is not None \
                and clock.used > targets.resolution:
            done = replace(done, breached=done.breached | RESOLUTION)
        if "first_response_used_s" in extra and targets.first_response is not None \
                and clock.used > targets.first_response:
            done = replace(done, breached=done.breached | FIRST_RESPONSE)
        return clock_columns(clock, profile, priority, done, config) | extra


