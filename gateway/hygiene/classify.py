"""Classify a message before deciding on it: is it automatic mail that must not be answered?

RFC 3834 section 2: never auto-reply to automatic mail, list mail, or the null sender; the
reason is kept so `tickets show` can explain why no acknowledgement went out.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.gateway.ground.message import InboundMail

_BULK_PRECEDENCE = {"bulk", "junk", "list"}
_MAIL_SYSTEM_LOCALPARTS = {"mailer-daemon", "postmaster"}
_DAEMON_LOCALPARTS = _MAIL_SYSTEM_LOCALPARTS | {"noreply", "no-reply"}


def from_mail_system(mail: InboundMail) -> bool:
    """Null envelope sender or MAILER-DAEMON/postmaster: where delivery reports come from."""
    return mail.envelope_from == "" or mail.sender.split("@")[0] in _MAIL_SYSTEM_LOCALPARTS


@dataclass(frozen=True)
class Classification:
    is_automatic: bool
    no_reply_reason: str | None  # why no automatic reply may be sent, or None


def _automatic_reason(mail: InboundMail, own_addresses: frozenset[str], loop_token: str,
                      bounce_local: str) -> str | None:
    h = mail.headers
    if bounce_local and any(r.lower().startswith(bounce_local + "+") or r.lower().startswith(bounce_local + "@")
                            for r in mail.envelope_to):
        return "sent to our bounce address (only delivery reports belong there)"
    auto_submitted = h.get("auto-submitted", "no").split(";")[0].strip().lower()
    if auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    if h.get("precedence", "").strip().lower() in _BULK_PRECEDENCE:
        return f"Precedence: {h['precedence'].strip().lower()}"
    for header in ("x-autoreply", "x-autorespond", "list-id", "list-unsubscribe"):
        if header in h:
            return f"{header} header present"
    if h.get("x-auto-response-suppress", "").strip().lower() in {"all", "autoreply"}:
        return "X-Auto-Response-Suppress"
    if loop_token.lower() in h.get("x-loop", "").lower():
        return "X-Loop: our own mail came back"
    if mail.channel == "email" and mail.envelope_from == "":
        return "null envelope sender"
    if mail.sender.split("@")[0] in _DAEMON_LOCALPARTS:
        return f"sender {mail.sender} is a mail system address"
    if mail.sender in own_addresses:
        return "sent from the gateway's own address"
    return None


def classify(mail: InboundMail, own_addresses: frozenset[str], loop_token: str,
             bounce_local: str = "") -> Classification:
    """`bounce_local` is the local part of the VERP bounce address (bounces+<id>-<sig>@...)."""
    reason = _automatic_reason(mail, own_addresses, loop_token, bounce_local.lower())
    return Classification(is_automatic=reason is not None, no_reply_reason=reason)
