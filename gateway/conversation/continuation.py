"""May this sender continue that ticket? Threading must not rest on a guessable number alone.

The requester, addresses that took part (wrote or were CC'd), staff, and, where the
organization allows it, the requester's colleagues may; anyone else gets a new ticket of
their own that records which number they referenced (gateway/permissions.py decides).
"""

from __future__ import annotations

from sqlmodel import Session

from helpdesk.gateway.accounts.directory import actor_for, find_user
from helpdesk.gateway.accounts.permissions import Actor, Decision, TicketScope, decide
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.account_tables import Organization
from helpdesk.store.assignment import requester_organization
from helpdesk.store.tickets import TicketStore

UNKNOWN_USER = -1  # an address no user has yet


def _actor(session: Session, store: TicketStore, sender: str) -> Actor:
    try:
        return actor_for(session, find_user(session, sender))
    except UserError:  # a stranger; they would become a client of the organization of their domain
        org_id, _ = requester_organization(store.conn, sender)
        org = session.get(Organization, org_id) if org_id else None
        return Actor(UNKNOWN_USER, org_id, frozenset({"client"}), True, bool(org and org.colleagues_may_continue))


def may_continue(session: Session, store: TicketStore, sender: str, number: int) -> Decision:
    ticket = store.get_ticket(number)
    requester = store.get_contact(ticket.requester_id)
    actor = _actor(session, store, sender)
    took_part = sender in store.participants(number)
    scope = TicketScope(requester_id=ticket.requester_id, organization_id=requester.organization_id,
                        participant_ids=frozenset({actor.user_id}) if took_part else frozenset())
    return decide(actor, "ticket.continue", scope)
