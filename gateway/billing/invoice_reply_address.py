"""Signed reply addresses for invoice mail: only the fin-admin a request went to can answer it.

    <support local>+<prefix>inv-<invoice number>-<token>@<support domain>
        e.g. support+r-inv-2026-000123-k7q2m4x9p3a5b6c7@help.example

    token = base32(HMAC-SHA256(key, "invoice", user id, reply generation, invoice number))[:16]

The same key and reply generation as the tickets' reply addresses (gateway/conversation/
reply_address.py), with "invoice" in the signed text so a ticket's token never passes for an
invoice's. Raising the user's reply generation revokes these too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.gateway.conversation.reply_address import SignedAddresses


@dataclass(frozen=True)
class InvoiceToken:
    number: str
    signature: str
    address: str


class InvoiceReplyAddresses(SignedAddresses):
    purpose = "invoice"
    subject_pattern = r"\d{4}-\d{6,9}"

    def __init__(self, secret: bytes, support_address: str, prefix: str,
                 previous: Callable[[], tuple[bytes, ...]] = tuple):
        super().__init__(secret, support_address, f"{prefix}inv-", previous)

    def address_for(self, user_id: int, generation: int, number: str) -> str:
        return self._address(user_id, generation, number)

    def find(self, addresses) -> InvoiceToken | None:
        """The first invoice reply address among `addresses`, not yet verified."""
        match = self._match(addresses)
        return InvoiceToken(match[1], match[2], match[0]) if match else None

    def verify(self, token: InvoiceToken, user_id: int, generation: int) -> bool:
        return self._verify(token.signature, user_id, generation, token.number)


def invoice_replies(settings, today) -> InvoiceReplyAddresses:
    """Built from the settings as the pipeline context builds the tickets' ReplyAddresses."""
    return InvoiceReplyAddresses(settings.signing_secret(), settings.support_address, settings.reply_address_prefix,
                                 lambda: settings.previous_secrets(today()))
