"""SLA profiles: per priority a first-response and a resolution target in the working time of one calendar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from types import MappingProxyType
from zoneinfo import ZoneInfo

from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.gateway.sla.calendar import WorkingCalendar

PRIORITY_MEANINGS = {
    "lowest": "a consultation",
    "low": "minimal impact, not critical",
    "normal": "non-critical problems or errors in use, configuration or installation",
    "high": "a failure in production: the system works partly",
    "highest": "work completely stopped: nothing can be done",
}
# Who may be told of an escalation: the words a `circles:` entry of rules.yaml may use.
CIRCLE_MEMBERS = {
    "assignee": "the ticket's assignee",
    "queue": "the available technicians of the ticket's queue",
    "dispatchers": "the dispatchers of the ticket's queue",
    "all-dispatchers": "every dispatcher",
    "all-staff": "every active technician, dispatcher and admin",
    "admins": "the admins",
    "guarantor": "the guarantor of the client's contract",
}
HOUR = 3600
# A critical object must run 24/7: its tickets keep their contract's targets but count every hour.
# The ticket's stored profile then reads "<profile>+24/7" (e.g. "standard+24/7").
CRITICAL_SUFFIX = "+24/7"


def critical_profile_name(name: str) -> str:
    return name if name.endswith(CRITICAL_SUFFIX) else name + CRITICAL_SUFFIX


def is_critical_profile(name: str | None) -> bool:
    return bool(name) and name.endswith(CRITICAL_SUFFIX)


@dataclass(frozen=True)
class Targets:
    """Working seconds allowed until the first response and until the resolution; None: no target."""

    first_response: int | None
    resolution: int | None


@dataclass(frozen=True)
class SlaProfile:
    name: str
    calendar: WorkingCalendar
    targets: Mapping[str, Targets]  # every priority of PRIORITIES present

    def __post_init__(self):
        missing = [p for p in PRIORITIES if p not in self.targets]
        if missing:
            raise ValueError(f"SLA profile {self.name!r} has no targets for {', '.join(missing)}")


def _default_breach_levels() -> Mapping[str, str]:
    return MappingProxyType({p: "urgent" if p == "highest" else "important" for p in PRIORITIES})


@dataclass(frozen=True)
class Escalation:
    warn_share: float = 0.75  # share of a target at which the warning goes
    repeat_every: int = HOUR  # seconds (wall clock) between repeated escalations while a breach lasts
    # Who hears of escalation level 1, 2, ...; the last entry serves every further level.
    circles: tuple[tuple[str, ...], ...] = (("queue", "dispatchers"), ("all-staff",))
    breach_level: Mapping[str, str] = field(default_factory=_default_breach_levels)  # priority -> alert level
    warning_level: str = "important"


@dataclass(frozen=True)
class SlaConfig:
    profiles: Mapping[str, SlaProfile]
    default: str
    escalation: Escalation = Escalation()

    def __post_init__(self):
        if self.default not in self.profiles:
            raise ValueError(f"the default SLA profile {self.default!r} is not one of the profiles")

    def profile(self, name: str | None) -> SlaProfile:
        """That profile, or the default one for a client whose contract names none or one not declared.
        Names are compared exactly: they are kebab-case, like queue names. "<name>+24/7" is that
        profile's targets on a 24/7 calendar (a critical object's tickets)."""
        if is_critical_profile(name):
            base = self.profile(name.removesuffix(CRITICAL_SUFFIX))
            if base.calendar.always:
                return base
            return SlaProfile(critical_profile_name(base.name), _AROUND_THE_CLOCK, base.targets)
        if name is not None and name in self.profiles:
            return self.profiles[name]
        return self.profiles[self.default]

    def knows(self, name: str) -> bool:
        return name in self.profiles


_AROUND_THE_CLOCK = WorkingCalendar.around_the_clock("24/7")


def _builtin() -> SlaConfig:
    office = ((time(8, 0), time(17, 0)),)
    calendar = WorkingCalendar("weekdays-utc", ZoneInfo("UTC"), MappingProxyType({day: office for day in range(5)}))
    hours = {"highest": (1, 4), "high": (2, 8), "normal": (4, 24), "low": (8, 40), "lowest": (16, 80)}
    targets = MappingProxyType({p: Targets(first * HOUR, resolved * HOUR) for p, (first, resolved) in hours.items()})
    return SlaConfig(MappingProxyType({"standard": SlaProfile("standard", calendar, targets)}), "standard")


# For a rules.yaml without an `sla:` section. Shared by every load, so its mappings are read-only.
BUILTIN = _builtin()
