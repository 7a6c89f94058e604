"""Decisions of the pipeline that need the database: who sent it, may it continue the ticket,
where a new ticket goes, and which staff hear of it. gateway/pipeline.py puts them in order."""

from __future__ import annotations

from dataclasses import replace

from helpdesk.gateway.accounts.permissions import Decision
from helpdesk.gateway.conversation.continuation import may_continue
from helpdesk.gateway.conversation.thread import TicketRef
from helpdesk.gateway.ground.addresses import base_address
from helpdesk.gateway.ground.clock import utc_today
from helpdesk.gateway.ground.errors import Quarantine
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, Disposition
from helpdesk.gateway.hygiene.auth_results import Verification, evaluate
from helpdesk.gateway.hygiene.sender_proof import SenderProof
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.routing.route import RouteDecision, route
from helpdesk.gateway.routing.routing_facts import RequesterInfo, RoutingFacts
from helpdesk.gateway.staff_mailbox import staff_notify
from helpdesk.store import workflow as q
from helpdesk.store.assignment import active_contracts, requester_organization
from helpdesk.store.sms_people import phone_of
from helpdesk.store.tickets import TicketStore


def lookup_requester(conn, email: str, store: TicketStore | None = None) -> RequesterInfo:
    """The sender's organization and active contracts, for rules that ask about them. With the
    message's `store`, apply reuses what was read here."""
    org_id, org_name = store.sender_organization(email) if store else requester_organization(conn, email)
    if org_id is None:
        return RequesterInfo()
    contracts = active_contracts(conn, org_id, utc_today())
    return RequesterInfo(org_name, tuple(c for c, _ in contracts), tuple(sla for _, sla in contracts))


def verification(mail: InboundMail, trusted: frozenset[str]) -> Verification:
    """What the receiving servers we trust said about the From domain (RFC 8601)."""
    if not (trusted and mail.auth_results):
        return Verification(None, "")
    return evaluate(mail.auth_results, trusted, mail.sender.rpartition("@")[2])


def staff_sender(store: TicketStore, mail: InboundMail) -> q.Person | None:
    """The active staff member whose address the From names (whether the mail may act for them is
    the proof's question, not this one's)."""
    person = q.person_by_address(store.conn, mail.sender)
    if person is None or not person.is_staff or not person.active:
        return None
    return person


def route_new(store: TicketStore, mail: InboundMail, ctx: PipelineContext) -> RouteDecision:
    rules = ctx.rules()
    facts = RoutingFacts(mail, ctx.clock(), rules.zone, lambda: lookup_requester(store.conn, mail.sender, store))
    decision = route(facts, rules)
    mailbox_queue = ctx.mailbox_queues.get(mail.source)
    if not decision.queue_from_rule and mailbox_queue in rules.queues:  # the mailbox's own default
        decision = replace(decision, queue=mailbox_queue)
    if decision.quarantine:
        raise Quarantine(f"rule {decision.rule}: {decision.quarantine}")
    return decision


def may_continue_ticket(session, store: TicketStore, mail: InboundMail, ref: TicketRef,
                        verified: Verification, proof: SenderProof) -> Decision:
    """A reply address issued to the sender for this ticket lets them continue it; otherwise the
    permissions decide, and mail that failed a trusted check may only add to its sender's own open ticket."""
    if proof.by_reply_address and proof.ticket == ref.number:
        return Decision(True, proof.how)
    if mail.channel == "sms":
        return _may_text_into(store, mail.sender, ref.number)
    verdict = may_continue(session, store, mail.sender, ref.number)
    if verdict and verified.verified is False:
        ticket = store.get_ticket(ref.number)
        if ticket.status in FINISHED_STATUSES or store.get_contact(ticket.requester_id).email != mail.sender:
            return Decision(False, f"sender not verified ({verified.reason})")
    return verdict


def _may_text_into(store: TicketStore, phone: str, number: int) -> Decision:
    """Nothing proves an SMS's sender beyond the number the carrier reports, so a number may add
    only to tickets whose requester has it or that it texted before: never as staff or a colleague."""
    if phone_of(store.conn, store.get_ticket(number).requester_id)[0] == phone:
        return Decision(True, "the requester's number")
    if phone in store.participants(number):
        return Decision(True, "the number texted this ticket before")
    return Decision(False, "the number is neither the requester's nor one that texted this ticket")


def staff_news(store: TicketStore, outcome: Outcome, proof: SenderProof, own: frozenset[str]) -> list:
    """Staff hear of new tickets and of clients' follow-ups (gateway/staff_notify.py decides whom),
    with who really wrote, whether that is proven, and whom unproven mail named but did not add."""
    event = {Disposition.CREATED: "new", Disposition.APPENDED: "follow-up",
             Disposition.REOPENED: "reopened"}.get(outcome.disposition)
    if event is None:
        return []
    state = outcome.state or q.ticket_state(store.conn, outcome.ticket_number)
    requester = outcome.requester or store.get_contact(state.requester_id)
    mail = outcome.mail
    named = {r for r in mail.recipients if base_address(r) not in own} - {mail.sender}
    if not proof.proven and event != "new":  # a new ticket's only participant is its sender
        named -= store.participants(state.number)
    writer = staff_notify.Writer(mail.sender, mail.sender_name, proof.proven, proof.how,
                                 () if proof.proven else tuple(sorted(named)))
    if event == "new":
        return staff_notify.new_ticket(store.conn, state, requester, mail.new_text or mail.text, mail.attachments,
                                       exclude=mail.sender, writer=writer)
    return staff_notify.update(store.conn, state, requester, event, mail.new_text or mail.text, mail=mail,
                               writer=writer)
