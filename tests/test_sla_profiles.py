"""The `sla:` section of rules.yaml: the shipped profiles, every mistake named by line and column,
the built-in profile without a section, and `helpdesk sla list|show|priorities` as operators see them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.gateway.routing.rules import load_rules, parse_rules
from helpdesk.gateway.sla.profiles import BUILTIN, PRIORITY_MEANINGS, Targets
from helpdesk.gateway.sla.sla_yaml import format_duration
from tests.conftest import REPO, free_port
from tests.service import run_helpdesk, service_env

BASE = "queues: {general: G, operations: O}\ndefault: {queue: general}\n"
SLA = """\
sla:
  default: standard
  warn_at: 75%
  escalation:
    repeat_every: 2h
    circles:
      - [queue, dispatchers]
      - [all-staff]
  calendars:
    office:
      timezone: Europe/Prague
      hours: {mon-fri: "08:00-17:00", sat: "09:00-12:00"}
      holidays: CZ
      closed: [2026-12-28]
    always: 24/7
  profiles:
    standard:
      calendar: office
      targets:
        highest: {first_response: 1h, resolution: 4h}
        default: {first_response: 4h, resolution: 24h}
    gold:
      calendar: always
      targets:
        highest: {first_response: 30m, resolution: 2h}
        high: {first_response: 1h, resolution: 4h}
        normal: {first_response: 2h, resolution: 8h}
        low: {first_response: 4h, resolution: 16h}
        lowest: {first_response: 8h, resolution: none}
"""
HOUR = 3600


def position(text: str, marker: str) -> str:
    """line:column (1-based) where `marker` last occurs: where the error must point."""
    offset = text.rfind(marker)
    assert offset >= 0, marker
    return f"{text.count(chr(10), 0, offset) + 1}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def sla_with(old: str, new: str) -> str:
    assert SLA.count(old) == 1, old
    return BASE + SLA.replace(old, new)


def test_the_shipped_rules_file_declares_standard_and_gold():
    sla = load_rules(REPO / "rules.yaml").sla
    assert list(sla.profiles) == ["standard", "gold"] and sla.default == "standard"
    standard, gold = sla.profiles["standard"], sla.profiles["gold"]
    office = standard.calendar
    assert (office.name, str(office.zone), office.holiday_country, office.always) == \
        ("office", "Europe/Prague", "CZ", False)
    assert not office.is_working_day(date(2026, 10, 28))  # Czech Statehood Day, a Wednesday
    assert not office.is_working_day(date(2026, 12, 31))  # the provider's own closing day
    assert office.is_working_day(date(2026, 10, 27))
    assert {p: (t.first_response, t.resolution) for p, t in standard.targets.items()} == {
        "highest": (1 * HOUR, 4 * HOUR), "high": (2 * HOUR, 8 * HOUR), "normal": (4 * HOUR, 24 * HOUR),
        "low": (8 * HOUR, 40 * HOUR), "lowest": (16 * HOUR, 80 * HOUR)}
    assert gold.calendar.always and gold.targets["highest"] == Targets(30 * 60, 4 * HOUR)
    assert gold.targets["lowest"] == gold.targets["normal"] == Targets(4 * HOUR, 24 * HOUR)  # its default:
    esc = sla.escalation
    assert (esc.warn_share, esc.repeat_every) == (0.75, 2 * HOUR)
    assert esc.circles == (("assignee", "queue", "dispatchers"), ("all-dispatchers", "guarantor"), ("all-staff",))
    assert dict(esc.breach_level) == {"lowest": "important", "low": "important", "normal": "important",
                                      "high": "important", "highest": "urgent"}


def test_a_section_parses_into_calendars_targets_and_escalation():
    sla = parse_rules(BASE + SLA).sla
    office = sla.profiles["standard"].calendar
    assert sorted(office.hours) == [0, 1, 2, 3, 4, 5] and office.closed_days == frozenset({date(2026, 12, 28)})
    assert [(f"{a:%H:%M}", f"{b:%H:%M}") for a, b in office.hours[5]] == [("09:00", "12:00")]
    assert sla.profiles["gold"].targets["lowest"] == Targets(8 * HOUR, None)
    assert sla.profiles["standard"].targets["low"] == Targets(4 * HOUR, 24 * HOUR)
    assert sla.escalation.circles == (("queue", "dispatchers"), ("all-staff",))
    assert parse_rules(sla_with("warn_at: 75%", "warn_at: 0.6")).sla.escalation.warn_share == 0.6


def test_a_profile_is_found_by_its_exact_name_else_the_default():
    sla = parse_rules(BASE + SLA).sla
    assert sla.profile("gold").name == "gold"
    assert sla.profile(None).name == sla.profile("platinum").name == sla.profile("Gold").name == "standard"
    assert sla.knows("gold") and not sla.knows("Gold")


def test_breach_levels_take_the_named_priority_then_default_then_the_built_in():
    def levels(spec: str) -> dict:
        text = sla_with("      - [all-staff]\n", f"      - [all-staff]\n    breach_level: {spec}\n")
        return dict(parse_rules(text).sla.escalation.breach_level)

    assert levels("{high: urgent}") == {"lowest": "important", "low": "important", "normal": "important",
                                        "high": "urgent", "highest": "urgent"}
    assert set(levels("{default: standard, highest: urgent}").values()) == {"standard", "urgent"}
    assert levels("{default: standard, highest: urgent}")["normal"] == "standard"


def test_a_file_without_sla_gets_the_built_in_profile():
    rules = parse_rules(BASE)
    assert rules.sla is BUILTIN and list(BUILTIN.profiles) == ["standard"] and BUILTIN.default == "standard"
    standard = BUILTIN.profiles["standard"]
    assert {p: (t.first_response // HOUR, t.resolution // HOUR) for p, t in standard.targets.items()} == {
        "highest": (1, 4), "high": (2, 8), "normal": (4, 24), "low": (8, 40), "lowest": (16, 80)}
    # Mon-Fri 08:00-17:00 UTC: 4 working hours from Friday 16:00 end on Monday at 11:00.
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    due = standard.calendar.add_working(friday, standard.targets["highest"].resolution)
    assert due == datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert load_rules(REPO / "tests" / "rules" / "minimal.yaml").sla is BUILTIN


@pytest.mark.parametrize("old, new, marker, needle", [
    ("first_response: 30m", "first_response: 30 min", "30 min", "must be hours and minutes like 4h, 30m or 1h30m"),
    ("resolution: 2h}", "resolution: 90s}", "90s", "not '90s'"),
    ("highest: {first_response: 1h", "highest: {first_response: 3d", "3d",
     "a day of working time is ambiguous; write it as hours of working time, e.g. 16h"),
    ("calendar: always", "calendar: allways", "allways", "unknown calendar 'allways' (did you mean 'always'?)"),
    ("high: {first_response: 1h, resolution: 4h}", "urgent: {first_response: 1h, resolution: 4h}", "urgent",
     "unknown priority 'urgent'"),
    ("low: {first_response: 4h, resolution: 16h}", "low: {first_response: 20h, resolution: 16h}", "20h",
     "first_response 20h is longer than the resolution target 16h"),
    ("Europe/Prague", "Europe/Praha", "Europe/Praha", "unknown timezone 'Europe/Praha'"),
    ("holidays: CZ", "holidays: XX", "XX", "unknown holiday country 'XX'"),
    ('"08:00-17:00"', '"17:00-08:00"', '"17:00-08:00"', "must end after it starts"),
    ("mon-fri:", "mon-fry:", "mon-fry", "unknown day 'fry'"),
    ("closed: [2026-12-28]", "closed: [2026-12-32]", "2026-12-32", "not a date like 2026-12-24"),
    ("default: standard", "default: platinum", "platinum", "unknown default SLA profile 'platinum'"),
    ("  default: standard\n", "", "warn_at", "sla needs 'default'"),
    ("timezone: Europe/Prague", "time_zone: Europe/Prague", "time_zone", "did you mean 'timezone'?"),
    ("        default: {first_response: 4h, resolution: 24h}\n", "", "highest: {first_response: 1h",
     "targets of profile 'standard' miss lowest, low, normal, high"),
    ("[all-staff]", "[everybody]", "everybody", "unknown circle member 'everybody'"),
    ("[all-staff]", "[operations]", "operations]", "'operations' is a queue"),
    ("warn_at: 75%", "warn_at: 150%", "150%", "warn_at must be a share of the target"),
    ("    gold:", "    Gold:", "Gold", "profile name 'Gold' must be kebab-case"),
    ("always: 24/7", "always: 24x7", "24x7", "must be 24/7 or a mapping with timezone and hours"),
])
def test_errors_name_line_column_and_problem(old, new, marker, needle):
    text = sla_with(old, new)
    with pytest.raises(UserError) as error:
        parse_rules(text, "rules.yaml")
    message = str(error.value)
    assert message.startswith(f"rules.yaml:{position(text, marker)}: "), message
    assert needle in message, message


def test_durations_are_written_back_as_rules_yaml_writes_them():
    assert [format_duration(s) for s in (1800, 3600, 5400, 16 * HOUR, None)] == ["30m", "1h", "1h30m", "16h", "none"]


def _env(tmp_path, rules) -> dict[str, str]:
    # These commands only read rules.yaml; the database named here is never opened.
    return service_env(f"sqlite:///{tmp_path}/helpdesk.db", free_port(), None, HELPDESK_RULES=str(rules))


def test_rules_check_refuses_a_bad_sla_section_in_one_line(tmp_path):
    bad = tmp_path / "rules.yaml"
    text = sla_with("Europe/Prague", "Europe/Praha")
    bad.write_text(text)
    result = run_helpdesk(["rules", "check", str(bad)], _env(tmp_path, bad))
    err = result.stderr.decode()
    assert result.returncode != 0 and err.count("\n") == 1, err
    assert f"rules.yaml:{position(text, 'Europe/Praha')}: unknown timezone 'Europe/Praha'" in err


def test_sla_list_json_shows_every_profile_and_the_default(tmp_path):
    result = run_helpdesk(["sla", "list", "--json"], _env(tmp_path, REPO / "rules.yaml"))
    assert result.returncode == 0, result.stderr
    standard, gold = json.loads(result.stdout)
    assert {k: standard[k] for k in ("name", "default", "calendar", "timezone", "holidays")} == \
        {"name": "standard", "default": True, "calendar": "office", "timezone": "Europe/Prague", "holidays": "CZ"}
    assert standard["targets"]["highest"] == {"first_response_seconds": 3600, "resolution_seconds": 14400}
    assert list(standard["targets"]) == list(PRIORITIES)
    assert (gold["name"], gold["default"], gold["calendar"], gold["timezone"]) == \
        ("gold", False, "around-the-clock", None)


def test_sla_list_without_a_section_shows_the_built_in_profile(tmp_path):
    result = run_helpdesk(["sla", "list", "--json"], _env(tmp_path, REPO / "tests" / "rules" / "minimal.yaml"))
    (standard,) = json.loads(result.stdout)
    assert (standard["name"], standard["default"], standard["timezone"]) == ("standard", True, "UTC")


def test_sla_show_json_has_calendar_targets_with_meanings_and_escalation(tmp_path):
    result = run_helpdesk(["sla", "show", "standard", "--json"], _env(tmp_path, REPO / "rules.yaml"))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    calendar = shown["calendar"]
    assert (shown["name"], shown["default"], calendar["name"], calendar["timezone"]) == \
        ("standard", True, "office", "Europe/Prague")
    assert calendar["hours"]["mon"] == ["08:00-17:00"] and calendar["hours"]["sat"] == []
    assert (calendar["holidays"], calendar["closed"]) == ("CZ", ["2026-12-24", "2026-12-31"])
    assert shown["targets"][-1] == {"priority": "highest", "meaning": PRIORITY_MEANINGS["highest"],
                                    "first_response_seconds": 3600, "resolution_seconds": 14400}
    assert shown["escalation"] == {
        "warn_at": 0.75, "repeat_every_seconds": 7200,
        "circles": [["assignee", "queue", "dispatchers"], ["all-dispatchers", "guarantor"], ["all-staff"]],
        "breach_level": {"lowest": "important", "low": "important", "normal": "important", "high": "important",
                         "highest": "urgent"},
        "warning_level": "important"}


def test_sla_show_reads_as_a_calendar_and_a_table(tmp_path):
    result = run_helpdesk(["sla", "show", "standard"], _env(tmp_path, REPO / "rules.yaml"))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr
    assert "SLA profile standard (the default)" in out and "mon-fri 08:00-17:00" in out
    assert "work completely stopped: nothing can be done" in out
    assert "level 3 and every further level: every active technician, dispatcher and admin" in out


def test_sla_show_of_an_unknown_profile_is_one_line_and_exit_1(tmp_path):
    result = run_helpdesk(["sla", "show", "nope"], _env(tmp_path, REPO / "rules.yaml"))
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode() == "helpdesk: no SLA profile 'nope' in " \
        f"{REPO / 'rules.yaml'} (profiles: standard, gold)\n"


def test_the_priorities_and_their_meanings_are_in_the_cli(tmp_path):
    env = _env(tmp_path, REPO / "rules.yaml")
    listed = json.loads(run_helpdesk(["sla", "priorities", "--json"], env).stdout)
    assert {r["priority"]: r["meaning"] for r in listed} == PRIORITY_MEANINGS
    assert [r["priority"] for r in listed] == list(reversed(PRIORITIES))
    help_text = " ".join(run_helpdesk(["tickets", "--help"], env).stdout.decode().split())
    assert "lowest (a consultation)" in help_text and "highest (work completely stopped:" in help_text
