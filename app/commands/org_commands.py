"""`helpdesk orgs ...`: client organizations and the mail domains that identify their people."""

from __future__ import annotations

import typer
from sqlalchemy import select

from helpdesk.app.commands.console import confirm, session_scope, show
from helpdesk.gateway.accounts.directory import add_org, edit_org, find_org, org_view
from helpdesk.store.account_tables import Organization

app = typer.Typer(help="Client organizations.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("add")
def add(name: str = typer.Argument(..., metavar="NAME", help="The organization's name, e.g. \"Acme Manufacturing\"."),
        domain: list[str] = typer.Option([], "--domain", "-d", metavar="DOMAIN",
                                         help="Mail domain of its people (repeatable)."),
        locale: str = typer.Option("en", metavar="LOCALE", help="Default language of mail to its people."),
        timezone: str = typer.Option("UTC", metavar="ZONE", help="Time zone, e.g. Europe/Prague."),
        colleagues: bool = typer.Option(True, "--colleagues/--no-colleagues",
                                        help="May colleagues continue each other's tickets?")) -> None:
    """Add an organization."""
    with session_scope() as session:
        org = add_org(session, name, domain, locale, timezone, colleagues)
        typer.echo(f"organization {org.id} {org.name} added")


@app.command("list")
def list_cmd(as_json: bool = JSON) -> None:
    """All organizations."""
    with session_scope(read_only=True) as session:
        orgs = session.execute(select(Organization).order_by(Organization.name)).scalars()
        rows = [org_view(session, o) for o in orgs]
    show(rows, as_json, ["id", "name", "domains", "default_locale", "timezone", "users"], "Organizations")


@app.command("show")
def show_cmd(org: str = typer.Argument(..., metavar="ORG", help="Name or id."), as_json: bool = JSON) -> None:
    """One organization."""
    with session_scope(read_only=True) as session:
        data = org_view(session, find_org(session, org))
    show(data, as_json)


@app.command("edit")
def edit(org: str = typer.Argument(..., metavar="ORG", help="Name or id."),
         name: str = typer.Option(None, help="New name."),
         add_domain: list[str] = typer.Option([], "--add-domain", metavar="DOMAIN",
                                              help="Another mail domain of its people (repeatable)."),
         remove_domain: list[str] = typer.Option([], "--remove-domain", metavar="DOMAIN",
                                                 help="A domain that is no longer theirs (repeatable)."),
         locale: str = typer.Option(None, metavar="LOCALE", help="Default language of mail to its people."),
         timezone: str = typer.Option(None, metavar="ZONE", help="Time zone, e.g. Europe/Prague."),
         colleagues: bool = typer.Option(None, "--colleagues/--no-colleagues",
                                         help="May colleagues continue each other's tickets?"),
         yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before removing domains.")) -> None:
    """Change an organization."""
    if remove_domain:
        confirm(f"Remove {', '.join(remove_domain)} from {org}? Its senders will no longer be recognised.", yes)
    with session_scope() as session:
        changed = edit_org(session, find_org(session, org), name=name, add_domains=add_domain,
                           remove_domains=remove_domain, locale=locale, timezone=timezone,
                           colleagues_may_continue=colleagues)
        typer.echo(f"organization {changed.id} {changed.name} updated")
