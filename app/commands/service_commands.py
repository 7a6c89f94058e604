"""`helpdesk serve` and `helpdesk db upgrade`."""

from __future__ import annotations

import asyncio

import typer

from helpdesk.app.commands.console import fail, settings

db_app = typer.Typer(help="Create or migrate the database schema.", no_args_is_help=True)


LOG_FORMATS = ("text", "json")
LOG_FORMAT = typer.Option(None, "--log-format", metavar="text|json",
                          help="Log lines for people (text) or one JSON object each; overrides HELPDESK_LOG_FORMAT.")


def serve(log_format: str | None = LOG_FORMAT) -> None:
    """Run the gateway: SMTP listener, processing and outbound delivery, until SIGTERM."""
    # Imported here: the pipeline pulls in flanker and friends, which other commands
    # (notably `inbound pipe`, run by the MTA for every message) should not pay for.
    from helpdesk.app.logging_setup import setup_logging
    from helpdesk.app.service import Gateway
    from helpdesk.app.startup_heap import freeze_startup_heap

    if log_format is not None and log_format not in LOG_FORMATS:
        fail(f"--log-format must be text or json, got {log_format!r}")
    s = settings()
    if log_format is not None:  # processing processes set their logging up from the settings
        s = s.model_copy(update={"log_format": log_format})
    renderer, rules = check_before_start(s)
    setup_logging(s.log_level, s.log_format, s.log_third_party)
    # Only here, in the service's own process: tests run gateways inside pytest's, whose heap is not theirs to freeze.
    asyncio.run(Gateway(s, checked=(renderer, rules)).run(before_ready=freeze_startup_heap))


def check_before_start(s):
    """What serve needs that a person configures, checked before anything is created (the SQLite
    file, the outbox folder, the secret): a first `helpdesk serve` in the wrong folder leaves no litter.
    Returns the checked renderer and rules, so the service does not read and check them again."""
    from helpdesk.gateway.routing.rules import load_rules
    from helpdesk.outbound.render import Renderer

    rules = s.rules.absolute()
    if not rules.is_file():
        fail(f"no rules file at {rules} (create it, see the README's Routing rules, or set HELPDESK_RULES)")
    renderer = Renderer(s.templates_dir, s.default_locale)
    renderer.check()
    return renderer, load_rules(rules, renderer.kinds())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the schema or migrate it to the newest revision (serve does this at start too)."""
    from helpdesk.app.service import open_database
    from helpdesk.store.migrate import current_revision

    engine = open_database(settings())
    typer.echo(f"database at revision {current_revision(engine)}")
    engine.dispose()
