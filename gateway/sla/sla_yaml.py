"""Read the `sla:` section of rules.yaml into an SlaConfig; every error names file:line:column."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from helpdesk.gateway.routing.rule_actions import ALERT_LEVELS, PRIORITIES
from helpdesk.gateway.routing.rule_conditions import DAYS
from helpdesk.gateway.routing.yaml_nodes import Nodes
from helpdesk.gateway.sla.calendar import WorkingCalendar, check_country, parse_hours
from helpdesk.gateway.sla.profiles import BUILTIN, CIRCLE_MEMBERS, Escalation, SlaConfig, SlaProfile, Targets

SLA_FIELDS = ("default", "warn_at", "escalation", "calendars", "profiles")
ESCALATION_FIELDS = ("repeat_every", "circles", "breach_level", "warning_level")
CALENDAR_FIELDS = ("timezone", "hours", "holidays", "closed")
PROFILE_FIELDS = ("calendar", "targets")
TARGET_FIELDS = ("first_response", "resolution")
ALWAYS = "24/7"
NO_TARGET = "none"
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?$")
_SHARE = re.compile(r"^(\d+(?:\.\d+)?)(%?)$")


def parse_sla(n: Nodes, node: yaml.Node | None, queues: tuple[str, ...] = ()) -> SlaConfig:
    """The section's profiles, default and escalation; BUILTIN when the file has no `sla:`.
    `queues` (the file's queue names) only sharpens the message for a queue named in `circles`."""
    if node is None:
        return BUILTIN
    spec = n.mapping(node, "sla", SLA_FIELDS)
    for needed, why in (("calendars", "the working calendars"), ("profiles", "the SLA profiles"),
                        ("default", "the profile of clients whose contract names none")):
        if needed not in spec:
            raise n.fail(node, f"sla needs '{needed}' ({why})")
    calendars = _calendars(n, spec["calendars"])
    profiles = _profiles(n, spec["profiles"], calendars)
    default = n.choice(spec["default"], "default SLA profile", tuple(profiles))
    return SlaConfig(profiles, default, _escalation(n, spec, queues))


def parse_duration(n: Nodes, node: yaml.Node, what: str) -> int:
    """'4h', '30m', '1h30m' -> seconds."""
    text = n.scalar(node, what)
    if re.fullmatch(r"\d+d(\d+h)?(\d+m)?", text):
        raise n.fail(node, f"{what} {text!r}: a day of working time is ambiguous; "
                           "write it as hours of working time, e.g. 16h")
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        raise n.fail(node, f"{what} must be hours and minutes like 4h, 30m or 1h30m, not {text!r}")
    seconds = int(match[1] or 0) * 3600 + int(match[2] or 0) * 60
    if seconds == 0:
        raise n.fail(node, f"{what} must be longer than 0")
    return seconds


def format_duration(seconds: int | None) -> str:
    """Seconds as rules.yaml writes them (5400 -> '1h30m'); None (no target) -> 'none'."""
    if seconds is None:
        return NO_TARGET
    hours, minutes = divmod(seconds // 60, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def _kebab(n: Nodes, key: yaml.Node, what: str) -> str:
    name = n.scalar(key, what)
    if not _NAME.match(name):
        raise n.fail(key, f"{what} {name!r} must be kebab-case (lower-case letters, digits, dashes)")
    return name


def _calendars(n: Nodes, node: yaml.Node) -> dict[str, WorkingCalendar]:
    n.mapping(node, "calendars")  # the shape, and no name twice
    calendars = {}
    for key, value in node.value:
        name = _kebab(n, key, "calendar name")
        calendars[name] = _calendar(n, name, value)
    if not calendars:
        raise n.fail(node, "'calendars' declares no calendar")
    return calendars


def _calendar(n: Nodes, name: str, node: yaml.Node) -> WorkingCalendar:
    if isinstance(node, yaml.ScalarNode):
        if n.scalar(node, f"calendar {name!r}") != ALWAYS:
            raise n.fail(node, f"calendar {name!r} must be {ALWAYS} or a mapping with timezone and hours")
        return WorkingCalendar.around_the_clock(name)
    spec = n.mapping(node, f"calendar {name!r}", CALENDAR_FIELDS)
    for needed in ("timezone", "hours"):
        if needed not in spec:
            raise n.fail(node, f"calendar {name!r} needs '{needed}'")
    country = n.scalar(spec["holidays"], "holidays") if "holidays" in spec else None
    if country is not None:
        try:
            check_country(country)
        except ValueError as exc:
            raise n.fail(spec["holidays"], f"{exc} (an ISO country code like CZ, or with a region like DE-BY)") \
                from None
    closed = _closed_days(n, spec["closed"]) if "closed" in spec else frozenset()
    return WorkingCalendar(name, _zone(n, spec["timezone"]), _week(n, spec["hours"]), country, closed)


def _zone(n: Nodes, node: yaml.Node) -> ZoneInfo:
    zone_name = n.scalar(node, "timezone")
    try:
        return ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise n.fail(node, f"unknown timezone {zone_name!r} (e.g. Europe/Prague)") from None


def _week(n: Nodes, node: yaml.Node) -> MappingProxyType:
    """{mon-fri: "08:00-17:00", sat: "09:00-12:00"} -> weekday -> intervals; days not named are closed."""
    n.mapping(node, "hours")
    week: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, value in node.value:
        text = n.scalar(value, "hours")
        try:
            intervals = parse_hours(text)
        except ValueError as exc:
            raise n.fail(value, str(exc)) from None  # the text names the hours and what is wrong
        for day in _days(n, key):
            if day in week:
                raise n.fail(key, f"{DAYS[day]} is given twice in hours")
            week[day] = intervals
    if not week:
        raise n.fail(node, "hours names no day (e.g. mon-fri: \"08:00-17:00\")")
    return MappingProxyType(week)


def _days(n: Nodes, key: yaml.Node) -> list[int]:
    """'mon-fri', 'sat', 'mon,wed' -> weekday numbers (0 = Monday)."""
    days = []
    for part in n.scalar(key, "days").split(","):
        first, dash, last = (p.strip() for p in part.partition("-"))
        for day in (first, last) if dash else (first,):
            if day not in DAYS:
                raise n.fail(key, f"unknown day {day!r} in {key.value!r} (days are {', '.join(DAYS)})")
        start, end = DAYS.index(first), DAYS.index(last if dash else first)
        if end < start:
            rest = "mon" if last == "mon" else f"mon-{last}"
            raise n.fail(key, f"day range {part.strip()!r} runs backwards (write {first}-sun,{rest})")
        days += range(start, end + 1)
    return days


def _closed_days(n: Nodes, node: yaml.Node) -> frozenset[date]:
    items = n.sequence(node, "closed") if isinstance(node, yaml.SequenceNode) else [node]
    days = set()
    for item in items:
        text = n.scalar(item, "closed day")
        try:
            days.add(date.fromisoformat(text))
        except ValueError:
            raise n.fail(item, f"closed day {text!r} is not a date like 2026-12-24") from None
    return frozenset(days)


def _profiles(n: Nodes, node: yaml.Node, calendars: dict[str, WorkingCalendar]) -> Mapping[str, SlaProfile]:
    n.mapping(node, "profiles")
    profiles = {}
    for key, value in node.value:
        name = _kebab(n, key, "profile name")
        spec = n.mapping(value, f"profile {name!r}", PROFILE_FIELDS)
        for needed in PROFILE_FIELDS:
            if needed not in spec:
                raise n.fail(value, f"profile {name!r} needs '{needed}'")
        calendar = calendars[n.choice(spec["calendar"], "calendar", tuple(calendars))]
        profiles[name] = SlaProfile(name, calendar, _targets(n, spec["targets"], name))
    if not profiles:
        raise n.fail(node, "'profiles' declares no profile")
    return MappingProxyType(profiles)


def _targets(n: Nodes, node: yaml.Node, profile: str) -> MappingProxyType:
    """Per priority {first_response, resolution}; `default:` gives what a priority leaves out."""
    spec = n.mapping(node, f"targets of profile {profile!r}")
    for key, _ in node.value:
        n.choice(key, "priority", (*PRIORITIES, "default"))
    default = n.mapping(spec["default"], "default targets", TARGET_FIELDS) if "default" in spec else {}
    missing = [p for p in PRIORITIES if p not in spec] if "default" not in spec else []
    if missing:
        raise n.fail(node, f"targets of profile {profile!r} miss {', '.join(missing)} "
                           "(give them, or a default: for the rest)")
    targets = {}
    for priority in PRIORITIES:
        given = n.mapping(spec[priority], f"targets of {priority!r}", TARGET_FIELDS) if priority in spec else {}
        nodes = {**default, **given}
        for needed in TARGET_FIELDS:
            if needed not in nodes:
                raise n.fail(spec.get(priority, spec.get("default")), f"priority {priority!r} of profile "
                             f"{profile!r} has no {needed} target (give one, or {NO_TARGET}, or a default:)")
        targets[priority] = _target_pair(n, nodes)
    return MappingProxyType(targets)


def _target_pair(n: Nodes, nodes: dict[str, yaml.Node]) -> Targets:
    first, resolution = (None if n.scalar(nodes[f], f) == NO_TARGET else parse_duration(n, nodes[f], f)
                         for f in TARGET_FIELDS)
    if first is not None and resolution is not None and first > resolution:
        raise n.fail(nodes["first_response"], f"first_response {format_duration(first)} is longer than "
                                              f"the resolution target {format_duration(resolution)}")
    return Targets(first, resolution)


def _escalation(n: Nodes, spec: dict[str, yaml.Node], queues: tuple[str, ...]) -> Escalation:
    built_in = Escalation()
    warn = _share(n, spec["warn_at"]) if "warn_at" in spec else built_in.warn_share
    if "escalation" not in spec:
        return Escalation(warn_share=warn)
    esc = n.mapping(spec["escalation"], "escalation", ESCALATION_FIELDS)
    return Escalation(
        warn_share=warn,
        repeat_every=parse_duration(n, esc["repeat_every"], "repeat_every") if "repeat_every" in esc
        else built_in.repeat_every,
        circles=_circles(n, esc["circles"], queues) if "circles" in esc else built_in.circles,
        breach_level=_breach_levels(n, esc["breach_level"]) if "breach_level" in esc else built_in.breach_level,
        warning_level=n.choice(esc["warning_level"], "alert level", ALERT_LEVELS) if "warning_level" in esc
        else built_in.warning_level)


def _share(n: Nodes, node: yaml.Node) -> float:
    """'75%' or 0.75 -> 0.75; a warning at 0% or at the breach itself would be no warning."""
    text = n.scalar(node, "warn_at")
    match = _SHARE.match(text)
    share = (float(match[1]) / (100 if match[2] else 1)) if match else None
    if share is None or not 0 < share < 1:
        raise n.fail(node, f"warn_at must be a share of the target between 0 and 1 or 0% and 100% "
                           f"(e.g. 75% or 0.75), not {text!r}")
    return share


def _circles(n: Nodes, node: yaml.Node, queues: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    levels = n.sequence(node, "circles")
    if not levels:
        raise n.fail(node, "circles must name at least one circle (e.g. - [queue, dispatchers])")
    circles = []
    for level in levels:
        members = level.value if isinstance(level, yaml.SequenceNode) else [level]
        if not members:
            raise n.fail(level, "a circle must name someone")
        for member in members:
            if n.scalar(member, "circle") in queues and member.value not in CIRCLE_MEMBERS:
                raise n.fail(member, f"{member.value!r} is a queue; circles name roles ({', '.join(CIRCLE_MEMBERS)}), "
                                     "and queue means the technicians of the ticket's own queue")
        circles.append(tuple(n.choice(m, "circle member", tuple(CIRCLE_MEMBERS)) for m in members))
    return tuple(circles)


def _breach_levels(n: Nodes, node: yaml.Node) -> MappingProxyType:
    spec = n.mapping(node, "breach_level", (*PRIORITIES, "default"))
    levels = {p: n.choice(v, "alert level", ALERT_LEVELS) for p, v in spec.items()}
    built_in = Escalation().breach_level
    return MappingProxyType({p: levels.get(p, levels.get("default", built_in[p])) for p in PRIORITIES})
