"""Signed reply addresses for invoice mail: only the fin-admin a request went to can answer it.

    <support local>+<prefix>inv-<invoice number>-<token>@<support domain>
        e.g. support+r-inv-2026-000123-k7q2m4x9p3a5b6c7@help.example

    token = base32(HMAC-SHA256(key, "invoice", user id, reply generation, invoice number))[:16]

The same key and reply generation as the tickets' reply addresses (gateway/conversation/
reply_address.py), with "invoice" in the signed text so a ticket's token never passes for an
invoice's. Raising the user's reply generation revokes these too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_LENGTH = 16


@dataclass(frozen=True)
class InvoiceToken:
    number: str
    signature: str
    address: str


class InvoiceReplyAddresses:
    def __init__(self, secret: bytes, support_address: str, prefix: str,
                 previous: Callable[[], tuple[bytes, ...]] = tuple):
        self.secret, self.previous = secret, previous
        self.local, _, self.domain = support_address.lower().partition("@")
        self.prefix = f"{prefix}inv-"
        self._ours = re.compile(rf"{re.escape(self.local)}\+{re.escape(self.prefix)}(\d{{4}}-\d{{6,9}})"
                                rf"-([a-z2-7]{{{TOKEN_LENGTH}}})@{re.escape(self.domain)}")

    @staticmethod
    def _sign(key: bytes, user_id: int, generation: int, number: str) -> str:
        digest = hmac.new(key, f"invoice\0{user_id}\0{generation}\0{number}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest).decode().lower()[:TOKEN_LENGTH]

    def address_for(self, user_id: int, generation: int, number: str) -> str:
        signature = self._sign(self.secret, user_id, generation, number)
        return f"{self.local}+{self.prefix}{number}-{signature}@{self.domain}"

    def find(self, addresses) -> InvoiceToken | None:
        """The first invoice reply address among `addresses`, not yet verified."""
        for address in addresses:
            if match := self._ours.fullmatch(address.strip().lower()):
                return InvoiceToken(match[1], match[2], match[0])
        return None

    def verify(self, token: InvoiceToken, user_id: int, generation: int) -> bool:
        results = [hmac.compare_digest(token.signature, self._sign(key, user_id, generation, token.number))
                   for key in (self.secret, *self.previous())]
        return any(results)


def invoice_replies(settings, today) -> InvoiceReplyAddresses:
    """Built from the settings as the pipeline context builds the tickets' ReplyAddresses."""
    return InvoiceReplyAddresses(settings.signing_secret(), settings.support_address, settings.reply_address_prefix,
                                 lambda: settings.previous_secrets(today()))
