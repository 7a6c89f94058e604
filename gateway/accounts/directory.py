"""Organizations and users as admins manage them: every change validated, nothing half-written.

Each function works in the caller's transaction and raises UserError with one line saying
what is wrong; the CLI commits only when the whole command succeeded.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlmodel import Session

from helpdesk.gateway.accounts.contact_details import (
    check_timezone,
    country_of_locale,
    normalize_country,
    normalize_domain,
    normalize_email,
    normalize_locale,
    normalize_phone,
)
from helpdesk.gateway.accounts.names import check_line, column_length
from helpdesk.gateway.accounts.permissions import Actor, check_roles
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import (
    Organization,
    OrgDomain,
    QueueMember,
    User,
    UserEmail,
    UserRole,
)

MAX_ID = 2**63 - 1
# Widths of the columns, checked before the database so SQLite and PostgreSQL refuse alike.
ORG_NAME_MAX = column_length(Organization, "name")
DOMAIN_MAX = column_length(OrgDomain, "domain")
USER_NAME_MAX = column_length(User, "display_name")
EMAIL_MAX = column_length(UserEmail, "address")
PHONE_MAX = column_length(User, "phone")


def is_id(ref: str) -> bool:
    """A database id as typed: ASCII digits within the range of a 64-bit key."""
    return ref.isascii() and ref.isdigit() and 0 < int(ref) <= MAX_ID


def find_org(session: Session, ref: str) -> Organization:
    """An organization by name (case-insensitive) or id."""
    org = session.get(Organization, int(ref)) if is_id(ref) else session.execute(
        select(Organization).where(func.lower(Organization.name) == ref.strip().lower())).scalar_one_or_none()
    if org is None:
        raise UserError(f"unknown organization {ref!r}")
    return org


def _domain(raw: str) -> str:
    # Checked before the pattern of normalize_domain meets a long string.
    check_line(check_line(raw, "mail domain", None).lstrip("@"), "mail domain", DOMAIN_MAX)
    return normalize_domain(raw)


def _email(raw: str) -> str:
    return normalize_email(check_line(raw, "email address", EMAIL_MAX))


def _phone(raw: str, region: str | None) -> str:
    return check_line(normalize_phone(check_line(raw, "phone number", None), region), "phone number", PHONE_MAX)


def phone_region(country: str | None, org: Organization | None) -> str | None:
    """The country a national phone number is read as from: the one given, else the organization's
    (from its language: a Polish organization's people have Polish numbers)."""
    if country:
        return normalize_country(country)
    return country_of_locale(org.default_locale) if org else None


def _add_domains(session: Session, org: Organization, domains: list[str]) -> None:
    for raw in domains:
        domain = _domain(raw)
        owner = session.get(OrgDomain, domain)
        if owner is not None and owner.organization_id != org.id:
            other = session.get(Organization, owner.organization_id).name
            raise UserError(f"domain {domain} already belongs to {other}")
        if owner is None:
            session.add(OrgDomain(domain=domain, organization_id=org.id))


def add_org(session: Session, name: str, domains: list[str], locale: str = "en", timezone: str = "UTC",
            colleagues_may_continue: bool = True) -> Organization:
    name = check_line(name, "organization name", ORG_NAME_MAX, missing="an organization needs a name")
    if session.execute(select(Organization.id).where(func.lower(Organization.name) == name.lower())).first():
        raise UserError(f"organization {name!r} already exists")
    org = Organization(name=name, default_locale=normalize_locale(locale), timezone=check_timezone(timezone),
                       colleagues_may_continue=colleagues_may_continue)
    session.add(org)
    session.flush()
    _add_domains(session, org, domains)
    return org


def edit_org(session: Session, org: Organization, *, name: str | None = None, add_domains=(), remove_domains=(),
             locale: str | None = None, timezone: str | None = None, colleagues_may_continue: bool | None = None):
    if name is not None:
        name = check_line(name, "organization name", ORG_NAME_MAX, missing="an organization needs a name")
    if name is not None and name.lower() != org.name.lower():
        same_name = select(Organization.id).where(func.lower(Organization.name) == name.lower())
        if session.execute(same_name).first():
            raise UserError(f"organization {name!r} already exists")
        org.name = name
    if locale is not None:
        org.default_locale = normalize_locale(locale)
    if timezone is not None:
        org.timezone = check_timezone(timezone)
    if colleagues_may_continue is not None:
        org.colleagues_may_continue = colleagues_may_continue
    _add_domains(session, org, list(add_domains))
    for raw in remove_domains:
        row = session.get(OrgDomain, normalize_domain(raw))
        if row is None or row.organization_id != org.id:
            raise UserError(f"{org.name} has no domain {raw!r}")
        session.delete(row)
    return org


def org_view(session: Session, org: Organization) -> dict:
    domains = session.execute(select(OrgDomain.domain).where(OrgDomain.organization_id == org.id)
                              .order_by(OrgDomain.domain)).scalars().all()
    users = session.execute(select(func.count()).select_from(User).where(User.organization_id == org.id)).scalar()
    return {"id": org.id, "name": org.name, "domains": list(domains), "default_locale": org.default_locale,
            "timezone": org.timezone, "colleagues_may_continue": org.colleagues_may_continue, "users": users}


def find_user(session: Session, ref: str) -> User:
    """A user by any of their addresses, or by id."""
    if is_id(ref.strip()):
        user = session.get(User, int(ref))
    elif re.fullmatch(r"\+[1-9]\d{5,14}", ref.strip()):  # an SMS's number (E.164): the newest user holding it
        user = session.execute(select(User).where(User.phone == ref.strip()).order_by(User.id.desc())).scalars().first()
    else:
        user_id = session.execute(select(UserEmail.user_id).where(UserEmail.address == ref.strip().lower())).scalar()
        user = session.get(User, user_id) if user_id else None
    if user is None:
        raise UserError(f"unknown user {ref!r}")
    return user


def user_roles(session: Session, user_id: int) -> set[str]:
    return set(session.execute(select(UserRole.role).where(UserRole.user_id == user_id)).scalars())


def actor_for(session: Session, user: User) -> Actor:
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    return Actor(user.id, user.organization_id, frozenset(user_roles(session, user.id)), user.active,
                 bool(org and org.colleagues_may_continue))


def _add_emails(session: Session, user: User, emails: list[str], primary: bool) -> None:
    for i, raw in enumerate(emails):
        address = _email(raw)
        owner = session.get(UserEmail, address)
        if owner is not None:
            if owner.user_id == user.id:
                continue
            raise UserError(f"address {address} already belongs to user {owner.user_id}")
        session.add(UserEmail(address=address, user_id=user.id, is_primary=primary and i == 0))
        session.flush()


def _set_roles(session: Session, user: User, roles: set[str]) -> None:
    problem = check_roles(roles, user.organization_id)
    if problem:
        raise UserError(problem)
    current = user_roles(session, user.id)
    for role in roles - current:
        session.add(UserRole(user_id=user.id, role=role))
    for role in current - roles:
        session.delete(session.get(UserRole, (user.id, role)))


def add_user(session: Session, name: str, emails: list[str], *, phone: str | None = None,
             locale: str | None = None, organization: str | None = None, roles=("client",),
             country: str | None = None) -> User:
    name = check_line(name, "user name", USER_NAME_MAX, missing="a user needs a name")
    if not emails:
        raise UserError("a user needs at least one email address")
    org = find_org(session, organization) if organization else None
    user = User(display_name=name, organization_id=org.id if org else None,
                phone=_phone(phone, phone_region(country, org)) if phone else None,
                locale=normalize_locale(locale) if locale else None)
    session.add(user)
    session.flush()
    _add_emails(session, user, list(emails), primary=True)
    _set_roles(session, user, set(roles) or {"client"})
    return user


def edit_user(session: Session, user: User, *, name=None, phone=None, locale=None, organization=None,
              add_emails=(), remove_emails=(), active: bool | None = None, country: str | None = None) -> User:
    if name is not None:
        user.display_name = check_line(name, "user name", USER_NAME_MAX, missing="a user needs a name")
    if locale is not None:
        user.locale = normalize_locale(locale) if locale else None
    if organization is not None:
        user.organization_id = find_org(session, organization).id if organization else None
        _set_roles(session, user, user_roles(session, user.id))  # roles must still fit
    if phone is not None:  # after the organization: a national number is read as from its country
        org = session.get(Organization, user.organization_id) if user.organization_id else None
        user.phone = _phone(phone, phone_region(country, org)) if phone else None
    if active is not None:
        user.active = active
    _add_emails(session, user, list(add_emails), primary=False)
    for raw in remove_emails:
        row = session.get(UserEmail, normalize_email(raw))
        if row is None or row.user_id != user.id:
            raise UserError(f"user {user.id} has no address {raw!r}")
        session.delete(row)
    session.flush()
    remaining = session.execute(select(UserEmail).where(UserEmail.user_id == user.id)
                                .order_by(UserEmail.is_primary.desc(), UserEmail.address)).scalars().all()
    if not remaining:
        raise UserError("a user needs at least one email address")
    remaining[0].is_primary = True  # the primary address was removed: the next one takes over
    return user


def change_role(session: Session, user: User, role: str, add: bool) -> None:
    roles = user_roles(session, user.id)
    if not add and role not in roles:
        raise UserError(f"user {user.id} does not have role {role!r}")
    _set_roles(session, user, roles | {role} if add else roles - {role})


def set_password(user: User, password: str) -> None:
    if len(password) < 10:
        raise UserError("a password needs at least 10 characters")
    user.password_hash = PasswordHasher().hash(password)


def user_view(session: Session, user: User) -> dict:
    rows = session.execute(select(UserEmail).where(UserEmail.user_id == user.id)
                           .order_by(UserEmail.is_primary.desc(), UserEmail.address)).scalars().all()
    emails = [e.address for e in rows]
    blocked = [{"address": e.address, "until": e.blocked_until.strftime("%Y-%m-%d"), "reason": e.block_reason}
               for e in rows if e.blocked_until is not None]
    org = session.get(Organization, user.organization_id) if user.organization_id else None
    queues = session.execute(select(QueueMember.queue, QueueMember.available)
                             .where(QueueMember.user_id == user.id).order_by(QueueMember.queue)).all()
    return {"id": user.id, "name": user.display_name, "emails": list(emails), "phone": user.phone,
            "locale": user.locale, "organization": org.name if org else None, "active": user.active,
            "roles": sorted(user_roles(session, user.id)), "has_password": user.password_hash is not None,
            "queues": [{"queue": q, "available": a} for q, a in queues],
            # addresses that get no automatic mail after a permanent bounce (mail from them lifts it)
            "blocked": blocked}
