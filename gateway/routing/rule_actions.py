"""Actions of routing rules: what a matching rule sets on a new ticket."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import yaml

from helpdesk.gateway.routing.yaml_nodes import Nodes

PRIORITIES = ("lowest", "low", "normal", "high", "highest")
STRATEGIES = ("dispatcher", "broadcast", "guarantor", "round-robin", "least-loaded")
ALERT_LEVELS = ("standard", "important", "urgent")
ACTION_FIELDS = ("queue", "priority", "category", "tags", "assign", "alert", "acknowledgement", "quarantine",
                 "object")


@dataclass(frozen=True)
class Actions:
    """Fields a rule sets; None = left to later rules or the default."""

    queue: str | None = None
    priority: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    assign: str | None = None
    alert: str | None = None
    acknowledgement: str | None = None  # template kind of the acknowledgement
    quarantine: str | None = None       # reason; the message is kept aside instead of becoming a ticket
    object: str | None = None           # identifier of the client's object the ticket is about

    def merged_over(self, earlier: "Actions") -> "Actions":
        """These actions applied after `earlier`: set fields win, tags add up."""
        values = {f.name: getattr(self, f.name) if getattr(self, f.name) is not None else getattr(earlier, f.name)
                  for f in fields(self) if f.name != "tags"}
        return Actions(tags=tuple(dict.fromkeys(earlier.tags + self.tags)), **values)


@dataclass(frozen=True)
class Vocabulary:
    """The names actions may use: from the file itself and from the templates folder."""

    queues: tuple[str, ...]
    categories: tuple[str, ...]
    templates: tuple[str, ...] | None = None  # None: not checked (no templates folder given)


def parse_actions(n: Nodes, node: yaml.Node, vocab: Vocabulary, what: str = "then") -> Actions:
    spec = n.mapping(node, what, ACTION_FIELDS)
    values: dict = {}
    if "queue" in spec:
        values["queue"] = n.choice(spec["queue"], "queue", vocab.queues)
    if "priority" in spec:
        values["priority"] = n.choice(spec["priority"], "priority", PRIORITIES)
    if "category" in spec:
        values["category"] = n.choice(spec["category"], "category", vocab.categories)
    if "tags" in spec:
        values["tags"] = tuple(t.lower() for t in n.texts(spec["tags"], "tags"))
    if "assign" in spec:
        values["assign"] = n.choice(spec["assign"], "assignment strategy", STRATEGIES)
    if "alert" in spec:
        values["alert"] = n.choice(spec["alert"], "alert level", ALERT_LEVELS)
    if "acknowledgement" in spec:
        name = n.scalar(spec["acknowledgement"], "acknowledgement")
        if vocab.templates is not None and name not in vocab.templates:
            raise n.fail(spec["acknowledgement"], f"no template folder templates/{name}/ for this acknowledgement")
        values["acknowledgement"] = name
    if "quarantine" in spec:
        values["quarantine"] = n.scalar(spec["quarantine"], "quarantine reason")
    if "object" in spec:
        values["object"] = _object_identifier(n, spec["object"])
    return Actions(**values)


_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


def _object_identifier(n: Nodes, node: yaml.Node) -> str:
    """An object's identifier as [OBJ ...] writes it; which organization's object it is, is the sender's."""
    text = n.scalar(node, "object")
    if not _IDENTIFIER.fullmatch(text):
        raise n.fail(node, f"object {text!r}: an identifier is up to 64 letters, digits, '.', '_', '/' or '-'")
    return text
