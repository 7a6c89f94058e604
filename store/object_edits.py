"""Writes of an object's own row and its people (the checks are gateway/objects/object_import.py's)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from helpdesk.store.object_tables import ClientObject, ObjectPerson

_object, _person = ClientObject.__table__, ObjectPerson.__table__
INSERT_OBJECT = insert(_object).returning(_object.c.id)
SAME_IDENTIFIER = select(_object.c.id).where(_object.c.organization_id == bindparam("org_id"),
                                             func.lower(_object.c.identifier) == bindparam("identifier"))
EDITABLE = ("name", "kind", "location", "critical", "inspection_interval_days", "next_inspection_on")


def identifier_taken(conn: Connection, organization_id: int, identifier: str, but: int | None = None) -> bool:
    """Whether the organization has an object of this identifier in any case (SRV-01 and srv-01 are one)."""
    query = SAME_IDENTIFIER if but is None else SAME_IDENTIFIER.where(_object.c.id != but)
    return conn.execute(query, {"org_id": organization_id, "identifier": identifier.lower()}).first() is not None


def insert_object(conn: Connection, organization_id: int, identifier: str, fields: dict, attributes: dict,
                  now: datetime) -> int:
    values = {key: fields[key] for key in EDITABLE if fields.get(key) is not None}
    return conn.execute(INSERT_OBJECT, {"organization_id": organization_id, "identifier": identifier,
                                        **values, "attributes": json.dumps(attributes, ensure_ascii=False),
                                        "created_at": now, "updated_at": now}).scalar_one()


def update_object(conn: Connection, object_id: int, fields: dict, attributes: dict | None, now: datetime) -> None:
    """Change the given fields (a key present with None clears it); attributes replace the old ones."""
    values = {key: fields[key] for key in EDITABLE if key in fields}
    if attributes is not None:
        values["attributes"] = json.dumps(attributes, ensure_ascii=False)
    conn.execute(update(_object).where(_object.c.id == object_id).values(**values, updated_at=now))


def lock_object(conn: Connection, object_id: int) -> None:
    """Edits of one object wait for each other (PostgreSQL), so two edits of its people never interleave."""
    conn.execute(select(_object.c.id).where(_object.c.id == object_id).with_for_update())


def set_person(conn: Connection, object_id: int, user_id: int, side: str) -> None:
    """Make the user responsible on `side`; a second add of the same person changes only the side."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_person).values(object_id=object_id, user_id=user_id, side=side)
    conn.execute(statement.on_conflict_do_update(index_elements=["object_id", "user_id"], set_={"side": side}))


def remove_person(conn: Connection, object_id: int, user_id: int, side: str) -> int:
    return conn.execute(_person.delete().where(and_(_person.c.object_id == object_id, _person.c.user_id == user_id,
                                                    _person.c.side == side))).rowcount
