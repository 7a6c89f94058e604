"""The alert of a new ticket that the routing rules raised above standard (`alert: important|urgent`).

Its people are those who hear of the new ticket anyway (their notification is the alert's mail)
and the guarantor of the client's contract; urgent adds an SMS to each. A standard new ticket
raises no alert row: the ticket itself is the record, and the mail path stays as cheap as it was.
"""

from __future__ import annotations

from sqlmodel import Session

from helpdesk.gateway.alerts.audience import circle
from helpdesk.gateway.alerts.fanout import AlertNotice, raise_alert
from helpdesk.gateway.ground.outcome import Outcome
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.gateway.staff_mailbox.staff_notify import recipients
from helpdesk.store import workflow as q
from helpdesk.store.object_links import ticket_object


def alert_new_ticket(session: Session, ctx: PipelineContext, outcome: Outcome, level: str, rule: str,
                     queued_rows: list, about_object: bool, machine: bool) -> str | None:
    """The rule's alert for a new ticket, at least urgent when it is about a critical object (it
    must run 24/7); what was raised, for the processing log, or None. `about_object`: the message
    named an object (only then is the ticket's object looked up); `machine`: a monitoring report."""
    link = ticket_object(session.connection(), outcome.ticket_number) if about_object and outcome.ticket_number \
        else None
    why = ""
    if link is not None and link.critical:
        level, why = "urgent", f"; the ticket is about the critical object {link.identifier} (at least urgent)"
    initiator = "internal-client" if machine else "external-client"
    alert_id = raise_new_ticket_alert(session, ctx, outcome, level, rule, queued_rows, initiator, why)
    about = f" (object {link.identifier}{', critical' if link.critical else ''})" if link else ""
    return f"{level} alert {alert_id} raised{about}" if alert_id else None


def raise_new_ticket_alert(session: Session, ctx: PipelineContext, outcome: Outcome, level: str, rule: str,
                           queued_rows: list, initiator: str = "external-client", why: str = "") -> int | None:
    """`initiator`: internal-client for a client's monitoring system's report (gateway/alerts/levels.py)."""
    if level == "standard" or not outcome.ticket_number:
        return None
    conn = session.connection()
    state = q.ticket_state(conn, outcome.ticket_number)
    people = recipients(conn, state) + circle(conn, ("guarantor",), state, ctx.clock().date(), fallback=False)
    notified = {address: row_id for kind, address, row_id in queued_rows if kind == "staff_new"}
    text = f"raised by the routing rule {rule}{why}"
    context = {"event": "alert", "targets": [], "subject": state.subject, "queue": state.queue,
               "priority": state.priority, "assignee_name": "", "requester_name": outcome.requester.display_name,
               "requester_email": outcome.requester.email, "due": "", "overdue": "", "used": "", "target": "",
               "share": 0, "level": 0, "alert_text": text}
    return raise_alert(session, ctx, AlertNotice("ticket-alert", level, initiator, state,
                                                 f"new {level} ticket {state.number}: {state.subject}", text,
                                                 context=context), people, already_mailed=notified)
