"""The mail an invoice causes, queued in the outbox in the caller's transaction: the EDIFACT
interchange to the client's EDI inbox, the approval request to each fin-admin (Reply-To their own
signed invoice address), and the notice of a rejection to the provider's admins.

None of these belongs to a ticket: the rows have no ticket, and their Message-IDs are not ticket
ids, so a reply threads by its signed reply address only (gateway/billing/approval_mail.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import Session

from helpdesk.gateway.accounts.salutation import salutation
from helpdesk.gateway.billing.document import InvoiceDocument
from helpdesk.gateway.billing.invoice_reply_address import invoice_replies
from helpdesk.gateway.ground.message import ParsedAttachment
from helpdesk.gateway.ground.outgoing import OutboundIntent
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store.outbox import enqueue
from helpdesk.store.workflow import Person

EDI_TYPE = "application/EDIFACT"  # RFC 1767


def _summary(doc: InvoiceDocument, contract_number: str) -> dict:
    def money(amount) -> str:
        return f"{amount} {doc.currency}"

    return {"tag": f"[{doc.number}]", "number": doc.number, "subject": f"{doc_period(doc)}, {contract_number}",
            "period": doc_period(doc), "organization": doc.buyer.name, "total": money(doc.invoice_total),
            "due_date": doc.due_date.isoformat(),
            "lines": [{"description": line.description, "amount": money(line.net_amount)} for line in doc.lines]
            + [{"description": f"VAT {tax.vat_rate}% ({tax.tax_category})", "amount": money(tax.tax_amount)}
               for tax in doc.taxes]}


def doc_period(doc: InvoiceDocument) -> str:
    return f"{doc.period_start.isoformat()} – {doc.period_end.isoformat()}"


def _queue(session: Session, ctx: PipelineContext, kind: str, to: tuple[str, str], locale: str | None,
           context: dict, now: datetime, reply_to: str | None = None,
           attachments: tuple[ParsedAttachment, ...] = ()) -> int:
    s = ctx.settings
    intent = OutboundIntent(kind, 0, to[0], to[1], locale, None, context=context, attachments=attachments,
                            auto_submitted="auto-generated")
    rendered = ctx.renderer.render(kind, locale, {**context, "support_name": s.support_name,
                                                  "support_address": s.support_address})
    message_id = f"inv.{secrets.token_hex(8)}@{s.message_id_domain}"
    composed = ctx.compose(intent, rendered, tag=context["tag"], support_name=s.support_name,
                           support_address=s.support_address, message_id=message_id, now=now,
                           reply_to=reply_to, rcpt_to=(to[0],))
    return enqueue(session, composed, kind, None)


def queue_invoice_mail(session: Session, ctx: PipelineContext, doc: InvoiceDocument, interchange: bytes,
                       edi_address: str, locale: str | None, now: datetime) -> int:
    """The interchange as `<number>.edi` to the client's EDI inbox, with a short summary; the outbox id."""
    context = {**_summary(doc, doc.contract_number), "requester_name": "", "requester_gender": "",
               "requester_vocative": ""}
    attachment = ParsedAttachment(f"{doc.number}.edi", EDI_TYPE, interchange)
    return _queue(session, ctx, "invoice_mail", (edi_address, doc.buyer.name), locale, context, now,
                  attachments=(attachment,))


def queue_approval_requests(session: Session, ctx: PipelineContext, doc: InvoiceDocument, people: list[Person],
                            generations: dict[int, int], locale: str | None, now: datetime,
                            errors: tuple[str, ...] = ()) -> int:
    """One request per person, each with the reply address signed for them; `errors` say why their
    last answer was not carried out (the request is repeated so they can answer again)."""
    replies = invoice_replies(ctx.settings, lambda: ctx.clock().date())
    summary = _summary(doc, doc.contract_number)
    for person in people:
        context = {**summary, "requester_name": person.name, **salutation(person.name), "errors": list(errors)}
        reply_to = replies.address_for(person.user_id, generations[person.user_id], doc.number)
        _queue(session, ctx, "invoice_approval", (person.email, person.name), person.locale or locale, context,
               now, reply_to=reply_to)
    return len(people)


def queue_rejection_notices(session: Session, ctx: PipelineContext, doc: InvoiceDocument, admins: list[Person],
                            rejected_by: str, reason: str, now: datetime) -> int:
    summary = _summary(doc, doc.contract_number)
    for admin in admins:
        context = {**summary, "actor_name": rejected_by, "text": reason}
        _queue(session, ctx, "invoice_rejected", (admin.email, admin.name), admin.locale, context, now)
    return len(admins)
