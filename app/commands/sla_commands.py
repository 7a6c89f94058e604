"""`helpdesk sla`: the SLA profiles of rules.yaml, as the service applies them."""

from __future__ import annotations

from pathlib import Path

import typer

from helpdesk.app.commands.console import fail, print_json, print_table, settings, show
from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.gateway.routing.rule_conditions import DAYS
from helpdesk.gateway.routing.rules import Rules, load_rules
from helpdesk.gateway.sla.calendar import WorkingCalendar
from helpdesk.gateway.sla.profiles import CIRCLE_MEMBERS, PRIORITY_MEANINGS, Escalation, SlaProfile
from helpdesk.gateway.sla.sla_yaml import format_duration
from helpdesk.outbound.render import Renderer

app = typer.Typer(help="SLA profiles (declared in the sla: section of rules.yaml) and the priorities.",
                  no_args_is_help=True)
RULES = typer.Option(None, "--rules", metavar="FILE", help="Rules file (default: HELPDESK_RULES).")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _load(file: Path | None) -> Rules:
    # The same checks as the service's load: a file it would refuse is refused here too.
    s = settings()
    return load_rules(file or s.rules, Renderer(s.templates_dir, s.default_locale).kinds())


def _hours(calendar: WorkingCalendar, day: int) -> list[str]:
    # An interval ending at 00:00 runs to midnight; it is written 24:00, as rules.yaml accepts it.
    return [f"{start:%H:%M}-{'24:00' if end.hour == end.minute == 0 else f'{end:%H:%M}'}"
            for start, end in calendar.hours.get(day, ())]


def _week_text(calendar: WorkingCalendar) -> str:
    """'mon-fri 08:00-17:00; sat 09:00-12:00': runs of days with the same hours as one range."""
    if calendar.always:
        return "24/7"
    runs: list[tuple[int, int, list[str]]] = []
    for day in range(7):
        hours = _hours(calendar, day)
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        elif hours:
            runs.append((day, day, hours))
    return "; ".join(f"{DAYS[first]}{'' if first == last else '-' + DAYS[last]} {', '.join(hours)}"
                     for first, last, hours in runs) or "never"


def _calendar_json(calendar: WorkingCalendar) -> dict:
    return {"name": calendar.name, "always": calendar.always,
            "timezone": None if calendar.always else str(calendar.zone),
            "hours": {} if calendar.always else {DAYS[d]: _hours(calendar, d) for d in range(7)},
            "holidays": calendar.holiday_country, "closed": sorted(d.isoformat() for d in calendar.closed_days)}


def _targets_json(profile: SlaProfile) -> dict:
    return {p: {"first_response_seconds": profile.targets[p].first_response,
                "resolution_seconds": profile.targets[p].resolution} for p in PRIORITIES}


def _target_text(profile: SlaProfile, priority: str) -> str:
    t = profile.targets[priority]
    return f"{format_duration(t.first_response)} / {format_duration(t.resolution)}"


@app.command("list")
def list_cmd(rules_file: Path = RULES, as_json: bool = JSON) -> None:
    """The profiles with their calendar and, per priority, first response / resolution in working time."""
    rules = _load(rules_file)
    sla = rules.sla
    if as_json:
        print_json([{"name": p.name, "default": p.name == sla.default, "calendar": p.calendar.name,
                     "timezone": None if p.calendar.always else str(p.calendar.zone),
                     "holidays": p.calendar.holiday_country, "targets": _targets_json(p)}
                    for p in sla.profiles.values()])
        return
    rows = [{"profile": p.name + (" (default)" if p.name == sla.default else ""),
             "calendar": f"{p.calendar.name} ({'24/7' if p.calendar.always else p.calendar.zone})",
             "holidays": p.calendar.holiday_country or "-",
             **{priority: _target_text(p, priority) for priority in reversed(PRIORITIES)}}
            for p in sla.profiles.values()]
    print_table(rows, ["profile", "calendar", "holidays", *reversed(PRIORITIES)],
                f"SLA profiles in {rules.source} (first response / resolution, working time)")


def _escalation_json(esc: Escalation) -> dict:
    return {"warn_at": esc.warn_share, "repeat_every_seconds": esc.repeat_every,
            "circles": [list(c) for c in esc.circles], "breach_level": dict(esc.breach_level),
            "warning_level": esc.warning_level}


def _print_profile(profile: SlaProfile, is_default: bool, esc: Escalation) -> None:
    calendar = profile.calendar
    typer.echo(f"SLA profile {profile.name}{' (the default)' if is_default else ''}")
    show({"calendar": calendar.name, "timezone": "-" if calendar.always else str(calendar.zone),
          "working_hours": _week_text(calendar), "holidays": calendar.holiday_country or "-",
          "closed_days": sorted(d.isoformat() for d in calendar.closed_days) or "-"}, False)
    print_table([{"priority": p, "meaning": PRIORITY_MEANINGS[p],
                  "first_response": format_duration(profile.targets[p].first_response),
                  "resolution": format_duration(profile.targets[p].resolution),
                  "breach_alert": esc.breach_level[p]} for p in reversed(PRIORITIES)],
                ["priority", "meaning", "first_response", "resolution", "breach_alert"], "Targets (working time)")
    typer.echo(f"Warning at {esc.warn_share:.0%} of a target ({esc.warning_level} alert); while a breach lasts, "
               f"escalated again every {format_duration(esc.repeat_every)} (wall clock) to:")
    for level, circle in enumerate(esc.circles, 1):
        further = " and every further level" if level == len(esc.circles) else ""
        typer.echo(f"  level {level}{further}: {'; '.join(CIRCLE_MEMBERS[m] for m in circle)}")


@app.command("show")
def show_cmd(name: str = typer.Argument(..., metavar="NAME", help="Profile name."),
             rules_file: Path = RULES, as_json: bool = JSON) -> None:
    """One profile: its working calendar, its targets per priority and how breaches escalate."""
    rules = _load(rules_file)
    sla = rules.sla
    if not sla.knows(name):
        fail(f"no SLA profile {name!r} in {rules.source} (profiles: {', '.join(sla.profiles)})")
    profile = sla.profiles[name]
    if not as_json:
        _print_profile(profile, name == sla.default, sla.escalation)
        return
    print_json({"name": name, "default": name == sla.default, "calendar": _calendar_json(profile.calendar),
                "targets": [{"priority": p, "meaning": PRIORITY_MEANINGS[p], **_targets_json(profile)[p]}
                            for p in PRIORITIES],
                "escalation": _escalation_json(sla.escalation)})


@app.command("priorities")
def priorities(as_json: bool = JSON) -> None:
    """The five priorities of tickets and what each means."""
    rows = [{"priority": p, "meaning": PRIORITY_MEANINGS[p]} for p in reversed(PRIORITIES)]
    print_json(rows) if as_json else print_table(rows, ["priority", "meaning"], "Priorities")
