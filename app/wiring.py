"""Builders that plug the adapters into the deciding code; the service, the CLI and tests share them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from sqlalchemy.engine import Engine

from helpdesk.gateway.conversation.message_ids import MessageIdSigner
from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.ground.metrics import Metrics
from helpdesk.gateway.ground.outgoing import ClaimedMail, DeliveryPolicy
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.hygiene.relay_refusal import record_relay_refusals
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.routing.rules import Rules
from helpdesk.inbound.imap import MailboxReader
from helpdesk.inbound.intake import InboundWriter
from helpdesk.inbound.parse import parse_mail
from helpdesk.inbound.sms_parse import parse_sms
from helpdesk.outbound.compose import compose_mail
from helpdesk.outbound.dispatcher import Dispatcher
from helpdesk.outbound.render import Renderer
from helpdesk.outbound.sms_dispatcher import SUMMARY_KIND, SmsDispatcher, SummaryText
from helpdesk.outbound.sms_providers import SmsProvider, make_provider
from helpdesk.outbound.transport import Transport, make_transport
from helpdesk.store.db import is_sqlite
from helpdesk.store.imap_state import ImapProgress
from helpdesk.store.inbound_messages import HeldSqliteCommitter, RawMessageCommitter
from helpdesk.store.outbox import OutboxRows
from helpdesk.store.sms_outbox import SmsOutboxRows


def make_pipeline_context(s: Settings, rules: Callable[[], Rules], renderer: Renderer | None = None,
                          clock: Clock = utcnow) -> PipelineContext:
    """The pipeline with the real parser, renderer and composer plugged in."""
    return PipelineContext(s, renderer or Renderer(s.templates_dir, s.default_locale), rules, parse_mail, compose_mail,
                           {f"imap:{m.name}": m.queue for m in s.imap_mailboxes if m.queue}, clock=clock,
                           parse_sms=parse_sms)


def delivery_policy(s: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(retry_base_seconds=s.send_retry_base_seconds, retry_max_seconds=s.send_retry_max_seconds,
                          claim_lease_seconds=s.send_claim_lease_seconds,
                          queue_lifetime_seconds=s.send_queue_lifetime_hours * 3600,
                          instance_stale_seconds=s.instance_stale_seconds)


def envelope_sender(s: Settings, signer: MessageIdSigner) -> Callable[[ClaimedMail], str]:
    """The VERP sender bounces+<id>-<signature>@<support domain>, or the row's own sender without VERP."""
    if not s.verp:
        return lambda mail: mail.mail_from
    local, domain = s.bounce_local_part.lower(), s.bounce_address.rsplit("@", 1)[1]
    return lambda mail: signer.bounce_address(mail.id, local, domain)


def make_dispatcher(engine: Engine, transport: Transport, s: Settings, signer: MessageIdSigner | None = None,
                    clock: Clock = utcnow, batch: int = 50, instance_id: int | None = None,
                    metrics: Metrics | None = None, more_transports: Sequence[Transport] = ()) -> Dispatcher:
    """`instance_id`: the registered instance (app/instance_heartbeat.py) the claims are made for,
    so they are taken over soon after it dies; without one, claims are plain leases."""
    # the service passes the pipeline's signer, so the secret is read once
    signer = signer or MessageIdSigner(s.signing_secret(), s.message_id_domain)
    policy = delivery_policy(s)
    # A refusal at RCPT is recorded like a permanent DSN, in the transaction that fails the row.
    on_refused = partial(record_relay_refusals, block_days=s.hard_bounce_block_days)
    return Dispatcher(OutboxRows(engine, policy, instance_id, on_refused), transport, policy,
                      envelope_sender(s, signer), clock, batch, metrics, more_transports)


def make_sms_dispatcher(engine: Engine, s: Settings, renderer: Renderer | None = None,
                        provider: SmsProvider | None = None, clock: Clock = utcnow, batch: int = 50,
                        instance_id: int | None = None) -> SmsDispatcher:
    """The SMS dispatcher with the configured provider; the email-to-SMS provider gets a relay
    connection of its own (the mail dispatcher's runs in another thread)."""
    if provider is None:
        provider = make_provider(s, make_relay_transport(s) if s.sms_provider == "email" else None)
    if provider is None:
        raise ValueError("HELPDESK_SMS_PROVIDER is none: there is no SMS dispatcher to make")
    policy = delivery_policy(s)
    renderer = renderer or Renderer(s.templates_dir, s.default_locale)
    summary = SummaryText(renderer if SUMMARY_KIND in renderer.kinds() else None, s.support_name, s.support_address)
    outbox = SmsOutboxRows(engine, policy, s.sms_rate_limit_per_hour, s.message_id_domain, instance_id)
    return SmsDispatcher(outbox, provider, policy, summary, clock, batch)


def make_relay_transport(s: Settings) -> Transport:
    """The relay (or the .eml folder) with the EHLO name and idle time from the settings."""
    return make_transport(s.relay_host_port, s.outbox_dir, ehlo_name=s.ehlo_name, idle_seconds=s.relay_idle_seconds)


def make_writer(engine: Engine, s: Settings, on_commit: Callable[[], None] | None = None) -> InboundWriter:
    committer = HeldSqliteCommitter if is_sqlite(engine) else RawMessageCommitter
    return InboundWriter(committer(engine, s.db_busy_timeout_ms), s.intake_batch, on_commit)


def make_readers(engine: Engine, s: Settings, on_stored: Callable[[], None]) -> list[MailboxReader]:
    progress = ImapProgress(engine, s.db_busy_timeout_ms)
    return [MailboxReader(m, progress, on_stored) for m in s.imap_mailboxes]
