"""A financial administrator's answer to an invoice mail: `#approve` or `#reject <reason>`.

Recognised by the signed invoice reply address it was sent to (gateway/billing/invoice_reply_address.py).
It acts only when the sender is proven -- the address was signed for the sender's own user, or a
trusted host saw a DMARC/DKIM/SPF pass for the From domain, and no trusted host saw a failure --
and is a fin-admin of the invoice's organization or a provider admin. Anything else changes
nothing: the processing log says why, and only a proven sender gets an answer (the request again,
with the reason), so a forged From never makes us mail the real owner of the address.
No ticket is made of such a mail; its raw copy is kept in inbound_message as for every mail.
"""

from __future__ import annotations

from helpdesk.gateway.billing.approval import approve_invoice, reject_invoice
from helpdesk.gateway.billing.invoice_json import document_from_json
from helpdesk.gateway.billing.invoice_mail import queue_approval_requests
from helpdesk.gateway.billing.invoice_reply_address import InvoiceReplyAddresses, InvoiceToken, invoice_replies
from helpdesk.gateway.billing.invoice_status import InvoiceStatus
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.ground.statuses import Disposition
from helpdesk.gateway.pipeline.context import MessageInProcess
from helpdesk.store import invoices as q
from helpdesk.store.account_tables import Organization
from helpdesk.store.invoice_people import user_by_address
from helpdesk.store.workflow import person

INVOICE_REPLY = Disposition.INVOICE_REPLY


def may_decide(known: tuple, organization_id: int) -> bool:
    """A fin-admin of that organization, or one of the provider's admins."""
    _, user_org, _, roles = known
    return ("fin-admin" in roles and user_org == organization_id) or ("admin" in roles and user_org is None)


def read_answer(text: str) -> tuple[str, str] | None:
    """("approve", "") or ("reject", reason) from the mail's first non-empty line; None otherwise."""
    lines = [line.strip() for line in (text or "").splitlines()]
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is None:
        return None
    word, _, rest = lines[first].partition(" ")
    if word.lower() == "#approve":
        return "approve", ""
    if word.lower() == "#reject":
        following = []
        for line in lines[first + 1:]:  # a reason may go on below, up to the first empty line
            if not line:
                break
            following.append(line)
        return "reject", " ".join([rest.strip(), *following]).strip()
    return None


def _proven(m: MessageInProcess, replies: InvoiceReplyAddresses, token: InvoiceToken,
            known: tuple | None) -> str | None:
    """Why the sender is not proven, or None when they are."""
    if m.verified is not None and m.verified.verified is False:
        return f"failed at a trusted host: {m.verified.reason}"
    if known is not None and replies.verify(token, known[0], known[2]):
        return None
    if m.proof is not None and m.proof.proven:
        return None
    return f"reply address of invoice {token.number} was not issued to {m.mail.sender}, and no trusted pass"


def _done(m: MessageInProcess, what: str, no_reply: str | None = None) -> Outcome:
    m.trace.add("invoice", what)
    return Outcome(INVOICE_REPLY, m.mail, no_reply_reason=no_reply)


def _decide(m: MessageInProcess, row, answer: tuple[str, str]) -> str:
    action, reason = answer
    now = m.ctx.clock()
    if action == "approve":
        outbox_id = approve_invoice(m.session, m.ctx, row.number, m.mail.sender, now)
        return f"invoice {row.number} approved by {m.mail.sender}; EDI mail queued as outbox {outbox_id}"
    told = reject_invoice(m.session, m.ctx, row.number, m.mail.sender, reason, now)
    return f"invoice {row.number} rejected by {m.mail.sender} ({reason}); {told} admin(s) told"


def _answer_again(m: MessageInProcess, row, known: tuple, error: str) -> None:
    """Repeat the request to a proven sender, saying why their answer did nothing."""
    if row.status != InvoiceStatus.AWAITING_APPROVAL or m.classification.is_automatic:
        return
    who = person(m.session.connection(), known[0])
    org_locale = m.session.get(Organization, row.organization_id).default_locale
    queue_approval_requests(m.session, m.ctx, document_from_json(row.document), [who], {who.user_id: known[2]},
                            org_locale, m.ctx.clock(), errors=(error,))


def invoice_reply(m: MessageInProcess) -> Outcome | None:
    """The outcome when the mail answers an invoice; None for every other mail."""
    marker = f"+{m.ctx.settings.reply_address_prefix}inv-".lower()
    recipients = m.mail.envelope_to + m.mail.recipients
    if not any(marker in address.lower() for address in recipients):  # the cheap look for every mail
        return None
    replies = invoice_replies(m.ctx.settings, lambda: m.ctx.clock().date())
    token = replies.find(recipients)
    if token is None:
        return None
    conn = m.session.connection()
    row = q.find_invoice(conn, token.number)
    if row is None:
        return _done(m, f"names invoice {token.number}, which does not exist: nothing done", "unknown invoice")
    known = user_by_address(conn, m.mail.sender)
    if (why := _proven(m, replies, token, known)) is not None:
        return _done(m, f"answer to invoice {row.number} not carried out, sender not proven: {why}", why)
    if known is None or not may_decide(known, row.organization_id):
        return _done(m, f"{m.mail.sender} may not decide invoice {row.number}: neither a fin-admin of "
                        f"{row.organization} nor a provider admin", "not allowed")
    if m.classification.is_automatic:
        return _done(m, f"automatic mail about invoice {row.number} ({m.classification.no_reply_reason}): "
                        "nothing done", m.classification.no_reply_reason)
    answer = read_answer(m.mail.new_text or m.mail.text)
    try:
        if answer is None:
            raise UserError("the first line must be #approve, or #reject followed by the reason")
        with m.session.begin_nested():  # a decision that fails halfway leaves nothing behind
            decided = _decide(m, row, answer)
        return _done(m, decided)
    except UserError as exc:
        _answer_again(m, row, known, str(exc))
        return _done(m, f"answer to invoice {row.number} not carried out: {exc}")
