"""What every CLI command shares: settings, the database, output as a table or JSON, one-line errors."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import UserError
from gateway.settings import Settings, load_settings
from store.db import make_engine, new_session

EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again


def settings() -> Settings:
    return load_settings()


@contextmanager
def session_scope(s: Settings | None = None):
    """A session in one transaction, committed on success; the engine is disposed after."""
    s = s or settings()
    engine = make_engine(s.database_url, s.db_busy_timeout_ms)
    try:
        with new_session(engine) as session, session.begin():
            yield session
    finally:
        engine.dispose()


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"helpdesk: {message}", err=True)
    raise typer.Exit(code)


def database_error_line(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def run_cli(app: typer.Typer) -> None:
    """Run the app; mistakes a user can make end as one line on stderr, never a traceback."""
    try:
        app()
    except UserError as exc:
        typer.echo(f"helpdesk: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:
        typer.echo(f"helpdesk: database error: {database_error_line(exc)}", err=True)
        sys.exit(1)
