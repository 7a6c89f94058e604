"""Signed reply addresses: the Reply-To only one recipient of one ticket's mail can know.

    <support local>+<prefix><ticket>-<token>@<support domain>     e.g. support+r-42-k7q2m4x9p3a5b6c7@help.example

    token = base32(HMAC-SHA256(key, "reply", user id, reply generation, ticket))[:16]   (80 bits)

Mail that arrives at such an address from an address of the user it was issued to is verified
by the token, the way GitHub's and Discourse's reply-by-mail work. The ticket number is in the
clear (it is in every subject anyway); the token binds it to the user, so a token for one ticket
cannot act on another, and without the key nobody can make one. Raising the user's reply
generation revokes every token issued to them; keys from before a rotation keep verifying for a
transition period (Settings.verifying_secrets).
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.gateway.conversation.keyed_mac import shared_mac

TOKEN_LENGTH = 16
_TOKEN_BYTES = -(-TOKEN_LENGTH * 5 // 8)  # the digest bytes the token's base32 characters encode


@dataclass(frozen=True)
class ReplyToken:
    """What a reply address of ours says: the ticket, and the signature to check against a user."""

    ticket: int
    signature: str
    address: str


class SignedAddresses:
    """support+<prefix><subject>-<token>@domain, signed for one user: the ticket addresses below
    and the invoice ones (gateway/billing/invoice_reply_address.py). `purpose` is part of the
    signed text, so a token made for one use never passes for another."""

    purpose = "reply"
    subject_pattern = r"\d{1,18}"

    def __init__(self, secret: bytes, support_address: str, prefix: str,
                 previous: Callable[[], tuple[bytes, ...]] = tuple):
        self.secret, self.previous = secret, previous
        self.local, _, self.domain = support_address.lower().partition("@")
        self.prefix = prefix
        self._ours = re.compile(rf"{re.escape(self.local)}\+{re.escape(prefix)}({self.subject_pattern})"
                                rf"-([a-z2-7]{{{TOKEN_LENGTH}}})@{re.escape(self.domain)}")

    def _sign(self, key: bytes, user_id: int, generation: int, subject) -> str:
        # Only the bytes behind the characters kept are base32-encoded (5 make 8).
        digest = shared_mac.digest(key, f"{self.purpose}\0{user_id}\0{generation}\0{subject}".encode())
        return base64.b32encode(digest[:_TOKEN_BYTES]).decode().lower()[:TOKEN_LENGTH]

    def _address(self, user_id: int, generation: int, subject) -> str:
        """Always signed with the current key."""
        return f"{self.local}+{self.prefix}{subject}-{self._sign(self.secret, user_id, generation, subject)}" \
               f"@{self.domain}"

    def _match(self, addresses) -> re.Match | None:
        """The first address of ours among `addresses` (envelope recipients, To, Cc), unverified."""
        for address in addresses:
            if match := self._ours.fullmatch(address.strip().lower()):
                return match
        return None

    def _verify(self, signature: str, user_id: int, generation: int, subject) -> bool:
        """True when the token was issued to this user (with any key still valid), in constant time."""
        results = [hmac.compare_digest(signature, self._sign(key, user_id, generation, subject))
                   for key in (self.secret, *self.previous())]
        return any(results)


class ReplyAddresses(SignedAddresses):
    def address_for(self, user_id: int, generation: int, ticket: int) -> str:
        """The Reply-To for mail about `ticket` to this user."""
        return self._address(user_id, generation, ticket)

    def find(self, addresses) -> ReplyToken | None:
        match = self._match(addresses)
        return ReplyToken(int(match[1]), match[2], match[0]) if match else None

    def verify(self, token: ReplyToken, user_id: int, generation: int) -> bool:
        return self._verify(token.signature, user_id, generation, token.ticket)
