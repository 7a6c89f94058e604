"""Is the sender proven to be who the From line says? A From header alone proves nothing.

Proof is either a signed reply address issued to the sender (gateway/conversation/reply_address.py)
or a DMARC/DKIM/SPF pass for the From domain from a host whose Authentication-Results we trust
(gateway/hygiene/auth_results.py). A failure seen by a trusted host outweighs a reply address:
whoever forged the From may have seen the address in a forwarded or replied-to mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from helpdesk.gateway.conversation.reply_address import ReplyAddresses
from helpdesk.gateway.ground.message import InboundMail
from helpdesk.gateway.hygiene.auth_results import Verification

# address -> (user id, reply generation) of the user who has it, or None
IdentityLookup = Callable[[str], "tuple[int, int] | None"]


@dataclass(frozen=True)
class SenderProof:
    proven: bool
    how: str                    # why, for the processing log, the ticket and staff notifications
    ticket: int | None = None   # the ticket a verified reply address was issued for
    by_reply_address: bool = False


def prove_sender(mail: InboundMail, verification: Verification, replies: ReplyAddresses,
                 identity: IdentityLookup) -> SenderProof:
    if verification.verified is False:
        return SenderProof(False, f"failed at a trusted host: {verification.reason}")
    token = replies.find(mail.envelope_to + mail.recipients)
    note = ""
    if token is not None:
        known = identity(mail.sender)
        if known is not None and replies.verify(token, *known):
            return SenderProof(True, f"signed reply address of ticket {token.ticket}", token.ticket, True)
        note = (f"reply address {token.address} was not issued to {mail.sender} (forged, revoked or "
                "signed with a retired key); ")
    if verification.verified is True:
        return SenderProof(True, note + verification.reason)
    return SenderProof(False, note + "no signed reply address and no DMARC/DKIM/SPF pass from a trusted host")
