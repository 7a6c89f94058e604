"""Message-IDs the gateway signs, so a reply's In-Reply-To/References prove it answers a real mail of ours.

    hd<ticket>.<random>.<signature>@<domain>     signature = HMAC-SHA256(secret, "<ticket>.<random>")

A reference in our format with a wrong signature is ignored, however plausible its number.
Signatures made with a key from before a rotation still verify while `previous()` returns it.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from collections.abc import Callable

from helpdesk.gateway.conversation.keyed_mac import shared_mac


class MessageIdSigner:
    def __init__(self, secret: bytes, domain: str, previous: Callable[[], tuple[bytes, ...]] = tuple):
        self.secret, self.domain, self.previous = secret, domain.lower(), previous
        self._ours = re.compile(rf"^hd(\d{{1,18}})\.([0-9a-f]{{12}})\.([a-z2-7]{{16}})@{re.escape(self.domain)}$")

    def _signature(self, number: int, nonce: str, key: bytes | None = None) -> str:
        # The first 10 bytes are the 16 base32 characters kept (5 bytes make 8).
        digest = shared_mac.digest(key or self.secret, f"{number}.{nonce}".encode())
        return base64.b32encode(digest[:10]).decode().lower()

    def _matches(self, signature: str, number: int, nonce: str, length: int = 16) -> bool:
        """Against the current key and every previous one still valid, each compared in constant time."""
        keys = (self.secret, *self.previous())
        return any([hmac.compare_digest(signature, self._signature(number, nonce, key)[:length]) for key in keys])

    def new(self, ticket_number: int) -> str:
        nonce = secrets.token_hex(6)
        return f"hd{ticket_number}.{nonce}.{self._signature(ticket_number, nonce)}@{self.domain}"

    def is_ours(self, message_id: str) -> bool:
        return message_id.lower().endswith("@" + self.domain) and message_id.lower().startswith("hd")

    def bounce_address(self, outbox_id: int, local: str, domain: str) -> str:
        """VERP envelope sender `bounces+<outbox id>-<signature>@domain`: a delivery report sent
        there names the mail it is about, and a forged one (which could block a good address)
        fails the signature."""
        return f"{local}+{outbox_id}-{self._signature(outbox_id, 'verp')[:10]}@{domain}"

    def outbox_id(self, address: str, local: str) -> int | None:
        """The outbox id a genuine bounce address of ours names, else None."""
        match = re.fullmatch(rf"{re.escape(local)}\+(\d{{1,18}})-([a-z2-7]{{10}})@[^@\s]+", address.lower())
        if not match:
            return None
        number = int(match[1])
        return number if self._matches(match[2], number, "verp", 10) else None

    def verified_ticket(self, message_id: str) -> int | None:
        """The ticket a genuine Message-ID of ours names; None when it is not ours or forged."""
        match = self._ours.match(message_id.lower())
        if not match:
            return None
        number, nonce, signature = int(match[1]), match[2], match[3]
        return number if self._matches(signature, number, nonce) else None
