"""Backups of an SQLite database while the gateway runs, and their restore: SQLite's backup API.

The backup API copies one consistent snapshot (WAL content included) while the gateway goes on
writing: a reader in WAL mode blocks no writer. Everything the helpdesk keeps is in the database
(attachments too, in `blob`), so one file is the whole backup. A backup is written to a
temporary file beside its target and renamed into place, so a failed one never leaves half a
file; a restore writes into the database in one transaction, so a failed one changes nothing.
PostgreSQL has pg_dump and pg_restore for this (PG_ADVICE).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.db import normalize_url
from helpdesk.store.migrate import alembic_config

PG_ADVICE = ("the database is PostgreSQL: back it up with `pg_dump -Fc -f helpdesk.dump {name}` and "
             "restore with `pg_restore --clean --if-exists -d {name} helpdesk.dump` (README: Data safety)")
# Counted in a summary, so a restore can be compared with what was backed up.
COUNTED = ("ticket", "article", "attachment", "blob", "inbound_message", "outbox", "user_account")


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str
    counts: dict[str, int]
    size: int

    def describe(self) -> str:
        counts = ", ".join(f"{n} {table}" for table, n in self.counts.items())
        return f"{self.path}: schema {self.revision}, {self.size} bytes, {counts}"


def sqlite_path(database_url: str) -> Path:
    """The file of the configured SQLite database; PostgreSQL is refused with the advice."""
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() == "postgresql":
        raise UserError(PG_ADVICE.format(name=url.database or "DBNAME"))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise UserError(f"backups need an SQLite database file or PostgreSQL, not {database_url!r}")
    return Path(url.database)


def _open_existing(path: Path, read_only: bool = False) -> sqlite3.Connection:
    """sqlite3.connect would create a missing file; a backup of nothing must be an error."""
    if not path.is_file():
        raise UserError(f"no database file {path}")
    conn = sqlite3.connect(f"file:{path}?mode={'ro' if read_only else 'rw'}", uri=True, timeout=30)
    conn.isolation_level = None
    return conn


def _revision(conn: sqlite3.Connection, path: Path) -> str:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "no such table"
        raise UserError(f"{path} is not a helpdesk database ({exc})") from None
    if row is None:
        raise UserError(f"{path} is not a helpdesk database (no schema revision in alembic_version)")
    return row[0]


def _summary(conn: sqlite3.Connection, path: Path) -> BackupSummary:
    revision = _revision(conn, path)
    counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED}
    return BackupSummary(path, revision, counts, path.stat().st_size)


def create_backup(source: Path, target: Path) -> BackupSummary:
    """Copy the live database at `source` to `target` (replaced whole, or not at all)."""
    if target.is_dir():
        raise UserError(f"{target} is a folder; give the backup's file name")
    src = _open_existing(source)
    try:
        _revision(src, source)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            _copy_to_file(src, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write the backup {target}: {exc.strerror or exc}") from None
    finally:
        src.close()
    _fsync_dir(target.parent)
    return verify_backup(target)


def _copy_to_file(src: sqlite3.Connection, tmp: Path) -> None:
    dst = sqlite3.connect(tmp)
    try:
        # One step (pages=-1): the whole copy is one read transaction, so one snapshot, however
        # much the gateway writes meanwhile; stepping in parts would restart on every write.
        src.backup(dst, pages=-1)
        # A backup is one self-contained file: no -wal beside it to lose in a copy.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """The rename is on disk too, not only the file's content."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def verify_backup(path: Path) -> BackupSummary:
    """A readable, intact helpdesk database: integrity_check passes and a schema revision is there."""
    conn = _open_existing(path, read_only=True)
    try:
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{path} is not a helpdesk database ({exc})") from None
        if problems != ["ok"]:
            raise UserError(f"{path} is damaged: {problems[0]}")
        return _summary(conn, path)
    finally:
        conn.close()


def check_schema_known(summary: BackupSummary) -> bool:
    """True when the backup's schema is older than this code's (restore, then upgrade); refuses
    one this code does not know: a newer helpdesk made it, and this one would misread it."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head()
    if summary.revision == head:
        return False
    known = {script.revision for script in scripts.walk_revisions()}
    if summary.revision not in known:
        raise UserError(f"{summary.path} has schema revision {summary.revision}, which this helpdesk does "
                        f"not know (it knows up to {head}): restore it with the version that made it")
    return True


def live_instance(target: Path, now: datetime, stale_after: timedelta) -> str | None:
    """A gateway running on the database at `target` (its heartbeat is fresh), described; or None."""
    if not target.is_file():
        return None
    conn = _open_existing(target, read_only=True)
    try:
        rows = conn.execute("SELECT host, pid, heartbeat_at FROM instance").fetchall()
    except sqlite3.DatabaseError:  # no instance table: no gateway of this schema ran on it
        return None
    finally:
        conn.close()
    for host, pid, heartbeat_at in rows:
        age = now - as_utc(datetime.fromisoformat(heartbeat_at))
        if age < stale_after:
            return f"pid {pid} on {host}, heartbeat {max(age.total_seconds(), 0):.0f} s ago"
    return None


def rows_in(target: Path) -> int:
    """How many rows the database at `target` holds besides its schema revision (0: safe to replace)."""
    if not target.is_file() or target.stat().st_size == 0:
        return 0
    conn = _open_existing(target, read_only=True)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'alembic_version'")]
        return sum(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{target} is not a database this command can replace ({exc})") from None
    finally:
        conn.close()


def restore_backup(backup: Path, target: Path) -> None:
    """Write the backup into the database at `target` in one transaction (created if missing).

    Through the backup API rather than a file copy: a -wal file beside the target belongs to the
    old content and would be replayed over a copied file; the API replaces the pages properly."""
    src = _open_existing(backup, read_only=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=WAL")  # as store/db.py runs it
            _forget_instances(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise UserError(f"cannot restore into {target}: {exc}") from None
    finally:
        src.close()


def _forget_instances(conn: sqlite3.Connection) -> None:
    """The backup's `instance` rows are gateways that ran on the source, not on this database:
    left in place, a fresh-looking one would hold its outbox claims until its heartbeat aged."""
    with contextlib.suppress(sqlite3.OperationalError):  # a schema from before 0010 has no such table
        conn.execute("DELETE FROM instance")
        conn.commit()
