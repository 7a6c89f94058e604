"""Who may do what: the one place that decides, used by the CLI, mail commands and notifications.

    decide(actor, action, ticket) -> Decision(allowed, reason)

Roles on the client side: client (own tickets), client-admin (the organization's tickets and
contacts), fin-admin (contracts, invoices, billing approval), sys-admin (objects, monitoring
alerts). Provider side: technician, dispatcher, admin. The organization roles need an
organization (a plain client may have none: an unknown sender from an unknown domain);
provider roles belong to no organization.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.gateway.ground.roles import ALL_ROLES, CLIENT_ROLES, ORG_ROLES, STAFF_ROLES

# Mail commands each provider role may give (the technicians' mailbox issue parses them).
_COMMANDS = {
    "technician": {"take", "priority", "category", "pending", "resolve", "close", "reopen", "time", "note", "cc",
                   "ack"},
    "dispatcher": {"assign", "queue", "priority", "category", "close", "reopen", "note", "cc", "ack"},
}
_ORG_ROLE_ACTIONS = {
    "client-admin": {"org.manage-contacts", "contract.view"},
    "fin-admin": {"contract.view", "invoice.approve"},
    "sys-admin": {"object.manage", "alert.receive"},
}
_STAFF_ACTIONS = {
    "technician": {"queue.member", "contract.guarantor", "object.manage", "alert.receive", "contract.view"},
    "dispatcher": {"queue.member", "contract.view", "alert.receive"},
}


@dataclass(frozen=True)
class Actor:
    user_id: int
    organization_id: int | None
    roles: frozenset[str]
    active: bool = True
    colleagues_may_continue: bool = False  # the setting of the actor's organization


@dataclass(frozen=True)
class TicketScope:
    requester_id: int
    organization_id: int | None
    participant_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def is_staff(actor: Actor) -> bool:
    return bool(actor.roles & set(STAFF_ROLES))


def _ticket_access(actor: Actor, action: str, ticket: TicketScope) -> Decision:
    if is_staff(actor):
        return Decision(True, "provider staff")
    if actor.user_id == ticket.requester_id:
        return Decision(True, "requester")
    if actor.user_id in ticket.participant_ids:
        return Decision(True, "participant of the ticket")
    same_org = actor.organization_id is not None and actor.organization_id == ticket.organization_id
    if same_org and "client-admin" in actor.roles:
        return Decision(True, "client-admin of the requester's organization")
    if same_org and actor.colleagues_may_continue:
        return Decision(True, "colleague of the requester (allowed by the organization)")
    return Decision(False, "neither requester, participant, staff nor a permitted colleague")


def decide(actor: Actor, action: str, ticket: TicketScope | None = None,
           organization_id: int | None = None) -> Decision:
    """May `actor` do `action` (on `ticket`, or within `organization_id`)?"""
    if not actor.active:
        return Decision(False, "user is disabled")
    if "admin" in actor.roles:
        return Decision(True, "admin")
    if action in ("ticket.view", "ticket.continue"):
        if ticket is None:
            raise ValueError(f"{action} needs a ticket")
        return _ticket_access(actor, action, ticket)
    if action.startswith("ticket.command."):
        command = action.removeprefix("ticket.command.")
        for role in actor.roles:
            if command in _COMMANDS.get(role, ()):
                return Decision(True, f"{role} may #{command}")
        return Decision(False, f"no role of this user may #{command}")
    for role in actor.roles:
        if action in _STAFF_ACTIONS.get(role, ()):
            return Decision(True, role)
        in_org = organization_id is None or organization_id == actor.organization_id
        if action in _ORG_ROLE_ACTIONS.get(role, ()) and in_org:
            return Decision(True, f"{role} of the organization")
    return Decision(False, f"none of the roles {', '.join(sorted(actor.roles)) or '(none)'} allows {action}")


def check_roles(roles: set[str] | frozenset[str], organization_id: int | None) -> str | None:
    """Why this set of roles cannot belong to such a user, or None when it can."""
    unknown = sorted(set(roles) - set(ALL_ROLES))
    if unknown:
        return f"unknown role {unknown[0]!r} (one of {', '.join(ALL_ROLES)})"
    client = sorted(set(roles) & set(CLIENT_ROLES))
    staff = sorted(set(roles) & set(STAFF_ROLES))
    if client and staff:
        return f"client role {client[0]!r} and provider role {staff[0]!r} cannot be combined"
    org_bound = sorted(set(roles) & set(ORG_ROLES))
    if org_bound and organization_id is None:
        return f"role {org_bound[0]!r} needs an organization"
    if staff and organization_id is not None:
        return f"provider role {staff[0]!r} is for the provider's staff, who belong to no organization"
    return None
