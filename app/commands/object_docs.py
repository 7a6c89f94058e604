"""`helpdesk objects docs ...`: add, list and export an object's documents."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

import typer

from helpdesk.app.commands.console import fail, session_scope, settings, show
from helpdesk.app.commands.object_common import JSON, OBJECT, ORG, resolve_object
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.objects.history import document_view
from helpdesk.gateway.objects.identifiers import DOCUMENT_KINDS, check_document_kind, check_document_name
from helpdesk.inbound.parse import safe_filename
from helpdesk.store.objects import add_document, get_document, list_documents

app = typer.Typer(help="An object's documents: manuals, inspection reports, configuration.", no_args_is_help=True)
COLUMNS = ["id", "filename", "type", "content_type", "size", "added_at", "ticket"]


def read_document(path: Path, max_bytes: int) -> tuple[str, str, bytes]:
    """A file's safe name (as an attachment's would be), its type by extension and its content,
    refused before reading when it is larger than an attachment may be."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UserError(f"{path} is not a file")
        if size > max_bytes:
            raise UserError(f"{path} is {size} bytes; documents may have at most {max_bytes} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    filename = check_document_name(safe_filename(os.fsdecode(path.name), 1))
    content_type = mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
    return filename, content_type, data


@app.command("add")
def add(ref: str = OBJECT, file: Path = typer.Argument(..., metavar="FILE", help="The document."),
        kind: str = typer.Option("document", "--type", metavar="TYPE", help=f"One of {', '.join(DOCUMENT_KINDS)}."),
        org: str = ORG) -> None:
    """Add a document to an object (stored once however often it is added)."""
    kind = check_document_kind(kind)
    s = settings()
    filename, content_type, data = read_document(file, s.max_attachment_bytes)
    with session_scope(s) as session:
        obj = resolve_object(session, ref, org)
        document_id = add_document(session, obj.id, filename=filename, content_type=content_type, data=data,
                                   kind=kind, added_by=None, ticket_id=None, now=utcnow(),
                                   max_bytes=s.max_attachment_bytes)
    typer.echo(f"document {document_id} {filename} added to {obj.identifier}")


@app.command("list")
def list_cmd(ref: str = OBJECT, org: str = ORG, as_json: bool = JSON) -> None:
    """An object's documents, oldest first."""
    with session_scope(read_only=True) as session:
        obj = resolve_object(session, ref, org)
        rows = [document_view(d) for d in list_documents(session.connection(), obj.id)]
    show(rows, as_json, COLUMNS)


@app.command("get")
def get(ref: str = OBJECT, document: str = typer.Argument(..., metavar="DOC", help="The document's id or name."),
        output: Path = typer.Option(..., "--output", "-o", metavar="FILE", help="Where to write it ('-': stdout)."),
        org: str = ORG,
        force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists.")) -> None:
    """Write a document's content to a file."""
    with session_scope(read_only=True) as session:
        obj = resolve_object(session, ref, org)
        found = get_document(session.connection(), obj.id, document)
    if found is None:
        fail(f"{obj.identifier} has no document {document!r}")
    row, data = found
    if str(output) == "-":
        typer.get_binary_stream("stdout").write(data)
        return
    try:
        with open(output, "wb" if force else "xb") as handle:
            handle.write(data)
    except FileExistsError:
        fail(f"{output} exists; use --force to overwrite it")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    typer.echo(f"document {row.id} {row.filename} ({row.size} bytes) written to {output}")
