"""What every stage is given: the settings, the current rules, the clock and the ports to the adapters.

The composition root (app/wiring.py) builds it; tests build it with the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session

from helpdesk.gateway.accounts.permissions import Decision
from helpdesk.gateway.conversation.closed_policy import FollowUp
from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.conversation.reply_address import ReplyAddresses
from helpdesk.gateway.conversation.thread import TicketRef
from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.ground.outcome import Refusal
from helpdesk.gateway.ground.ports import MailComposer, MailParser, MailRenderer
from helpdesk.gateway.ground.processing_log import ProcessingLog
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.hygiene.auth_results import Verification
from helpdesk.gateway.hygiene.classify import Classification
from helpdesk.gateway.hygiene.sender_proof import SenderProof
from helpdesk.gateway.routing.rules import Rules
from helpdesk.gateway.sla.keeper import SlaKeeper
from helpdesk.store.tickets import TicketStore


@dataclass
class PipelineContext:
    settings: Settings
    renderer: MailRenderer
    rules: Callable[[], Rules]  # current rules; reloading swaps what this returns
    parse: MailParser
    compose: MailComposer
    mailbox_queues: dict[str, str] = field(default_factory=dict)  # "imap:<name>" -> queue
    signer: MessageIdSigner | None = None  # signs our Message-IDs and checks the ones replies name
    clock: Clock = utcnow
    replies: ReplyAddresses | None = None  # signs and checks the recipients' reply addresses
    sla: SlaKeeper | None = None  # keeps tickets' SLA clocks true (from the current rules' sla: section)
    parse_sms: Callable[[bytes, int, str], InboundMail] | None = None  # a stored SMS webhook body (inbound/)

    def __post_init__(self):
        s, secret = self.settings, self.settings.signing_secret()

        def previous() -> tuple[bytes, ...]:  # asked per message: a transition period ends while we run
            return s.previous_secrets(self.clock().date())

        if self.signer is None:
            self.signer = MessageIdSigner(secret, s.message_id_domain, previous)
        if self.replies is None:
            self.replies = ReplyAddresses(secret, s.support_address, s.reply_address_prefix, previous)
        if self.sla is None:
            self.sla = SlaKeeper(lambda: self.rules().sla, self.clock)


@dataclass
class MessageInProcess:
    """One message on its way through the stages: what is known so far, filled in stage by stage."""

    session: Session
    store: TicketStore
    mail: InboundMail
    ctx: PipelineContext
    trace: ProcessingLog
    classification: Classification | None = None
    verified: Verification | None = None
    proof: SenderProof | None = None           # whether the From is proven (reply address, DMARC pass)
    ref: TicketRef | None = None
    continue_verdict: Decision | None = None   # why the sender may (or may not) continue ref
    refused: Refusal | None = None             # ref they named but may not continue
    follow_up: FollowUp | None = None          # a closed ticket answered by a new linked one
