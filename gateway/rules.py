"""Load and validate rules.yaml into frozen objects; every error names its line and column.

This holds the queues, categories and the default route; the routing-rules issue adds the
ordered rule list on top of the same loader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.errors import UserError

PRIORITIES = ("lowest", "low", "normal", "high", "highest")


@dataclass(frozen=True)
class Rules:
    queues: dict[str, str]
    categories: tuple[str, ...]
    default_queue: str
    default_priority: str
    source: str


def _where(source: str, node: yaml.Node | None) -> str:
    if node is None:
        return source
    return f"{source}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _mapping(node: yaml.Node, source: str, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise UserError(f"{_where(source, node)}: {what} must be a mapping of name: value")
    return {key.value: value for key, value in node.value}


def _scalar(node: yaml.Node, source: str, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise UserError(f"{_where(source, node)}: {what} must be a non-empty text")
    return str(node.value).strip()


def parse_rules(text: str, source: str = "rules.yaml") -> Rules:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise UserError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        raise UserError(f"{source}: the file is empty; it needs at least 'queues' and 'default'")
    top = _mapping(root, source, "the file")
    for key_node, _ in root.value:
        if key_node.value not in {"queues", "categories", "default", "rules"}:
            raise UserError(f"{_where(source, key_node)}: unknown section {key_node.value!r} "
                            "(expected queues, categories, rules, default)")
    if "queues" not in top:
        raise UserError(f"{source}: missing 'queues'")
    queues = {name: _scalar(title, source, f"title of queue {name!r}")
              for name, title in _mapping(top["queues"], source, "queues").items()}
    categories_node = top.get("categories")
    categories: tuple[str, ...] = ()
    if categories_node is not None:
        if not isinstance(categories_node, yaml.SequenceNode):
            raise UserError(f"{_where(source, categories_node)}: categories must be a list")
        categories = tuple(_scalar(n, source, "a category") for n in categories_node.value)
    if "default" not in top:
        raise UserError(f"{source}: missing 'default' (the queue and priority when no rule matches)")
    default = _mapping(top["default"], source, "default")
    queue = _scalar(default["queue"], source, "default queue") if "queue" in default else None
    if queue not in queues:
        where = _where(source, default.get("queue", top["default"]))
        raise UserError(f"{where}: default queue {queue!r} is not declared under queues")
    priority = _scalar(default["priority"], source, "priority") if "priority" in default else "normal"
    if priority not in PRIORITIES:
        raise UserError(f"{_where(source, default['priority'])}: unknown priority {priority!r} "
                        f"(one of {', '.join(PRIORITIES)})")
    return Rules(queues, categories, queue, priority, source)


def load_rules(path: Path) -> Rules:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read rules file {path}: {exc.strerror}") from None
    return parse_rules(text, str(path))
