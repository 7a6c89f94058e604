"""The only pipeline stage that writes: turn a decided message into ticket changes, idempotently."""

from __future__ import annotations

from helpdesk.gateway.conversation.closed_policy import FollowUp
from helpdesk.gateway.conversation.thread import TicketRef
from helpdesk.gateway.conversation.ticket_tag import clean_subject
from helpdesk.gateway.ground.addresses import base_address
from helpdesk.gateway.ground.clock import utc_today, utcnow
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome, Refusal
from helpdesk.gateway.ground.records import TicketState
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, Disposition, TicketStatus
from helpdesk.gateway.hygiene.classify import Classification
from helpdesk.gateway.objects.object_links import NamedObjects, find_link
from helpdesk.gateway.routing.assign import choose_assignee
from helpdesk.gateway.routing.route import RouteDecision
from helpdesk.gateway.sla.profiles import critical_profile_name
from helpdesk.store.object_links import link_ticket
from helpdesk.store.sla_clock import org_profile
from helpdesk.store.tickets import TicketStore


def _create(store: TicketStore, mail: InboundMail, decision: RouteDecision, tag: str, names: NamedObjects | None):
    contact = store.find_or_create_contact(mail.sender, mail.sender_name)
    subject = clean_subject(mail.subject, tag) or "(no subject)"
    chosen = choose_assignee(store.conn, decision.assign, decision.queue, contact.organization_id, utc_today())
    link = find_link(store.conn, names, contact.organization_id) if names else None
    profile = org_profile(store.conn, contact.organization_id, utc_today())
    if link is not None and link[0].critical:  # must run 24/7: so must the clock of its tickets
        profile = critical_profile_name(profile or "")
    clock = store.sla.initial(decision.priority, profile) if store.sla is not None else {}
    number = store.create_ticket(subject, contact.id, {
        "queue": decision.queue, "priority": decision.priority, "rule": decision.rule,
        "category": decision.category, "tags": ",".join(decision.tags), "alert_level": decision.alert,
        "assignment": decision.assign, "assignee_id": chosen.assignee_id, **clock})
    store.record_event(number, "created", f"routed to {decision.queue} by rule {decision.rule}; {chosen.reason}")
    if link is not None:
        link_ticket(store.conn, number, link[0], link[1], utcnow())
        store.record_event(number, "object", f"about object {link[0].identifier} ({link[1]})"
                           + ("; critical: timed 24/7" if link[0].critical else ""))
    state = TicketState(number, subject, TicketStatus.NEW, decision.priority, decision.queue, decision.category,
                        decision.assign, contact.id, chosen.assignee_id, None)
    return state, contact, Disposition.CREATED


def _continue(store: TicketStore, mail: InboundMail, ref: TicketRef, because: str, automatic: bool):
    ticket = store.get_ticket(ref.number)
    store.find_or_create_contact(mail.sender, mail.sender_name)
    if automatic:  # an out-of-office reply must not reopen a ticket or take it off pending
        store.record_event(ticket.number, "appended", f"automatic message from {mail.sender} (via {ref.via}; "
                           f"{because}); status left {ticket.status}")
        return ticket, store.get_contact(ticket.requester_id), Disposition.APPENDED
    if ticket.status in FINISHED_STATUSES:
        store.record_event(ticket.number, "reopened",
                           f"{ticket.status} ticket continued by {mail.sender} (via {ref.via}; {because})")
        store.update_ticket(ticket.number, status=TicketStatus.OPEN, closed_at=None, resolved_at=None)
        disposition = Disposition.REOPENED
    else:
        store.record_event(ticket.number, "appended", f"message from {mail.sender} (via {ref.via}; {because})")
        # A client answering what we asked puts a pending ticket back to work.
        if ticket.status == TicketStatus.PENDING:
            store.update_ticket(ticket.number, status=TicketStatus.OPEN)
        else:
            store.update_ticket(ticket.number)
        disposition = Disposition.APPENDED
    return ticket, store.get_contact(ticket.requester_id), disposition


def apply_mail(store: TicketStore, mail: InboundMail, classification: Classification,
               ref: TicketRef | None, decision: RouteDecision | None, tag: str, *,
               own_addresses: frozenset[str] = frozenset(), refused: Refusal | None = None,
               follow_up: FollowUp | None = None, allowed_because: str = "",
               believe_recipients: bool = False, names: NamedObjects | None = None) -> Outcome:
    """`believe_recipients`: the sender is proven (a signed reply address, a trusted DMARC pass), so
    the people it names in To/Cc join the ticket; otherwise they do not (staff may add them).
    `names`: what the message names that may be a client's object (a new ticket is linked to it)."""
    # The pipeline has already set duplicates aside (same Message-ID as a stored article).
    if ref is None:
        ticket, requester, disposition = _create(store, mail, decision, tag, names)
        if refused is not None:  # recorded here only: the referenced ticket is not touched
            store.record_event(ticket.number, "not-continued",
                               f"{mail.sender} referenced ticket {refused.number} but may not continue it "
                               f"({refused.reason}); this new ticket was opened instead")
        if follow_up is not None:  # linked both ways; the old ticket stays as it was
            store.record_event(ticket.number, "follow-up", f"follows ticket {follow_up.number} "
                               f"({follow_up.reason})")
            store.record_event(follow_up.number, "followed-up", f"continued in ticket {ticket.number}")
    else:
        ticket, requester, disposition = _continue(store, mail, ref, allowed_because, classification.is_automatic)
    store.add_inbound_article(ticket.number, mail)
    # Whoever wrote or was CC'd takes part in the ticket from now on (and may continue it); a forged
    # mail must not add an address of its choosing that would then receive the technicians' answers.
    cc = {r for r in mail.recipients if base_address(r) not in own_addresses} if believe_recipients else set()
    store.add_participants(ticket.number, {mail.sender} | cc, new_ticket=ref is None)
    if classification.no_reply_reason:
        store.record_event(ticket.number, "reply-suppressed", classification.no_reply_reason)
    return Outcome(
        disposition=disposition, mail=mail, ticket_number=ticket.number, ticket_subject=ticket.subject,
        requester=requester, no_reply_reason=classification.no_reply_reason,
        acknowledgement=decision.acknowledgement if decision else "acknowledgement",
        state=ticket if isinstance(ticket, TicketState) else None,
    )
