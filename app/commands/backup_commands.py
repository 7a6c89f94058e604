"""`helpdesk backup ...`: an online backup of the SQLite database, its check, and its restore."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from helpdesk.app.commands.console import fail, settings
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.store import backup as backups
from helpdesk.store.db import make_engine
from helpdesk.store.migrate import current_revision, upgrade

app = typer.Typer(help="Back up and restore the database (SQLite; PostgreSQL: pg_dump).", no_args_is_help=True)
FILE = typer.Argument(..., metavar="FILE", help="The backup file.")


def _outside_the_database(s) -> str:
    """What a backup of the database does not hold, and a restore needs all the same."""
    secret = "HELPDESK_SECRET_KEY" if s.secret_key else str((s.secret_key_file or Path("helpdesk.secret")).absolute())
    return (f"not in the backup, keep copies yourself: the secret key ({secret}; without it replies to "
            f"older mail no longer thread), {s.rules.absolute()}, the env file")


@app.command("create")
def create(file: Path = FILE) -> None:
    """Write a consistent copy of the running database to FILE (attachments included)."""
    s = settings()
    source = backups.sqlite_path(s.database_url)
    if file.exists() and source.exists() and file.samefile(source):
        fail(f"{file} is the database itself; give another file")
    summary = backups.create_backup(source, file)
    typer.echo(f"backup written: {summary.describe()}")
    typer.echo(_outside_the_database(s))


@app.command("verify")
def verify(file: Path = FILE) -> None:
    """Check FILE: intact (integrity_check), a helpdesk database of a schema this code knows."""
    summary = backups.verify_backup(file)
    older = backups.check_schema_known(summary)
    typer.echo(f"ok: {summary.describe()}" + (" (an older schema: restore upgrades it)" if older else ""))


@app.command("restore")
def restore(file: Path = FILE,
            yes: bool = typer.Option(False, "--yes", "-y", help="Replace a database that holds data.")) -> None:
    """Replace the configured SQLite database with the backup in FILE (never under a running gateway)."""
    s = settings()
    target = backups.sqlite_path(s.database_url)
    if target.exists() and file.exists() and file.samefile(target):
        fail(f"{file} is the configured database itself")
    summary = backups.verify_backup(file)
    older = backups.check_schema_known(summary)
    # Always refused, --yes or not: the gateway would go on writing to what the restore replaced.
    running = backups.live_instance(target, utcnow(), timedelta(seconds=s.instance_stale_seconds))
    if running:
        fail(f"a gateway is running on {target} ({running}): stop it first (systemctl stop helpdesk)")
    rows = backups.rows_in(target)
    if rows and not yes:
        fail(f"{target} is not empty ({rows} rows): pass --yes to replace all of it with the backup")
    backups.restore_backup(file, target)
    typer.echo(f"restored {summary.describe()} into {target}")
    if older:
        engine = make_engine(s.database_url, s.db_busy_timeout_ms)
        try:
            upgrade(engine)
            typer.echo(f"schema upgraded from {summary.revision} to {current_revision(engine)}")
        finally:
            engine.dispose()
