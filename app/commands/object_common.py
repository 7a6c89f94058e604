"""What the `objects` commands (and `alerts announce`) share: naming an object by id or identifier."""

from __future__ import annotations

import typer
from sqlalchemy import func, select
from sqlmodel import Session

from helpdesk.gateway.accounts.directory import find_org
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.object_tables import ClientObject
from helpdesk.store.objects import ObjectRow, find_object, get_object

JSON = typer.Option(False, "--json", help="Print JSON.")
OBJECT = typer.Argument(..., metavar="OBJECT", help="The object's identifier (e.g. SRV-01) or its id.")
ORG = typer.Option(None, "--org", metavar="ORG", help="The organization (when identifiers repeat across them).")


def resolve_object(session: Session, ref: str, org: str | None = None) -> ObjectRow:
    """The object an operator named: its identifier (in --org, or unique across organizations), else its id."""
    conn = session.connection()
    organization_id = find_org(session, org).id if org else None
    found = find_object(conn, ref, organization_id)
    if found is None and ref.strip().isdigit() and len(ref.strip()) < 19:
        found = get_object(conn, int(ref))
        if found is not None and organization_id is not None and found.organization_id != organization_id:
            found = None
    if found is not None:
        return found
    if organization_id is None:
        owners = conn.execute(select(func.count()).select_from(ClientObject.__table__).where(
            func.lower(ClientObject.__table__.c.identifier) == ref.strip().lower())).scalar_one()
        if owners > 1:
            raise UserError(f"{owners} organizations have an object {ref.strip()}; name one with --org")
    raise UserError(f"unknown object {ref.strip()!r}" + (f" in {org}" if org else ""))
