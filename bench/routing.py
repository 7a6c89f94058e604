"""Benchmark: routing one message against many compiled rules (target: under 1 ms for 1,000 rules).

The rules mix every kind of condition; the measured message matches none of them (or only the
last), so every rule is tried: the worst case. Facts such as the language are computed once
per message, as in the service.

    .venv/bin/python bench/routing.py [--rules 1000] [--repeat 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpdesk.gateway.routing.route import route  # noqa: E402
from helpdesk.gateway.routing.routing_facts import RequesterInfo, RoutingFacts  # noqa: E402
from helpdesk.gateway.routing.rules import parse_rules  # noqa: E402
from helpdesk.inbound.parse import parse_mail  # noqa: E402

KINDS = [
    "{{sender: user{i}@client{i}.example}}",
    "{{sender_domain: client{i}.example}}",
    "{{subject: [keyword{i}, word{i}]}}",
    "{{subject: {{regex: '^ticket-{i}\\\\b'}}}}",
    "{{body: [phrase number {i}]}}",
    "{{header: {{name: X-Customer, value: 'c{i}'}}}}",
    "{{all: [{{recipient: support+q{i}@helpdesk.test}}, {{has_attachment: true}}]}}",
    "{{any: [{{organization: Org {i}}}, {{sla: level{i}}}]}}",
    "{{not: {{channel: email}}}}",
    "{{language: de}}",
]


def make_rules(count: int, last_matches: bool) -> str:
    lines = ["queues: {general: G, operations: O}", "categories: [error]", "default: {queue: general}", "rules:"]
    for i in range(count):
        when = KINDS[i % len(KINDS)].format(i=i)
        lines.append(f"  - name: rule-{i}\n    when: {when}\n    then: {{queue: operations, tags: [t{i}]}}")
    if last_matches:
        lines.append("  - name: catch-printers\n    when: {subject: printer}\n    then: {queue: operations}")
    return "\n".join(lines) + "\n"


MESSAGE = (b"From: Jan Novak <jan@unrelated.example>\r\nTo: support@helpdesk.test\r\nSubject: The printer on floor 2"
           b"\r\nMessage-ID: <bench@unrelated.example>\r\n\r\n" + b"The printer is jammed again, please help.\r\n" * 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    text = make_rules(args.rules, last_matches=True)
    started = time.perf_counter()
    rules = parse_rules(text, "generated.yaml")
    compile_ms = (time.perf_counter() - started) * 1000
    mail = parse_mail(MESSAGE, 1, "jan@unrelated.example", ("support@helpdesk.test",))
    now = datetime.now(UTC)
    samples = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        facts = RoutingFacts(mail, now, rules.zone, lambda: RequesterInfo("Unrelated", (), ()))
        decision = route(facts, rules)
        samples.append((time.perf_counter() - started) * 1000)
    assert decision.rule == "catch-printers", decision.rule
    samples.sort()
    print(f"routing against {len(rules.rules)} rules ({args.repeat} runs; every rule tried, the last matches)")
    print(f"  compile   {compile_ms:.0f} ms once per load")
    print(f"  per msg   median {statistics.median(samples):.3f} ms  p99 {samples[int(len(samples) * 0.99)]:.3f} ms"
          f"  max {samples[-1]:.3f} ms")


if __name__ == "__main__":
    main()
