"""`helpdesk users ...`: clients' contacts and the provider's staff, their addresses and roles."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from sqlalchemy import select

from helpdesk.app.commands.console import DiscardChanges, confirm, fail, session_scope, show
from helpdesk.gateway.accounts.contact_details import LOCALES
from helpdesk.gateway.accounts.directory import (
    add_user,
    change_role,
    edit_user,
    find_org,
    find_user,
    set_password,
    user_view,
)
from helpdesk.gateway.accounts.user_import import import_users, read_rows
from helpdesk.gateway.ground.roles import ALL_ROLES
from helpdesk.store.account_tables import User, UserRole
from helpdesk.store.workflow import revoke_reply_addresses

app = typer.Typer(help="Users: clients' contacts and the provider's staff.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
USER = typer.Argument(..., metavar="USER", help="An email address of the user, or the id.")
ROLES_HELP = f"One of: {', '.join(ALL_ROLES)}."
LOCALE_HELP = f"Language of mail to this user ({', '.join(LOCALES)})."
PHONE = typer.Option(None, metavar="PHONE", help="Phone number: +420 601 123 456, or national with the "
                                                 "organization's country (or --country).")
COUNTRY = typer.Option(None, "--country", metavar="CODE",
                       help="Country a national phone number is from (ISO 3166, e.g. PL); default: the "
                            "organization's.")


@app.command("add")
def add(name: str = typer.Argument(..., metavar="NAME", help="Full name, e.g. \"Jana Nováková\"."),
        email: list[str] = typer.Option(..., "--email", "-e", metavar="EMAIL",
                                        help="Address (repeatable; the first is primary)."),
        phone: str = PHONE, country: str = COUNTRY,
        locale: str = typer.Option(None, metavar="LOCALE", help=LOCALE_HELP),
        org: str = typer.Option(None, "--org", metavar="ORG", help="Organization (none for the provider's staff)."),
        role: list[str] = typer.Option([], "--role", "-r", metavar="ROLE", help=f"Role (repeatable). {ROLES_HELP}")
        ) -> None:
    """Add a user."""
    with session_scope() as session:
        user = add_user(session, name, email, phone=phone, locale=locale, organization=org,
                        roles=tuple(role) or ("client",), country=country)
        typer.echo(f"user {user.id} {user.display_name} added")


@app.command("list")
def list_cmd(org: str = typer.Option(None, "--org", metavar="ORG", help="Only this organization's people."),
             role: str = typer.Option(None, metavar="ROLE", help=f"Only users with this role. {ROLES_HELP}"),
             as_json: bool = JSON) -> None:
    """Users, optionally of one organization or with one role."""
    with session_scope(read_only=True) as session:
        query = select(User).order_by(User.id)
        if org:
            query = query.where(User.organization_id == find_org(session, org).id)
        if role:
            query = query.join(UserRole, UserRole.user_id == User.id).where(UserRole.role == role)
        rows = [user_view(session, u) for u in session.execute(query).scalars()]
    show(rows, as_json, ["id", "name", "emails", "organization", "roles", "active"], "Users")


@app.command("show")
def show_cmd(user: str = USER, as_json: bool = JSON) -> None:
    """One user (the password is never shown, only whether one is set)."""
    with session_scope(read_only=True) as session:
        data = user_view(session, find_user(session, user))
    show(data, as_json)


@app.command("edit")
def edit(user: str = USER, name: str = typer.Option(None, metavar="NAME", help="New full name."),
         phone: str = typer.Option(None, metavar="PHONE", help="New phone number ('' clears it)."),
         country: str = COUNTRY,
         locale: str = typer.Option(None, metavar="LOCALE", help=LOCALE_HELP + " '' clears it."),
         org: str = typer.Option(None, "--org", metavar="ORG", help="New organization ('' for none)."),
         add_email: list[str] = typer.Option([], "--add-email", metavar="EMAIL", help="Another address (repeatable)."),
         remove_email: list[str] = typer.Option([], "--remove-email", metavar="EMAIL",
                                                help="An address to take away (repeatable)."),
         active: bool = typer.Option(None, "--active/--inactive", help="Enable or disable the user.")) -> None:
    """Change a user."""
    with session_scope() as session:
        changed = edit_user(session, find_user(session, user), name=name, phone=phone, locale=locale,
                            organization=org, add_emails=add_email, remove_emails=remove_email, active=active,
                            country=country)
        typer.echo(f"user {changed.id} updated")


@app.command("disable")
def disable(user: str = USER, yes: bool = typer.Option(False, "--yes", "-y")) -> None:
    """Disable a user: no longer assigned tickets, refused by permission checks; tickets are kept."""
    with session_scope(read_only=True) as session:  # an unknown user is said before anything is asked
        person = find_user(session, user)
    confirm(f"Disable {person.display_name} ({user})?", yes)
    with session_scope() as session:
        edit_user(session, find_user(session, user), active=False)
    typer.echo(f"user {user} disabled")


@app.command("revoke-replies")
def revoke_replies(user: str = USER) -> None:
    """Revoke every reply address issued to the user (a leaked one): mail to them stops acting at
    once; the next mail they get carries new ones."""
    with session_scope() as session:
        person = find_user(session, user)
        revoke_reply_addresses(session.connection(), person.id)
    typer.echo(f"reply addresses of {user} revoked")


@app.command("set-password")
def password(user: str = USER, password_stdin: bool = typer.Option(False, "--password-stdin",
                                                                   help="Read the password from stdin.")) -> None:
    """Set a user's password (stored as an argon2id hash)."""
    if password_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        set_password(find_user(session, user), secret)
    typer.echo(f"password of {user} set")


@app.command("add-role")
def add_role(user: str = USER, role: str = typer.Argument(..., metavar="ROLE", help=ROLES_HELP)) -> None:
    """Give a user a role."""
    with session_scope() as session:
        change_role(session, find_user(session, user), role, add=True)
    typer.echo(f"{user} now has role {role}")


@app.command("remove-role")
def remove_role(user: str = USER, role: str = typer.Argument(..., metavar="ROLE", help=ROLES_HELP),
                yes: bool = typer.Option(False, "--yes", "-y")):
    """Take a role away from a user."""
    with session_scope(read_only=True) as session:
        find_user(session, user)
    confirm(f"Remove role {role} from {user}?", yes)
    with session_scope() as session:
        change_role(session, find_user(session, user), role, add=False)
    typer.echo(f"{user} no longer has role {role}")


@app.command("import")
def import_cmd(file: Path = typer.Argument(..., metavar="FILE", help="A UTF-8 CSV file with a header line."),
               dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, import nothing.")):
    """Import users from CSV (name,email,phone,organization,roles,locale): all rows or none."""
    rows = read_rows(file)
    with session_scope() as session:
        problems = import_users(session, rows)
        for problem in problems:
            typer.echo(f"{file}:{problem.line}: {problem.message}", err=True)
        if problems or dry_run:
            raise DiscardChanges
    if problems:
        bad = len({p.line for p in problems})
        fail(f"{bad} of {_rows(len(rows))} {'has' if bad == 1 else 'have'} errors; nothing imported")
    typer.echo(f"{_rows(len(rows))} valid" + ("; nothing imported (dry run)" if dry_run else "; imported"))


def _rows(count: int) -> str:
    return f"{count} row{'' if count == 1 else 's'}"
