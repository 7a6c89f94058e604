"""Decide queue, priority, category, tags, assignment and alert of a new ticket from the rules.

First matching rule wins, unless it says `continue: true`: then later matching rules add to
it. Which rules matched, and (when asked) every condition's result, are kept in the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.gateway.routing.routing_facts import RoutingFacts
from helpdesk.gateway.routing.rule_actions import Actions
from helpdesk.gateway.routing.rule_conditions import RuleTrace
from helpdesk.gateway.routing.rules import Rules


@dataclass(frozen=True)
class RuleTrial:
    rule: str
    matched: bool
    conditions: tuple[tuple[int, str, bool], ...]


@dataclass(frozen=True)
class RouteDecision:
    queue: str
    priority: str
    rule: str  # the deciding rule(s), "a+b" with continue; "default" when none matched
    category: str | None = None
    tags: tuple[str, ...] = ()
    assign: str = "dispatcher"
    alert: str = "standard"
    acknowledgement: str = "acknowledgement"
    quarantine: str | None = None
    object: str | None = None  # identifier of the object a rule links the ticket to
    queue_from_rule: bool = False  # False: the queue is the default's (a mailbox may choose instead)
    trials: tuple[RuleTrial, ...] = ()  # filled only when routing with explain=True


def route(facts: RoutingFacts, rules: Rules, explain: bool = False) -> RouteDecision:
    actions, matched, trials = Actions(), [], []
    for rule in rules.rules:
        trace: RuleTrace | None = [] if explain else None
        held = rule.condition is None or rule.condition.check(facts, trace)
        if explain:
            trials.append(RuleTrial(rule.name, held, tuple(trace)))
        if held:
            actions = rule.actions.merged_over(actions)
            matched.append(rule.name)
            if not rule.continue_:
                break
    final = actions.merged_over(rules.default)
    return RouteDecision(
        queue=final.queue, priority=final.priority, rule="+".join(matched) or "default", category=final.category,
        tags=final.tags, assign=final.assign, alert=final.alert, acknowledgement=final.acknowledgement,
        quarantine=final.quarantine, object=final.object, queue_from_rule=actions.queue is not None,
        trials=tuple(trials))
