"""`helpdesk objects ...`: clients' objects, their documents and inspections."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from helpdesk.app.commands import list_paging as paging
from helpdesk.app.commands.console import DiscardChanges, fail, session_scope, settings, show
from helpdesk.app.commands.object_common import JSON, OBJECT, ORG, resolve_object
from helpdesk.app.commands.object_docs import app as docs_app
from helpdesk.app.commands.object_docs import read_document
from helpdesk.gateway.accounts.directory import find_org
from helpdesk.gateway.ground.clock import utc_today, utcnow
from helpdesk.gateway.objects.history import object_view
from helpdesk.gateway.objects.identifiers import parse_day
from helpdesk.gateway.objects.object_import import ObjectChange, add_object, edit_object, import_objects, read_rows
from helpdesk.store.object_listing import object_list
from helpdesk.store.objects import add_document, record_inspection

app = typer.Typer(help="Clients' objects (servers, machines): documents, inspections, history.",
                  no_args_is_help=True)
app.add_typer(docs_app, name="docs")
LIST_COLUMNS = ["id", "organization", "identifier", "name", "type", "critical", "next_inspection", "clients",
                "technicians", "documents"]

NAME = typer.Option(None, "--name", metavar="NAME", help="What the client calls it.")
TYPE = typer.Option(None, "--type", metavar="TYPE", help="server, router, machine, software, ...")
LOCATION = typer.Option(None, "--location", metavar="PLACE", help="Where it is.")
CRITICAL = typer.Option(None, "--critical/--not-critical", help="Must run 24/7: tickets 24/7, alerts urgent.")
INTERVAL = typer.Option(None, "--interval", metavar="DAYS", help="Days between inspections.")
NEXT = typer.Option(None, "--next", metavar="DATE", help="Next inspection, YYYY-MM-DD (edit: 'none' clears it).")
CLIENT = typer.Option([], "--client", metavar="EMAIL", help="A responsible user of the organization (repeatable).")
TECHNICIAN = typer.Option([], "--technician", metavar="EMAIL", help="A responsible technician (repeatable).")
ATTR = typer.Option([], "--attr", metavar="KEY=VALUE", help="A free attribute (repeatable; KEY= removes it).")


def _change(name, kind, location, critical, interval, next_on, clients, technicians, attrs, **more) -> ObjectChange:
    clear = (next_on or "").strip().lower() == "none"
    return ObjectChange(name=name, kind=kind, location=location, critical=critical, interval=interval,
                        next_on=None if clear or next_on is None else parse_day(next_on, "--next"),
                        clear_next=clear, clients=list(clients), technicians=list(technicians),
                        attributes=list(attrs), **more)


@app.command("add")
def add(org: str = typer.Argument(..., metavar="ORG", help="The organization that owns it (name or id)."),
        identifier: str = typer.Argument(..., metavar="IDENTIFIER", help="Serial or inventory number, e.g. SRV-01."),
        name: str = NAME, kind: str = TYPE, location: str = LOCATION, critical: bool = CRITICAL,
        interval: int = INTERVAL, next_on: str = NEXT, client: list[str] = CLIENT,
        technician: list[str] = TECHNICIAN, attr: list[str] = ATTR) -> None:
    """Add an object to an organization."""
    if (next_on or "").strip().lower() == "none":
        next_on = None
    with session_scope() as session:
        obj = add_object(session, org, identifier,
                         _change(name, kind, location, critical, interval, next_on, client, technician, attr),
                         utcnow())
        typer.echo(f"object {obj.id} {obj.identifier} added")


@app.command("edit")
def edit(ref: str = OBJECT, org: str = ORG, name: str = NAME, kind: str = TYPE, location: str = LOCATION,
         critical: bool = CRITICAL, interval: int = INTERVAL, next_on: str = NEXT, client: list[str] = CLIENT,
         technician: list[str] = TECHNICIAN, attr: list[str] = ATTR,
         remove_client: list[str] = typer.Option([], "--remove-client", metavar="EMAIL", help="(repeatable)"),
         remove_technician: list[str] = typer.Option([], "--remove-technician", metavar="EMAIL",
                                                     help="(repeatable)")) -> None:
    """Change an object's fields and people; what is not given stays."""
    with session_scope() as session:
        obj = resolve_object(session, ref, org)
        change = _change(name, kind, location, critical, interval, next_on, client, technician, attr,
                         remove_clients=list(remove_client), remove_technicians=list(remove_technician))
        obj = edit_object(session, obj, change, utcnow())
        typer.echo(f"object {obj.id} {obj.identifier} changed")


@app.command("list")
def list_cmd(org: str = ORG,
             due_within: str = typer.Option(None, "--due-within", metavar="DAYS",
                                            help="Only objects whose inspection is due within DAYS (or overdue)."),
             limit: str = paging.LIMIT, offset: str = paging.OFFSET, as_json: bool = JSON) -> None:
    """Objects by organization and identifier (by due date with --due-within)."""
    page = paging.read_page(limit, offset)
    days = paging._whole_number(due_within, "--due-within", 0, 36600) if due_within is not None else None
    with session_scope(read_only=True) as session:
        organization_id = find_org(session, org).id if org else None
        due_by = utc_today() + timedelta(days=days) if days is not None else None
        rows, total = object_list(session.connection(), organization_id, due_by, page.limit, page.offset)
    show(rows, as_json, LIST_COLUMNS)
    paging.tell_if_cut(page, len(rows), total, "objects")


@app.command("show")
def show_cmd(ref: str = OBJECT, org: str = ORG, as_json: bool = JSON) -> None:
    """One object with its people, documents, inspections and history (newest first)."""
    with session_scope(read_only=True) as session:
        view = object_view(session.connection(), resolve_object(session, ref, org))
    if as_json:
        show(view, True)
        return
    show({k: v for k, v in view.items() if k not in ("documents", "inspections", "history")}, False)
    for title, key, columns in (("documents", "documents", ["id", "filename", "type", "size", "added_at"]),
                                ("inspections", "inspections", ["inspected_on", "next_due_on", "report"]),
                                ("history", "history", ["at", "kind", "text", "ticket", "alert"])):
        if view[key]:
            show(view[key], False, columns, title)


@app.command("inspected")
def inspected(ref: str = OBJECT, org: str = ORG,
              day: str = typer.Option(..., "--date", metavar="DATE", help="When it was inspected, YYYY-MM-DD."),
              report: Path = typer.Option(None, "--report", metavar="FILE", help="The inspection report.")) -> None:
    """Record an inspection: the report becomes a document, the next date moves by the interval."""
    inspected_on = parse_day(day, "--date")
    if inspected_on > utc_today():
        fail(f"--date {inspected_on.isoformat()} is in the future")
    s = settings()
    with session_scope(s) as session:
        obj = resolve_object(session, ref, org)
        document_id = None
        if report is not None:
            filename, content_type, data = read_document(report, s.max_attachment_bytes)
            document_id = add_document(session, obj.id, filename=filename, content_type=content_type, data=data,
                                       kind="inspection-report", added_by=None, ticket_id=None, now=utcnow(),
                                       max_bytes=s.max_attachment_bytes)
        next_on = record_inspection(session, obj.id, inspected_on=inspected_on, document_id=document_id,
                                    recorded_by=None, now=utcnow())
    typer.echo(f"object {obj.identifier} inspected on {inspected_on.isoformat()}; next inspection "
               f"{next_on.isoformat() if next_on else 'not set (no interval)'}")


@app.command("import")
def import_cmd(file: Path = typer.Argument(..., metavar="FILE", help="A UTF-8 CSV file with a header line."),
               dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, import nothing.")) -> None:
    """Import objects from CSV (organization,identifier,name,type,location,critical,interval,next,clients,
    technicians,attributes): all rows or none."""
    rows = read_rows(file)
    with session_scope() as session:
        problems = import_objects(session, rows, utcnow())
        for problem in problems:
            typer.echo(f"{file}:{problem.line}: {problem.message}", err=True)
        if problems or dry_run:
            raise DiscardChanges
    count = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
    if problems:
        bad = len({p.line for p in problems})
        fail(f"{bad} of {count} {'has' if bad == 1 else 'have'} errors; nothing imported")
    typer.echo(f"{count} valid" + ("; nothing imported (dry run)" if dry_run else "; imported"))

