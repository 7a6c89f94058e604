"""What every CLI command shares: settings, the database, output as a table or JSON, one-line errors."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from helpdesk.app.commands.help_text import polish, usage_error_line
from helpdesk.gateway.ground.errors import UserError, database_error_line
from helpdesk.gateway.ground.settings import Settings, load_settings
from helpdesk.store.db import make_engine, new_session, read_session

# Ids and numbers as the database can hold them (64-bit keys): larger input is a clear error.
ID = {"min": 1, "max": 2**63 - 1}


def settings() -> Settings:
    return load_settings()


class DiscardChanges(Exception):
    """Raised inside session_scope to roll everything back quietly (dry runs, failed imports)."""


@contextmanager
def session_scope(s: Settings | None = None, *, read_only: bool = False):
    """A session in one transaction, committed on success; the engine is disposed after.
    read_only: for commands that only look, so they do not take SQLite's write lock from the intake."""
    s = s or settings()
    engine = make_engine(s.database_url, s.db_busy_timeout_ms)
    try:
        with (read_session if read_only else new_session)(engine) as session, session.begin():
            yield session
    except DiscardChanges:
        pass
    finally:
        engine.dispose()


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def cell_text(value) -> str:
    """A value as a person reads it in a table: lists comma-separated, yes/no, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple | set):
        return ", ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={cell_text(v)}" for k, v in value.items())
    return str(value)


def print_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(cell_text(row.get(c)) for c in columns))
    # Piped output is not cut to 80 columns: a wrapped id is useless to grep.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


def confirm(question: str, yes: bool) -> None:
    """Destructive actions ask first; --yes answers for scripts. No answer (no terminal) is no."""
    if yes:
        return
    try:
        answer = typer.confirm(question, default=False)
    except typer.Abort:  # end of input: nobody said yes
        answer = False
    if not answer:
        fail("cancelled, nothing changed")


def show(data, as_json: bool, columns: list[str] | None = None, title: str | None = None) -> None:
    """A list as a table (or JSON); a single record as aligned 'key: value' lines (or JSON)."""
    if as_json:
        print_json(data)
    elif isinstance(data, list):
        print_table(data, columns or (list(data[0]) if data else []), title)
    else:
        width = max(len(k) for k in data)
        for key, value in data.items():
            typer.echo(f"{key.replace('_', ' '):<{width}}  {cell_text(value)}")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"helpdesk: {message}", err=True)
    raise typer.Exit(code)



def run_cli(app: typer.Typer) -> None:
    """Run the app; mistakes a user can make end as one line on stderr, never a traceback."""
    try:
        code = polish(typer.main.get_command(app)).main(prog_name="helpdesk", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # the help is printed already (rich prints it as it is made)
        sys.exit(exc.exit_code)
    except UsageError as exc:  # click's own framed block would be several lines
        typer.echo(usage_error_line(exc), err=True)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        typer.echo(f"helpdesk: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("helpdesk: cancelled, nothing changed", err=True)
        sys.exit(1)
    except UserError as exc:
        typer.echo(f"helpdesk: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        line = database_error_line(exc)
        if "no such table" in line or "does not exist" in line and "relation" in line:
            line += " (the schema is missing or old: run `helpdesk db upgrade`)"
        typer.echo(f"helpdesk: database error: {line}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
