"""Reads of `helpdesk objects list`: objects with their organization, optionally only those due soon."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import Organization
from helpdesk.store.object_tables import ClientObject, ObjectDocument, ObjectPerson

_object, _org, _person, _document = (ClientObject.__table__, Organization.__table__, ObjectPerson.__table__,
                                     ObjectDocument.__table__)


def _count(table, side: str | None = None):
    query = select(func.count()).select_from(table).where(table.c.object_id == _object.c.id)
    return (query.where(table.c.side == side) if side else query).scalar_subquery()


def object_list(conn: Connection, organization_id: int | None, due_by: date | None, limit: int,
                offset: int = 0) -> tuple[list[dict], int]:
    """A page of objects by organization and identifier (by due date when `due_by` is given) and the total."""
    conditions = []
    if organization_id is not None:
        conditions.append(_object.c.organization_id == organization_id)
    if due_by is not None:
        conditions.append(_object.c.next_inspection_on <= due_by)
    order = ((_object.c.next_inspection_on, _object.c.id) if due_by is not None
             else (_org.c.name, func.lower(_object.c.identifier), _object.c.id))
    query = (select(_object.c.id, _org.c.name.label("organization"), _object.c.identifier, _object.c.name,
                    _object.c.kind, _object.c.location, _object.c.critical, _object.c.inspection_interval_days,
                    _object.c.next_inspection_on, _count(_person, "client").label("clients"),
                    _count(_person, "technician").label("technicians"), _count(_document).label("documents"))
             .join(_org, _org.c.id == _object.c.organization_id).where(*conditions).order_by(*order)
             .limit(limit).offset(offset))
    rows = [{"id": r.id, "organization": r.organization, "identifier": r.identifier, "name": r.name,
             "type": r.kind, "location": r.location, "critical": bool(r.critical),
             "interval_days": r.inspection_interval_days,
             "next_inspection": r.next_inspection_on.isoformat() if r.next_inspection_on else None,
             "clients": r.clients, "technicians": r.technicians, "documents": r.documents}
            for r in conn.execute(query)]
    total = conn.execute(select(func.count()).select_from(_object).where(*conditions)).scalar_one()
    return rows, total


def organization_name(conn: Connection, organization_id: int) -> str:
    return conn.execute(select(_org.c.name).where(_org.c.id == organization_id)).scalar_one()
