"""A scratch database for a benchmark: a SQLite file in a temporary folder, or a fresh PostgreSQL
database dropped when the benchmark's ExitStack closes."""

from __future__ import annotations

import secrets
from contextlib import ExitStack
from pathlib import Path

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def create_database(kind: str, tmp: Path, stack: ExitStack, admin_url: str = PG_ADMIN) -> str:
    """A fresh, empty database; it (and the temp dir) goes away when the stack closes."""
    if kind == "sqlite":
        return f"sqlite:///{tmp}/helpdesk.db"
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import OperationalError

    name = f"helpdesk_bench_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        raise SystemExit(f"cannot create a database via {admin_url}: {exc.orig}") from None

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    stack.callback(drop)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def database_or_none(kind: str, tmp: Path, stack: ExitStack, admin_url: str = PG_ADMIN, log=print) -> str | None:
    """Like create_database, but None (said through `log`) when PostgreSQL does not answer, so a
    benchmark still reports its SQLite figures on a machine without one."""
    try:
        return create_database(kind, tmp, stack, admin_url)
    except SystemExit as exc:
        log(f"{kind}: skipped: {exc}")
        return None
