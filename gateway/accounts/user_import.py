"""Bulk import of users from CSV: every row is checked, and nothing is imported unless all rows are good.

Columns: name, email (several separated by ';'), phone, organization, roles (separated by ';'),
locale. Each row goes through the same `add_user` as `helpdesk users add`, inside a savepoint, so
a dry run finds exactly the errors a real run would, duplicates within the file included.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from helpdesk.gateway.accounts.contact_details import normalize_email
from helpdesk.gateway.accounts.directory import USER_NAME_MAX, add_user
from helpdesk.gateway.accounts.names import line_problem
from helpdesk.gateway.ground.errors import UserError

COLUMNS = ("name", "email", "phone", "organization", "roles", "locale")
REQUIRED = ("name", "email")
# Widths checked cell by cell, so the report names the column; the other cells are checked as add_user reads them.
CELL_MAX = {"name": USER_NAME_MAX}


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(",", ";").split(";") if part.strip()]


def read_rows(path: Path) -> list[tuple[int, dict]]:
    return read_csv(path, REQUIRED, COLUMNS)


def read_csv(path: Path, required, columns) -> list[tuple[int, dict]]:
    """(line number, row) of a UTF-8 CSV file with a header line naming `columns` (all of
    `required`); any problem with the file itself is one UserError naming its line."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle, strict=True)
        try:
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UserError(f"{path}:1: not a readable UTF-8 CSV file: {exc}") from None
        missing = [c for c in required if c not in header]
        unknown = [h for h in header if h not in columns]
        if missing or unknown:
            problem = f"unknown column {unknown[0]!r}" if unknown else f"missing column {missing[0]!r}"
            raise UserError(f"{path}:1: {problem} (columns: {', '.join(columns)})")
        reader.fieldnames = header
        return _numbered_rows(path, reader)


def _numbered_rows(path: Path, reader: csv.DictReader) -> list[tuple[int, dict]]:
    """Each row with the line it starts on (a quoted cell may span lines)."""
    rows = []
    while True:
        first_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            if "end of data" in str(exc):  # strict: a quote left open would swallow the rest of the file
                raise UserError(f"{path}:{first_line}: a quote opened on this line is never closed") from None
            raise UserError(f"{path}:{first_line}: not a readable CSV file: {exc}") from None
        except UnicodeDecodeError as exc:
            raise UserError(f"{path}:{first_line}: not UTF-8 text: {exc.reason}") from None
        rows.append((first_line, row))


def _cell_problem(row: dict) -> str | None:
    """The first cell that is not one line of text (or is too wide), named by its column."""
    for column in COLUMNS:
        cell = row.get(column) or ""
        problem = line_problem(cell, None) or line_problem(cell.strip(), CELL_MAX.get(column))
        if problem:
            return f"column {column}: {problem}"
    return None


def _shape_problem(row: dict) -> str | None:
    """More cells than the header names: a shifted row would put a name's half in `organization`."""
    extra = row.get(None)
    if not extra:
        return None
    named = len(row) - 1
    return (f"{named + len(extra)} fields where the header has {named} "
            "(a value with a comma needs double quotes)")


def _duplicate_problem(row: dict, line: int, first_seen: dict[str, int]) -> str | None:
    """An address given twice in the file; said before the database would blame a user of this import."""
    for raw in split_list(row.get("email")):
        try:
            address = normalize_email(raw)
        except UserError:
            continue  # add_user says what is wrong with it
        if address in first_seen:
            return f"address {address} is also on line {first_seen[address]}"
        first_seen[address] = line
    return None


def _row_problem(row: dict, line: int, first_seen: dict[str, int]) -> str | None:
    problem = _shape_problem(row) or _cell_problem(row)
    if problem is None and not (row.get("name") or "").strip():
        problem = "a user needs a name"
    if problem is None and not split_list(row.get("email")):
        problem = "a user needs at least one email address (column email)"
    return problem or _duplicate_problem(row, line, first_seen)


def import_users(session: Session, rows: list[tuple[int, dict]]) -> list[RowProblem]:
    """Add every row in its own savepoint; returns the problems (empty when all rows are good)."""
    problems: list[RowProblem] = []
    first_seen: dict[str, int] = {}
    for line, row in rows:
        problem = _row_problem(row, line, first_seen)
        if problem:
            problems.append(RowProblem(line, problem))
            continue
        try:
            with session.begin_nested():
                add_user(session, (row.get("name") or "").strip(), split_list(row.get("email")),
                         phone=(row.get("phone") or "").strip() or None,
                         locale=(row.get("locale") or "").strip() or None,
                         organization=(row.get("organization") or "").strip() or None,
                         roles=tuple(split_list(row.get("roles"))) or ("client",))
        except UserError as exc:
            problems.append(RowProblem(line, str(exc)))
    return problems
