"""The `monitoring:` section of rules.yaml: which senders are clients' monitoring systems and how
their mail names the object, the problem and a recovery; compiled once per rules load.

    monitoring:
      - name: zabbix-acme
        senders: [zabbix@acme.example, "@monitoring.acme.example"]   # addresses, or @domain
        subject: '^(?P<state>PROBLEM|RESOLVED): (?P<problem>.+?) on (?P<object>[A-Za-z0-9._-]+)$'
        body: 'Host: (?P<object>\\S+)'      # optional; groups missing in the subject are taken here
        object: SRV-01                       # optional: a fixed object when the mail names none
        recovery: 'RESOLVED|OK|UP'           # matched against the `state` group, else the subject
        resolve_on_recovery: true          # only for a proven sender (DMARC/DKIM pass at a trusted MX) ...
        trust_unproven: false              # ... unless the monitoring mail comes over a network you trust
        flapping_minutes: 30

A sender that matches a monitoring entry makes machine-reported mail (never answered); when its
patterns find no problem key the mail becomes an ordinary (unanswered) ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from helpdesk.gateway.routing.yaml_nodes import Nodes

MONITOR_FIELDS = ("name", "senders", "subject", "body", "object", "recovery", "resolve_on_recovery",
                  "flapping_minutes", "trust_unproven")
GROUPS = ("object", "problem", "state")
DEFAULT_RECOVERY = r"RESOLVED|OK|UP"
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ADDRESS = re.compile(r"^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$")
_DOMAIN = re.compile(r"^@?([a-z0-9-]+(?:\.[a-z0-9-]+)+)$")
MAX_FLAPPING_MINUTES = 7 * 24 * 60
WHOLE_OBJECT = "(the object itself)"  # the problem key of a report whose problem group matched empty


@dataclass(frozen=True)
class FaultReport:
    """What a monitoring mail says: which rule read it, the object, the problem key and whether it recovers."""

    rule: str
    object_identifier: str
    problem: str
    recovery: bool

    @property
    def fingerprint(self) -> str:
        """object + problem key, per monitoring entry (an identifier is unique only within one organization)."""
        key = " ".join(self.problem.lower().split())
        return f"{self.rule}/{self.object_identifier.upper()}/{key}"[:255]


@dataclass(frozen=True)
class MonitorRule:
    name: str
    addresses: frozenset[str]
    domains: frozenset[str]
    subject: re.Pattern | None
    body: re.Pattern | None
    fixed_object: str | None
    recovery: re.Pattern
    resolve_on_recovery: bool
    flapping_minutes: int
    line: int
    trust_unproven: bool = False  # a recovery from an unproven sender may resolve (an internal relay)

    def sends(self, sender: str) -> bool:
        sender = sender.lower()
        return sender in self.addresses or sender.rpartition("@")[2] in self.domains

    def read(self, subject: str, body: str) -> FaultReport | None:
        """The report this mail makes, or None when the patterns find no problem key in it."""
        found: dict[str, str] = {}
        problem_group_matched = False
        for pattern, text in ((self.subject, subject), (self.body, body)):
            match = pattern.search(text) if pattern is not None else None
            if match:
                found = {k: v.strip() for k, v in match.groupdict().items() if v and v.strip()} | found
                problem_group_matched |= "problem" in match.groupdict()
        if problem_group_matched and "problem" not in found:
            # A problem group that matched empty: the report is about the object as a whole
            # (Nagios' "Host Alert: SRV-01 is DOWN"), one fault of its own, so a host that is
            # reported down every few minutes still makes one ticket rather than one each time.
            found["problem"] = WHOLE_OBJECT
        identifier = found.get("object") or self.fixed_object
        if not identifier or not found.get("problem"):
            return None
        recovery = bool(self.recovery.fullmatch(found["state"]) if "state" in found else self._says_recovery(subject))
        return FaultReport(self.name, identifier, found["problem"], recovery)

    def _says_recovery(self, subject: str) -> bool:
        """The recovery pattern as a whole word of the subject: "UP" must not find "BACKUP failed",
        nor "OK" "Bookkeeping", or a failure would be taken for its recovery and resolve its ticket."""
        # re caches the compiled pattern, so this costs one compile per entry, not per mail.
        return re.search(rf"(?<!\w)(?:{self.recovery.pattern})(?!\w)", subject, re.IGNORECASE) is not None


@dataclass(frozen=True)
class Monitoring:
    rules: tuple[MonitorRule, ...] = ()

    def rule_for(self, sender: str) -> MonitorRule | None:
        """The first entry naming this sender; no database and no regex for anyone else."""
        return next((r for r in self.rules if r.sends(sender)), None)


NO_MONITORING = Monitoring()


def _pattern(n: Nodes, node: yaml.Node, what: str, needs_groups: bool = True) -> re.Pattern:
    text = n.scalar(node, what)
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise n.fail(node, f"{what} is not a valid regular expression: {exc}") from None
    unknown = set(pattern.groupindex) - set(GROUPS)
    if needs_groups and unknown:
        raise n.fail(node, f"{what}: unknown named group(s) {', '.join(sorted(unknown))} "
                           f"(use {', '.join(GROUPS)})")
    return pattern


def _senders(n: Nodes, node: yaml.Node) -> tuple[frozenset[str], frozenset[str]]:
    addresses, domains = set(), set()
    for text in n.texts(node, "senders"):
        value = text.lower()
        if _ADDRESS.match(value):
            addresses.add(value)
        elif match := _DOMAIN.match(value):
            domains.add(match[1])
        else:
            raise n.fail(node, f"sender {text!r} is neither an address (zabbix@client.example) "
                               "nor a domain (@monitoring.client.example)")
    return frozenset(addresses), frozenset(domains)


def _monitor(n: Nodes, node: yaml.Node, seen: set[str]) -> MonitorRule:
    spec = n.mapping(node, "a monitoring entry", MONITOR_FIELDS)
    for needed in ("name", "senders"):
        if needed not in spec:
            raise n.fail(node, f"a monitoring entry needs '{needed}'")
    name = n.scalar(spec["name"], "monitoring name")
    if not _NAME.match(name) or name in seen:
        raise n.fail(spec["name"], f"monitoring name {name!r} must be kebab-case and used once")
    seen.add(name)
    subject = _pattern(n, spec["subject"], "subject") if "subject" in spec else None
    body = _pattern(n, spec["body"], "body") if "body" in spec else None
    groups = set(subject.groupindex if subject else ()) | set(body.groupindex if body else ())
    fixed = n.scalar(spec["object"], "object") if "object" in spec else None
    if "problem" not in groups:
        raise n.fail(node, f"monitoring {name!r}: subject or body needs a (?P<problem>...) group")
    if "object" not in groups and fixed is None:
        raise n.fail(node, f"monitoring {name!r}: needs a (?P<object>...) group or a fixed 'object'")
    recovery = _pattern(n, spec["recovery"], "recovery", False) if "recovery" in spec \
        else re.compile(DEFAULT_RECOVERY, re.IGNORECASE)
    minutes = n.scalar(spec["flapping_minutes"], "flapping_minutes") if "flapping_minutes" in spec else "30"
    if not minutes.isdigit() or not 0 <= int(minutes) <= MAX_FLAPPING_MINUTES:
        raise n.fail(spec.get("flapping_minutes", node), f"flapping_minutes must be whole minutes from 0 to "
                                                         f"{MAX_FLAPPING_MINUTES}, not {minutes!r}")
    resolve = n.boolean(spec["resolve_on_recovery"], "resolve_on_recovery") if "resolve_on_recovery" in spec \
        else False
    addresses, domains = _senders(n, spec["senders"])
    trust = n.boolean(spec["trust_unproven"], "trust_unproven") if "trust_unproven" in spec else False
    return MonitorRule(name, addresses, domains, subject, body, fixed, recovery, resolve, int(minutes),
                       node.start_mark.line + 1, trust)


def parse_monitoring(n: Nodes, node: yaml.Node | None) -> Monitoring:
    if node is None:
        return NO_MONITORING
    seen: set[str] = set()
    return Monitoring(tuple(_monitor(n, entry, seen) for entry in n.sequence(node, "monitoring")))
