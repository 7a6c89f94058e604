"""Load and validate rules.yaml into frozen, compiled objects; every error names line and column.

The file declares queues, categories, optional business hours, an ordered list of rules, a
default, the SLA profiles (`sla:`, read by gateway/sla/sla_yaml.py; without it the built-in
profile applies) and the clients' monitoring systems (`monitoring:`,
gateway/objects/fault_rules.py). It is compiled once per load: routing a message only runs the
compiled conditions.
Its `queues:` section is the one list of queues: rules route only to them, `#queue` moves
tickets only between them, and the database's queue rows (which hold the members) are made
from it (gateway/accounts/queues.py), so every queue name is checked here as it is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from helpdesk.gateway.accounts.queues import check_queue
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.objects.fault_rules import NO_MONITORING, Monitoring, parse_monitoring
from helpdesk.gateway.routing.rule_actions import PRIORITIES, Actions, Vocabulary, parse_actions
from helpdesk.gateway.routing.rule_conditions import (
    Condition,
    ConditionCompiler,
    TimeWindow,
    parse_window,
)
from helpdesk.gateway.routing.yaml_nodes import Nodes, compose
from helpdesk.gateway.sla.profiles import BUILTIN, SlaConfig
from helpdesk.gateway.sla.sla_yaml import parse_sla

__all__ = ["PRIORITIES", "Rule", "Rules", "load_rules", "parse_rules"]
SECTIONS = ("queues", "categories", "business_hours", "rules", "default", "sla", "monitoring")
RULE_FIELDS = ("name", "when", "then", "continue")
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Rule:
    name: str
    condition: Condition | None  # None: matches every message
    actions: Actions
    continue_: bool
    line: int


@dataclass(frozen=True)
class Rules:
    queues: dict[str, str]
    categories: tuple[str, ...]
    rules: tuple[Rule, ...]
    default: Actions
    zone: ZoneInfo
    source: str
    sla: SlaConfig = BUILTIN  # with a default, so rules built in code need not name it
    monitoring: Monitoring = NO_MONITORING  # clients' monitoring systems (gateway/objects/fault_rules.py)


def _business_hours(n: Nodes, node: yaml.Node | None) -> tuple[TimeWindow | None, ZoneInfo]:
    if node is None:
        return None, ZoneInfo("UTC")
    spec = n.mapping(node, "business_hours", ("timezone", "hours", "days"))
    zone_name = n.scalar(spec["timezone"], "timezone") if "timezone" in spec else "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise n.fail(spec["timezone"], f"unknown timezone {zone_name!r} (e.g. Europe/Prague)") from None
    return parse_window(n, node), zone


def _checked_queue(n: Nodes, at: yaml.Node, name: str, title: str = "") -> tuple[str, str]:
    try:
        return check_queue(name, title)
    except UserError as exc:
        raise n.fail(at, str(exc)) from None


def _queues(n: Nodes, node: yaml.Node) -> dict[str, str]:
    """name -> title; a name the database cannot hold fails here, in `rules check`, not at the next start."""
    n.mapping(node, "queues")  # the shape, and no name twice
    queues = {}
    for key, value in node.value:
        name, _ = _checked_queue(n, key, str(key.value))
        queues[name] = _checked_queue(n, value, name, n.scalar(value, f"title of queue {name!r}"))[1]
    if not queues:
        raise n.fail(node, "'queues' declares no queue")
    return queues


def _rule(n: Nodes, node: yaml.Node, compiler: ConditionCompiler, vocab: Vocabulary, seen: set[str]) -> Rule:
    spec = n.mapping(node, "a rule", RULE_FIELDS)
    if "name" not in spec:
        raise n.fail(node, "every rule needs a name")
    name = n.scalar(spec["name"], "rule name")
    if not _NAME.match(name):
        raise n.fail(spec["name"], f"rule name {name!r} must be kebab-case (lower-case letters, digits, dashes)")
    if name in seen:
        raise n.fail(spec["name"], f"a rule named {name!r} already exists")
    seen.add(name)
    if "then" not in spec:
        raise n.fail(node, f"rule {name!r} has no 'then' (what to do with matching messages)")
    condition = compiler.compile(spec["when"]) if "when" in spec else None
    continue_ = n.boolean(spec["continue"], "continue") if "continue" in spec else False
    return Rule(name, condition, parse_actions(n, spec["then"], vocab), continue_, node.start_mark.line + 1)


def parse_rules(text: str, source: str = "rules.yaml", templates: tuple[str, ...] | None = None) -> Rules:
    """Compile rules.yaml; `templates` (kinds of mail templates) lets acknowledgement names be checked."""
    n = Nodes(source)
    root = compose(text, source)
    if root is None:
        raise UserError(f"{source}: the file is empty; it needs at least 'queues' and 'default'")
    top = n.mapping(root, "the file", SECTIONS)
    if "queues" not in top:
        raise n.fail(root, "missing 'queues'")
    queues = _queues(n, top["queues"])
    categories = n.texts(top["categories"], "categories") if "categories" in top else ()
    window, zone = _business_hours(n, top.get("business_hours"))
    vocab = Vocabulary(tuple(queues), categories, templates)
    compiler, seen = ConditionCompiler(n, window), set()
    rules = tuple(_rule(n, r, compiler, vocab, seen) for r in n.sequence(top["rules"], "rules")) \
        if "rules" in top else ()
    if "default" not in top:
        raise n.fail(root, "missing 'default' (the queue and priority when no rule matches)")
    default = parse_actions(n, top["default"], vocab, "default")
    if default.queue is None:
        raise n.fail(top["default"], "default needs a queue")
    base = Actions(priority="normal", assign="dispatcher", alert="standard", acknowledgement="acknowledgement")
    sla = parse_sla(n, top.get("sla"), tuple(queues))
    monitoring = parse_monitoring(n, top.get("monitoring"))
    return Rules(queues, categories, rules, default.merged_over(base), zone, source, sla, monitoring)


def load_rules(path: Path, templates: tuple[str, ...] | None = None) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read rules file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_rules(text, str(path), templates)
