"""The order of the stages a stored message goes through: parse, classify, thread, route, apply, notify.

This module only wires the stages; each lives in its own module and can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Callable

from sqlmodel import Session

from gateway.apply import Outcome, Refusal, apply_mail
from gateway.classify import classify
from gateway.closed_policy import follow_up_instead
from gateway.continuation import may_continue
from gateway.errors import Quarantine
from gateway.message import InboundMail
from gateway.message_ids import MessageIdSigner
from gateway.notify import plan_notifications
from gateway.route import route
from gateway.routing_facts import RequesterInfo, RoutingFacts
from gateway.rules import Rules
from gateway.settings import Settings
from gateway.thread import find_ticket_ref
from gateway.ticket_tag import format_tag
from inbound.parse import parse_mail
from outbound.compose import compose_mail
from outbound.outbox import enqueue, recent_mail_to
from outbound.render import Renderer
from store.assignment import active_contracts, requester_organization
from store.models import utcnow
from store.tickets import TicketStore


def lookup_requester(conn, email: str) -> RequesterInfo:
    """The sender's organization and active contracts, for rules that ask about them."""
    org_id, org_name = requester_organization(conn, email)
    if org_id is None:
        return RequesterInfo()
    contracts = active_contracts(conn, org_id, date.today())
    return RequesterInfo(org_name, tuple(c for c, _ in contracts), tuple(sla for _, sla in contracts))


@dataclass
class PipelineContext:
    settings: Settings
    renderer: Renderer
    rules: Callable[[], Rules]  # current rules; reloading swaps what this returns
    mailbox_queues: dict[str, str] = field(default_factory=dict)  # "imap:<name>" -> queue
    signer: MessageIdSigner | None = None  # signs our Message-IDs and checks the ones replies name

    def __post_init__(self):
        if self.signer is None:
            self.signer = MessageIdSigner(self.settings.signing_secret(), self.settings.message_id_domain)


def _queue_notifications(session: Session, outcome: Outcome, ctx: PipelineContext) -> int:
    s = ctx.settings
    intents = plan_notifications(outcome)
    for intent in intents:
        if recent_mail_to(session, intent.to_address, utcnow() - timedelta(hours=1)) >= s.auto_reply_limit_per_hour:
            TicketStore(session).record_event(intent.ticket_number, "reply-suppressed", (
                f"{intent.kind} to {intent.to_address} not sent: more than {s.auto_reply_limit_per_hour} "
                "automatic replies to this address in the last hour"))
            continue
        tag = format_tag(s.ticket_tag, intent.ticket_number)
        rendered = ctx.renderer.render(intent.kind, intent.locale, {
            **intent.context, "tag": tag, "number": intent.ticket_number,
            "support_name": s.support_name, "support_address": s.support_address,
        })
        composed = compose_mail(intent, rendered, tag=tag, support_name=s.support_name,
                                support_address=s.support_address, message_id=ctx.signer.new(intent.ticket_number),
                                now=utcnow())
        enqueue(session, composed, intent.kind, intent.ticket_number)
    return len(intents)


def parse_stored(inbound_id: int, raw: bytes, envelope_from: str | None, envelope_to: str,
                 source: str = "") -> InboundMail:
    """Stage 1, outside any transaction (it is the costliest and needs no database)."""
    return parse_mail(raw, inbound_id, envelope_from, tuple(filter(None, envelope_to.split(","))), source)


def process_mail(session: Session, mail: InboundMail, ctx: PipelineContext) -> Outcome:
    """Stages 2 to 6 for a parsed message, inside the caller's transaction."""
    s = ctx.settings
    classification = classify(mail, s.accepted_addresses, s.support_address)
    store = TicketStore(session)
    ref = find_ticket_ref(mail, store, s.ticket_tag, ctx.signer)
    decision, refused, verdict, follow_up = None, None, None, None
    if ref is not None:
        verdict = may_continue(session, store, mail.sender, ref.number)
        if not verdict:  # a stranger naming someone's ticket gets a ticket of their own
            refused, ref = Refusal(ref.number, verdict.reason), None
        else:
            follow_up = follow_up_instead(store.get_ticket(ref.number), s.closed_ticket_policy,
                                          s.reopen_within_days, utcnow())
            ref = None if follow_up else ref
    if ref is None:
        rules = ctx.rules()
        facts = RoutingFacts(mail, utcnow(), rules.zone, lambda: lookup_requester(store.conn, mail.sender))
        decision = route(facts, rules)
        mailbox_queue = ctx.mailbox_queues.get(mail.source)
        if not decision.queue_from_rule and mailbox_queue in rules.queues:  # the mailbox's own default
            decision = replace(decision, queue=mailbox_queue)
        if decision.quarantine:
            raise Quarantine(f"rule {decision.rule}: {decision.quarantine}")
    outcome = apply_mail(store, mail, classification, ref, decision, s.ticket_tag,
                         own_addresses=s.accepted_addresses, refused=refused, follow_up=follow_up,
                         allowed_because=verdict.reason if verdict else "")
    _queue_notifications(session, outcome, ctx)
    return outcome
