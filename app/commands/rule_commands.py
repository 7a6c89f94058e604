"""`helpdesk rules check|test`: the operators' tools for rules.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from helpdesk.app.commands.console import fail, print_json, print_table, settings
from helpdesk.gateway.routing.rules import Rules, load_rules
from helpdesk.outbound.render import Renderer

app = typer.Typer(help="Routing rules (rules.yaml): check and try them.", no_args_is_help=True)


def _load(file: Path | None) -> Rules:
    s = settings()
    return load_rules(file or s.rules, Renderer(s.templates_dir, s.default_locale).kinds())


@app.command("check")
def check(file: Path = typer.Argument(None, metavar="FILE", help="Rules file (default: HELPDESK_RULES).")) -> None:
    """Validate a rules file; every error names its line and column. Its queues are the ones there are."""
    rules = _load(file)
    # The queue names, so what routing and #queue accept can be read off (`queues list` shows the same).
    typer.echo(f"{rules.source}: OK ({len(rules.queues)} queues: {', '.join(rules.queues)}; "
               f"{len(rules.categories)} categories, {len(rules.rules)} rules)")


def _when(at: str | None) -> datetime:
    if not at:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        fail(f"--at must be a time like 2026-11-23T22:30, got {at!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _explain(tested) -> None:
    d = tested.decision
    typer.echo(f"{tested.name} (from {tested.sender})")
    for trial in d.trials:
        typer.echo(f"  {'MATCH' if trial.matched else 'no   '} rule {trial.rule}")
        for depth, text, held in trial.conditions:
            typer.echo(f"  {'   ' * (depth + 1)}{'yes' if held else 'no '}  {text}")
    typer.echo(f"  => rule {d.rule}: queue {d.queue}, priority {d.priority}, category {d.category or '-'}, "
               f"tags {', '.join(d.tags) or '-'}, alert {d.alert}, acknowledgement {d.acknowledgement}")
    typer.echo(f"     assignment {d.assign}: {tested.assignee}")
    if d.quarantine:
        typer.echo(f"     QUARANTINE: {d.quarantine}")


@app.command("test")
def test(path: Path = typer.Argument(..., help="A .eml file, or a folder of them."),
         rules_file: Path = typer.Option(None, "--rules", help="Rules file (default: HELPDESK_RULES)."),
         at: str = typer.Option(None, "--at", help="Route as if at this time (ISO 8601, default now)."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Show how messages would be routed; nothing is stored or sent."""
    from helpdesk.gateway.routing.rule_testing import messages_in, open_read_only, test_messages
    from helpdesk.inbound.parse import parse_mail
    from helpdesk.store.db import make_engine

    rules, paths, s = _load(rules_file), messages_in(path), settings()
    engine = make_engine(s.database_url, s.db_busy_timeout_ms)
    try:
        results = test_messages(paths, rules, open_read_only(engine), _when(at), parse_mail)
    finally:
        engine.dispose()
    rows = [{"message": t.name, "rule": t.decision.rule if t.decision else "-",
             "queue": t.decision.queue if t.decision else "-",
             "priority": t.decision.priority if t.decision else "-",
             "category": (t.decision.category or "-") if t.decision else "-",
             "assign": t.decision.assign if t.decision else "-",
             "quarantine": (t.decision.quarantine or "") if t.decision else t.problem} for t in results]
    if as_json:
        print_json(rows)
    elif len(results) == 1 and results[0].decision:
        _explain(results[0])
    else:
        print_table(rows, ["message", "rule", "queue", "priority", "category", "assign", "quarantine"],
                    f"Routing with {rules.source}")
