"""An object's documents: rows naming a blob, the content stored once by its SHA-256 like attachments."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.settings import Settings
from helpdesk.store.models import Blob
from helpdesk.store.object_tables import ObjectDocument

_document, _blob = ObjectDocument.__table__, Blob.__table__
DEFAULT_MAX_BYTES = Settings.model_fields["max_attachment_bytes"].default
# What inbound/parse.safe_filename never leaves in a name (the store cannot import the adapter that
# makes names safe, so it refuses what is not safe instead of making it so).
_UNSAFE_NAME = re.compile(r"[/\\\x00-\x1f\x7f-\x9f\u2028\u2029<>:\"|?*]|^[. ]|[. ]$")
_COLUMNS = (_document.c.id, _document.c.object_id, _document.c.filename, _document.c.content_type,
            _document.c.size, _document.c.kind, _document.c.sha256, _document.c.added_by, _document.c.added_at,
            _document.c.ticket_id)
DOCUMENTS = (select(*_COLUMNS).where(_document.c.object_id == bindparam("object_id"))
             .order_by(_document.c.added_at, _document.c.id))
INSERT_DOCUMENT = insert(_document).returning(_document.c.id)
BLOB_DATA = select(_blob.c.data).where(_blob.c.sha256 == bindparam("sha256"))


@dataclass(frozen=True)
class DocumentRow:
    id: int
    object_id: int
    filename: str
    content_type: str
    size: int
    kind: str
    sha256: str
    added_by: int | None
    added_at: datetime
    ticket_id: int | None


def _row(r) -> DocumentRow:
    return DocumentRow(r.id, r.object_id, r.filename, r.content_type, r.size, r.kind, r.sha256, r.added_by,
                       as_utc(r.added_at), r.ticket_id)


def add_document(session: Session, object_id: int, *, filename: str, content_type: str, data: bytes,
                 kind: str = "document", added_by: int | None, ticket_id: int | None, now: datetime,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> int:
    """Store a document; `max_bytes` is settings.max_attachment_bytes, the limit attachments have."""
    if len(data) > max_bytes:
        raise UserError(f"{filename} is {len(data)} bytes; documents may have at most {max_bytes} bytes")
    if not filename or len(filename) > 255 or _UNSAFE_NAME.search(filename):
        raise UserError(f"the document name {filename!r} is not safe (make it so with inbound/parse.safe_filename)")
    conn = session.connection()
    digest = hashlib.sha256(data).hexdigest()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # ON CONFLICT DO NOTHING: the same content may arrive as an attachment or document at the same moment.
    conn.execute(dialect.insert(_blob).on_conflict_do_nothing(index_elements=["sha256"]),
                 {"sha256": digest, "size": len(data), "data": data})
    return conn.execute(INSERT_DOCUMENT, {
        "object_id": object_id, "sha256": digest, "filename": filename, "content_type": content_type,
        "size": len(data), "kind": kind, "added_by": added_by, "added_at": now, "ticket_id": ticket_id,
    }).scalar_one()


def list_documents(conn: Connection, object_id: int) -> list[DocumentRow]:
    """The object's documents, oldest first."""
    return [_row(r) for r in conn.execute(DOCUMENTS, {"object_id": object_id})]


def get_document(conn: Connection, object_id: int, document_id_or_name: int | str) -> tuple[DocumentRow, bytes] | None:
    """One document of the object and its content, by id or by file name (the newest of that name)."""
    key = str(document_id_or_name).strip()
    query = DOCUMENTS.where(_document.c.id == int(key)) if key.isdigit() else DOCUMENTS.where(
        _document.c.filename == key)
    rows = conn.execute(query, {"object_id": object_id}).all()
    if not rows:
        return None
    found = _row(rows[-1])
    return found, bytes(conn.execute(BLOB_DATA, {"sha256": found.sha256}).scalar_one())
