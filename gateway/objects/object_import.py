"""Adding and changing objects, one at a time (`objects add`, `edit`) or from CSV (`objects import`).

Every path goes through `save_object`, so the CSV import refuses exactly what the CLI refuses:
technicians must be the provider's staff, clients must be users of the object's organization.
The import checks each row in its own savepoint and imports nothing unless every row is good.

CSV columns: organization, identifier, name, type, location, critical (yes/no), interval (days),
next (YYYY-MM-DD), clients and technicians (addresses separated by ';'), attributes
(key=value separated by ';').
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from helpdesk.gateway.accounts.directory import find_org, find_user, user_roles
from helpdesk.gateway.accounts.user_import import RowProblem, read_csv, split_list
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.roles import STAFF_ROLES
from helpdesk.gateway.objects.identifiers import (
    check_identifier,
    check_interval,
    check_object_field,
    parse_attributes,
    parse_day,
)
from helpdesk.store import object_edits as edits
from helpdesk.store.objects import ObjectRow, get_object

COLUMNS = ("organization", "identifier", "name", "type", "location", "critical", "interval", "next", "clients",
           "technicians", "attributes")
REQUIRED = ("organization", "identifier")


@dataclass
class ObjectChange:
    """What an add or edit gives; None: not given (edit leaves it alone)."""

    name: str | None = None
    kind: str | None = None
    location: str | None = None
    critical: bool | None = None
    interval: int | None = None
    next_on: date | None = None
    clear_next: bool = False
    clients: list[str] = field(default_factory=list)
    technicians: list[str] = field(default_factory=list)
    remove_clients: list[str] = field(default_factory=list)
    remove_technicians: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)


def _fields(change: ObjectChange) -> dict:
    fields = {key: check_object_field(value, key) for key, value in
              (("name", change.name), ("kind", change.kind), ("location", change.location)) if value is not None}
    if change.critical is not None:
        fields["critical"] = change.critical
    if change.interval is not None:
        fields["inspection_interval_days"] = check_interval(change.interval)
    if change.next_on is not None or change.clear_next:
        fields["next_inspection_on"] = change.next_on
    return fields


def _user_for(session: Session, ref: str, side: str, organization_id: int) -> int:
    """The user's id, when they may stand on that side of this organization's object."""
    user = find_user(session, ref)
    if side == "technician" and not user_roles(session, user.id) & set(STAFF_ROLES):
        raise UserError(f"{ref} is not the provider's staff; only staff can be an object's technician")
    if side == "client" and user.organization_id != organization_id:
        raise UserError(f"{ref} is not a user of the object's organization; only its users can be its clients")
    if not user.active:
        raise UserError(f"{ref} is not active")
    return user.id


def _apply_people(session: Session, object_id: int, organization_id: int, change: ObjectChange) -> None:
    conn = session.connection()
    for refs, side in ((change.remove_clients, "client"), (change.remove_technicians, "technician")):
        for ref in refs:
            if not edits.remove_person(conn, object_id, find_user(session, ref).id, side):
                raise UserError(f"{ref} is not a {side} of this object")
    for refs, side in ((change.clients, "client"), (change.technicians, "technician")):
        for ref in refs:
            edits.set_person(conn, object_id, _user_for(session, ref, side, organization_id), side)


def add_object(session: Session, org_ref: str, identifier: str, change: ObjectChange, now: datetime) -> ObjectRow:
    org = find_org(session, org_ref)
    identifier = check_identifier(identifier)
    conn = session.connection()
    taken = UserError(f"{org.name} already has an object {identifier}")
    if edits.identifier_taken(conn, org.id, identifier):
        raise taken
    fields, attributes = _fields(change), parse_attributes(change.attributes)
    try:
        with session.begin_nested():  # the unique index decides when two adds of one identifier race
            object_id = edits.insert_object(conn, org.id, identifier, fields, attributes, now)
    except IntegrityError:
        raise taken from None
    _apply_people(session, object_id, org.id, change)
    return get_object(conn, object_id)


def edit_object(session: Session, obj: ObjectRow, change: ObjectChange, now: datetime) -> ObjectRow:
    conn = session.connection()
    edits.lock_object(conn, obj.id)
    attributes = parse_attributes(change.attributes, obj.attributes) if change.attributes else None
    edits.update_object(conn, obj.id, _fields(change), attributes, now)
    _apply_people(session, obj.id, obj.organization_id, change)
    return get_object(conn, obj.id)


def read_rows(path: Path) -> list[tuple[int, dict]]:
    return read_csv(path, REQUIRED, COLUMNS)


def _critical(value: str) -> bool | None:
    word = value.strip().lower()
    if word in ("", "no", "false", "0"):
        return None if not word else False
    if word in ("yes", "true", "1"):
        return True
    raise UserError(f"column critical: {value!r} is not yes or no")


def _change_of(row: dict) -> ObjectChange:
    cell = {column: (row.get(column) or "").strip() for column in COLUMNS}
    if row.get(None):
        raise UserError(f"{len(row) - 1 + len(row[None])} fields where the header has {len(row) - 1} "
                        "(a value with a comma needs double quotes)")
    interval = cell["interval"]
    if interval and not interval.isdigit():
        raise UserError(f"column interval: {interval!r} is not a number of days")
    return ObjectChange(name=cell["name"] or None, kind=cell["type"] or None, location=cell["location"] or None,
                        critical=_critical(cell["critical"]), interval=int(interval) if interval else None,
                        next_on=parse_day(cell["next"], "column next:") if cell["next"] else None,
                        clients=split_list(cell["clients"]), technicians=split_list(cell["technicians"]),
                        attributes=[a for a in cell["attributes"].split(";") if a.strip()])


def import_objects(session: Session, rows: list[tuple[int, dict]], now: datetime) -> list[RowProblem]:
    """Add every row in its own savepoint; returns the problems (empty when all rows are good)."""
    problems: list[RowProblem] = []
    for line, row in rows:
        try:
            with session.begin_nested():
                add_object(session, (row.get("organization") or "").strip(), row.get("identifier") or "",
                           _change_of(row), now)
        except UserError as exc:
            problems.append(RowProblem(line, str(exc)))
    return problems
