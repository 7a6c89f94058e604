"""The ports: small Protocols through which one layer uses another without importing it.

The composition root (app/) passes the implementations in: store/ implements the storage
ports, outbound/ the renderer and composer, inbound/ the parser.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from helpdesk.gateway.ground.message import InboundMail, RawInbound
from helpdesk.gateway.ground.outgoing import (
    ClaimedMail,
    ComposedMail,
    OutboundIntent,
    RenderedMail,
    SendResult,
)


class RawMessageStore(Protocol):
    """Commits raw messages before they are acknowledged (store/inbound_messages.py)."""

    def commit(self, items: list[RawInbound]) -> list[int]: ...

    def close(self) -> None: ...  # at shutdown, after the last commit


class MailboxProgressStore(Protocol):
    """An IMAP mailbox's lease and progress, stored with the messages it read (store/imap_state.py)."""

    def acquire_lease(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool: ...
    def release_lease(self, name: str, holder: str) -> None: ...
    def progress(self, name: str) -> tuple[int | None, int]: ...
    def start_uidvalidity(self, name: str, holder: str, uidvalidity: int) -> None: ...
    def store_batch(self, name: str, holder: str, uidvalidity: int,
                    items: list[tuple[int, RawInbound]]) -> None: ...
    def pending_from(self, source: str) -> int: ...


class OutboxQueue(Protocol):
    """Due outbox rows leased to a dispatcher, and what the relay answered (store/outbox.py)."""

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[ClaimedMail]: ...
    def record(self, results: list[SendResult], unsent: list[int], now: datetime) -> None: ...


class MailParser(Protocol):
    """Turns stored bytes into the message the pipeline decides on (inbound/parse.py)."""

    def __call__(self, raw: bytes, inbound_id: int, envelope_from: str | None, envelope_to: tuple[str, ...],
                 source: str = "", **limits: int) -> InboundMail: ...


class MailRenderer(Protocol):
    """Renders a kind of mail in a locale from the templates (outbound/render.py)."""

    def render(self, kind: str, locale: str | None, context: dict) -> RenderedMail: ...


class MailComposer(Protocol):
    """Builds the RFC 5322 bytes of an intent (outbound/compose.py)."""

    def __call__(self, intent: OutboundIntent, rendered: RenderedMail, *, tag: str, support_name: str,
                 support_address: str, message_id: str, now: datetime, reply_to: str | None = None,
                 rcpt_to: tuple[str, ...] | None = None) -> ComposedMail: ...


class ClockKeeper(Protocol):
    """Keeps a ticket's SLA columns true on every change (gateway/sla/keeper.py): returns the
    columns to write with the change, in the same UPDATE."""

    def initial(self, priority: str, profile_name: str | None) -> dict: ...
    def changed(self, conn, number: int, values: dict, *, first_response: bool = False,
                profile_name: str | None = None) -> dict: ...
