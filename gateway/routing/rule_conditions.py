"""Conditions of routing rules, compiled once per load into small objects that test a message.

Each condition has a `describe()` for `helpdesk rules test` and a `holds(facts)`; combinators
(`all`, `any`, `not`) record which of their parts held when a trace is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

import yaml

from helpdesk.gateway.routing.language import LANGUAGES
from helpdesk.gateway.routing.routing_facts import RoutingFacts
from helpdesk.gateway.routing.yaml_nodes import Nodes

RuleTrace = list[tuple[int, str, bool]]  # (depth, description, held)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Condition:
    def describe(self) -> str:
        raise NotImplementedError

    def holds(self, facts: RoutingFacts) -> bool:
        raise NotImplementedError

    def check(self, facts: RoutingFacts, trace: RuleTrace | None, depth: int = 0) -> bool:
        held = self.holds(facts)
        if trace is not None:
            trace.append((depth, self.describe(), held))
        return held


@dataclass(frozen=True)
class TextMatch(Condition):
    """subject / body / a header value: any keyword (case-insensitive) or a regular expression."""

    field: str
    get: Callable[[RoutingFacts], str]
    keywords: tuple[str, ...] = ()
    pattern: re.Pattern | None = None

    def describe(self) -> str:
        if self.pattern is not None:
            return f"{self.field} matches /{self.pattern.pattern}/"
        return f"{self.field} contains {' or '.join(repr(k) for k in self.keywords)}"

    def holds(self, facts: RoutingFacts) -> bool:
        text = self.get(facts)
        if self.pattern is not None:
            return self.pattern.search(text) is not None
        folded = text.casefold()
        return any(k in folded for k in self.keywords)


@dataclass(frozen=True)
class InSet(Condition):
    """The message's value (or one of its values) is one of the given ones."""

    field: str
    get: Callable[[RoutingFacts], frozenset[str]]
    values: frozenset[str]

    def describe(self) -> str:
        return f"{self.field} is {' or '.join(sorted(self.values))}"

    def holds(self, facts: RoutingFacts) -> bool:
        return not self.values.isdisjoint(self.get(facts))


@dataclass(frozen=True)
class Flag(Condition):
    field: str
    get: Callable[[RoutingFacts], bool]
    expected: bool

    def describe(self) -> str:
        return f"{self.field} is {str(self.expected).lower()}"

    def holds(self, facts: RoutingFacts) -> bool:
        return self.get(facts) is self.expected


@dataclass(frozen=True)
class TimeWindow(Condition):
    start: time
    end: time
    days: frozenset[int]

    def describe(self) -> str:
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"local time {self.start:%H:%M}-{self.end:%H:%M} on {days}"

    def holds(self, facts: RoutingFacts) -> bool:
        local = facts.local_now
        if self.start <= self.end:  # a window within one day
            return local.weekday() in self.days and self.start <= local.time() < self.end
        # overnight ("22:00-06:00"): the part after midnight belongs to the previous day's window
        if local.time() >= self.start:
            return local.weekday() in self.days
        return local.time() < self.end and (local.weekday() - 1) % 7 in self.days


@dataclass(frozen=True)
class Combined(Condition):
    kind: str  # "all", "any", "not"
    parts: tuple[Condition, ...]

    def describe(self) -> str:
        return self.kind

    def holds(self, facts: RoutingFacts) -> bool:
        return self.check(facts, None)

    def check(self, facts: RoutingFacts, trace: RuleTrace | None, depth: int = 0) -> bool:
        if trace is None:
            if self.kind == "all":
                return all(p.check(facts, None) for p in self.parts)
            if self.kind == "any":
                return any(p.check(facts, None) for p in self.parts)
            return not self.parts[0].check(facts, None)
        position = len(trace)
        trace.append((depth, self.kind, False))
        results = [p.check(facts, trace, depth + 1) for p in self.parts]  # all shown, no short-circuit
        held = all(results) if self.kind == "all" else any(results) if self.kind == "any" else not results[0]
        trace[position] = (depth, self.kind, held)
        return held


SET_FIELDS: dict[str, Callable[[RoutingFacts], frozenset[str]]] = {
    "sender": lambda f: f.senders,
    "sender_domain": lambda f: f.sender_domains,
    "recipient": lambda f: f.recipients,
    "organization": lambda f: f.organizations,
    "channel": lambda f: f.channels,
    "language": lambda f: f.languages,
    "contract": lambda f: f.contracts,
    "sla": lambda f: f.sla_profiles,
}
TEXT_FIELDS: dict[str, Callable[[RoutingFacts], str]] = {"subject": lambda f: f.subject, "body": lambda f: f.body}
CHOICES = {"channel": ("email", "sms"), "language": LANGUAGES}
CONDITION_FIELDS = tuple(SET_FIELDS) + tuple(TEXT_FIELDS) + (
    "header", "has_attachment", "business_hours", "time", "all", "any", "not")


class ConditionCompiler:
    def __init__(self, nodes: Nodes, business_hours: TimeWindow | None):
        self.nodes, self.business_hours = nodes, business_hours

    def compile(self, node: yaml.Node, what: str = "when") -> Condition:
        fields = self.nodes.mapping(node, what, CONDITION_FIELDS)
        if not fields:
            raise self.nodes.fail(node, f"{what} has no condition")
        parts = tuple(self._leaf(name, value) for name, value in fields.items())
        return parts[0] if len(parts) == 1 else Combined("all", parts)

    def _leaf(self, name: str, node: yaml.Node) -> Condition:
        n = self.nodes
        if name in ("all", "any"):
            return Combined(name, tuple(self.compile(p, name) for p in n.sequence(node, name)))
        if name == "not":
            return Combined("not", (self.compile(node, "not"),))
        if name in TEXT_FIELDS:
            return self._text(name, TEXT_FIELDS[name], node)
        if name == "header":
            return self._header(node)
        if name == "has_attachment":
            return Flag(name, lambda f: f.has_attachment, n.boolean(node, name))
        if name == "business_hours":
            if self.business_hours is None:
                raise n.fail(node, "business_hours needs a top-level 'business_hours' section")
            window = self.business_hours
            return Flag(name, window.holds, n.boolean(node, name))
        if name == "time":
            return parse_window(n, node)
        if name in CHOICES:
            values = tuple(n.choice(v, name, CHOICES[name]) for v in
                           (n.sequence(node, name) if isinstance(node, yaml.SequenceNode) else [node]))
            return InSet(name, SET_FIELDS[name], frozenset(values))
        values = n.texts(node, name)
        if name in ("sender", "recipient"):
            values = tuple(v.lower() for v in values)
        elif name == "sender_domain":
            values = tuple(v.lower().lstrip("@") for v in values)
        else:
            values = tuple(v.casefold() for v in values)
        return InSet(name, SET_FIELDS[name], frozenset(values))

    def _text(self, field: str, get, node: yaml.Node) -> TextMatch:
        n = self.nodes
        if isinstance(node, yaml.MappingNode):
            spec = n.mapping(node, field, ("regex", "keywords", "case_sensitive"))
            if "regex" in spec:
                flags = 0 if "case_sensitive" in spec and n.boolean(spec["case_sensitive"], "case_sensitive") \
                    else re.IGNORECASE
                source = n.scalar(spec["regex"], "regex")
                try:
                    return TextMatch(field, get, pattern=re.compile(source, flags))
                except (re.error, OverflowError, RecursionError) as exc:
                    raise n.fail(spec["regex"], f"bad regular expression {source!r}: {exc}") from None
            if "keywords" in spec:
                return TextMatch(field, get, keywords=tuple(k.casefold() for k in n.texts(spec["keywords"], field)))
            raise n.fail(node, f"{field} needs 'keywords' or 'regex'")
        return TextMatch(field, get, keywords=tuple(k.casefold() for k in n.texts(node, field)))

    def _header(self, node: yaml.Node) -> Condition:
        n = self.nodes
        spec = n.mapping(node, "header", ("name", "value", "regex", "keywords", "case_sensitive"))
        if "name" not in spec:
            raise n.fail(node, "header needs a 'name'")
        header = n.scalar(spec["name"], "header name").lower()
        get = lambda f, h=header: f.headers.get(h, "")  # noqa: E731
        if "value" in spec:
            values = tuple(v.casefold() for v in n.texts(spec["value"], "value"))
            return TextMatch(f"header {header}", get, keywords=values)
        if "regex" in spec or "keywords" in spec:
            rest = yaml.MappingNode(node.tag, [(k, v) for k, v in node.value if k.value != "name"],
                                    node.start_mark, node.end_mark)
            return self._text(f"header {header}", get, rest)
        return Flag(f"header {header} present", lambda f, h=header: h in f.headers, True)


def _clock(n: Nodes, node: yaml.Node, text: str) -> time:
    try:
        return datetime.strptime(text, "%H:%M").time()  # local time of the business-hours zone
    except ValueError:
        raise n.fail(node, f"{text!r} is not a time like 08:00") from None


def parse_window(n: Nodes, node: yaml.Node) -> TimeWindow:
    """'08:00-17:00', or {hours: '08:00-17:00', days: [mon, tue, ...]} (every day when no days)."""
    if isinstance(node, yaml.MappingNode):
        spec = n.mapping(node, "time", ("hours", "days", "timezone"))
        hours_node = spec.get("hours")
        if hours_node is None:
            raise n.fail(node, "time needs 'hours' like 08:00-17:00")
        days = frozenset(DAYS.index(n.choice(d, "day", DAYS)) for d in n.sequence(spec["days"], "days")) \
            if "days" in spec else frozenset(range(7))
    else:
        hours_node, days = node, frozenset(range(7))
    hours = n.scalar(hours_node, "hours")
    start, sep, end = hours.partition("-")
    if not sep:
        raise n.fail(hours_node, f"hours must look like 08:00-17:00, not {hours!r}")
    return TimeWindow(_clock(n, hours_node, start.strip()), _clock(n, hours_node, end.strip()), days)
