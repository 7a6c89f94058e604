"""One object whole, as `objects show` and a `#docs` answer present it: fields, people, documents,
inspections and the merged history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.object_listing import organization_name
from helpdesk.store.object_tables import ObjectInspection
from helpdesk.store.objects import ObjectRow, list_documents, object_history, object_people, people_sides

_inspection = ObjectInspection.__table__


def document_view(d) -> dict:
    return {"id": d.id, "filename": d.filename, "type": d.kind, "content_type": d.content_type, "size": d.size,
            "sha256": d.sha256, "added_at": d.added_at.isoformat(), "added_by": d.added_by, "ticket": d.ticket_id}


def _inspections(conn: Connection, object_id: int) -> list[dict]:
    query = (select(_inspection.c.inspected_on, _inspection.c.next_due_on, _inspection.c.document_id,
                    _inspection.c.recorded_at).where(_inspection.c.object_id == object_id)
             .order_by(_inspection.c.inspected_on.desc(), _inspection.c.id.desc()))
    return [{"inspected_on": r.inspected_on.isoformat(), "next_due_on": r.next_due_on.isoformat()
             if r.next_due_on else None, "report": r.document_id, "recorded_at": as_utc(r.recorded_at).isoformat()}
            for r in conn.execute(query)]


def object_summary(conn: Connection, obj: ObjectRow) -> dict:
    return {"id": obj.id, "organization": organization_name(conn, obj.organization_id),
            "identifier": obj.identifier, "name": obj.name, "type": obj.kind, "location": obj.location,
            "critical": obj.critical, "interval_days": obj.inspection_interval_days,
            "next_inspection": obj.next_inspection_on.isoformat() if obj.next_inspection_on else None,
            "attributes": obj.attributes}


def object_view(conn: Connection, obj: ObjectRow) -> dict:
    sides = people_sides(conn, obj.id)
    people = [{"side": sides[p.user_id], "email": p.email, "name": p.name, "active": p.active}
              for p in object_people(conn, obj.id)]
    return {**object_summary(conn, obj),
            "clients": [p["email"] for p in people if p["side"] == "client"],
            "technicians": [p["email"] for p in people if p["side"] == "technician"],
            "documents": [document_view(d) for d in list_documents(conn, obj.id)],
            "inspections": _inspections(conn, obj.id),
            "history": [item.as_dict() for item in object_history(conn, obj.id)]}
