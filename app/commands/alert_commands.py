"""`helpdesk alerts`: alerts of every level, who was told by which channel, and acknowledging them;
announcing planned work on a client's object to its people."""

from __future__ import annotations

from collections import Counter

import typer
from sqlalchemy import select
from sqlmodel import Session

from helpdesk.app.commands import list_paging as paging
from helpdesk.app.commands.console import ID, fail, print_json, print_table, session_scope, settings
from helpdesk.app.commands.object_common import ORG, resolve_object
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.directory import find_user
from helpdesk.gateway.accounts.names import check_line, check_text, column_length
from helpdesk.gateway.alerts.audience import object_audience
from helpdesk.gateway.alerts.fanout import AlertNotice, object_alert_context, raise_alert
from helpdesk.gateway.alerts.levels import INITIATORS, LEVELS
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store.account_tables import User, UserEmail
from helpdesk.store.alert_listing import AlertFilter, alert_detail, alert_page
from helpdesk.store.alert_tables import Alert
from helpdesk.store.alerts import acknowledge, deliveries
from helpdesk.store.objects import record_event
from helpdesk.store.tickets import TicketStore

app = typer.Typer(help="Alerts (standard, important, urgent): list, show, acknowledge.", no_args_is_help=True)
# The channels that can fail first; "web" is only stored, so it is merely counted.
CHANNEL_ORDER = ("email", "sms", "web")
SENT = "sent"
# Delivery states from done to given up, so a summary reads from the good news to the bad.
STATUS_ORDER = ("sent", "sending", "queued", "bounced", "failed", "not sent")
COLUMNS = ["id", "created_at", "level", "initiator", "kind", "ticket", "subject", "acknowledged", "deliveries"]


def delivery_counts(sent: list[dict]) -> dict[str, dict[str, int]]:
    """channel -> delivery status -> how many recipients ("sent", "queued", "failed", "not sent", "stored")."""
    counts: dict[str, Counter] = {}
    for d in sent:
        counts.setdefault(d["channel"], Counter())[d["delivery"]] += 1
    return {channel: dict(counts[channel]) for channel in sorted(counts, key=_channel_rank)}


def _channel_rank(channel: str) -> int:
    return CHANNEL_ORDER.index(channel) if channel in CHANNEL_ORDER else len(CHANNEL_ORDER)


def _status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def delivery_summary(counts: dict[str, dict[str, int]]) -> str:
    """'email 2/2 sent, sms 1 queued, web 3': per channel how many were delivered and what the rest wait on."""
    parts = []
    for channel, by_status in counts.items():
        total = sum(by_status.values())
        if channel == "web":
            parts.append(f"web {total}")
            continue
        words = [f"{by_status[SENT]}/{total} sent"] if SENT in by_status else []
        words += [f"{by_status[status]} {status}" for status in sorted(by_status, key=_status_rank) if status != SENT]
        parts.append(f"{channel} {' and '.join(words)}")
    return ", ".join(parts)


def _acknowledged_cell(row: dict) -> str:
    """In the table, only whether and by whom: the time is in `show` and in the JSON."""
    if row["acknowledged_at"] is None:
        return "no"
    return f"by {row['acknowledged_by']}" if row["acknowledged_by"] else "yes"


@app.command("list")
def list_cmd(level: str = typer.Option(None, "--level", metavar="LEVEL", help=f"Only {', '.join(LEVELS)}."),
             initiator: str = typer.Option(None, "--initiator", metavar="INITIATOR",
                                           help=f"Only alerts started by {', '.join(INITIATORS)}."),
             kind: str = typer.Option(None, "--kind", metavar="KIND", help="Only this kind (sla-breach, ...)."),
             ticket: int = typer.Option(None, "--ticket", metavar="NUMBER", help="Only alerts of this ticket.",
                                        **ID),
             about: str = typer.Option(None, "--object", metavar="OBJECT", help="Only alerts about this object."),
             org: str = ORG,
             unacknowledged: bool = typer.Option(False, "--unacknowledged", help="Only alerts nobody acknowledged."),
             since: str = paging.SINCE, until: str = paging.UNTIL, limit: str = paging.LIMIT,
             offset: str = paging.OFFSET, as_json: bool = typer.Option(False, "--json")) -> None:
    """Alerts, newest first, a page at a time, with how each was delivered (stderr says when there are more)."""
    page, window = paging.read_page(limit, offset), paging.read_window(since, until)
    level, initiator = paging.one_of(level, "--level", LEVELS), paging.one_of(initiator, "--initiator", INITIATORS)
    with session_scope(read_only=True) as session:
        object_id = resolve_object(session, about, org).id if about is not None else None
        wanted = AlertFilter(level, initiator, kind, ticket, object_id=object_id, since=window.since,
                             until=window.until, unacknowledged=unacknowledged)
        conn = session.connection()
        rows, total = alert_page(conn, wanted, page.limit, page.offset)
        sent = deliveries(conn, [row["id"] for row in rows])
    for row in rows:
        row["delivery_counts"] = delivery_counts(sent.get(row["id"], []))
        row["deliveries"] = delivery_summary(row["delivery_counts"])
    if as_json:
        print_json(rows)
    else:
        print_table([{**row, "acknowledged": _acknowledged_cell(row)} for row in rows], COLUMNS, "Alerts")
    paging.tell_if_cut(page, len(rows), total, "alerts")


def _print_detail(a: dict) -> None:
    typer.echo(f"Alert {a['id']}: {a['subject']}")
    typer.echo(f"  {a['level']}, kind {a['kind']}, started by {a['initiator']}: "
               f"{INITIATORS.get(a['initiator'], 'an initiator this version does not know')}")
    ticket = f"ticket {a['ticket']} ({a['ticket_subject']})" if a["ticket"] is not None else "no ticket"
    ticket += f", object {a['object']}" if a.get("object") is not None else ""
    escalation = f", escalation level {a['escalation_level']}" if a["escalation_level"] is not None else ""
    typer.echo(f"  {ticket}{escalation}; created {a['created_at']}")
    by = f" by {a['acknowledged_by']}" if a["acknowledged_by"] else ""
    typer.echo(f"  acknowledged: {a['acknowledged_at'] + by if a['acknowledged_at'] else 'no'}")
    if a["text"]:
        typer.echo(f"\n{a['text']}\n")
    rows = [{**d, "who": f"{d['name']} <{d['address']}>" if d["name"] and d["address"] else d["name"] or d["address"]}
            for d in a["deliveries"]]
    print_table(rows, ["who", "channel", "outbox_id", "delivery", "detail"], f"Deliveries of alert {a['id']}")


@app.command("show")
def show(alert_id: int = typer.Argument(..., metavar="ID", **ID),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One alert: every field, and each recipient with the channel, outbox row and delivery status."""
    with session_scope(read_only=True) as session:
        detail = alert_detail(session.connection(), alert_id)
    if detail is None:
        fail(f"no alert {alert_id}")
    print_json(detail) if as_json else _print_detail(detail)


def _who(session: Session, user: User) -> str:
    """The acknowledger as the ticket's events name people: by address (a user may have none)."""
    address = session.execute(select(UserEmail.address).where(UserEmail.user_id == user.id)
                              .order_by(UserEmail.is_primary.desc(), UserEmail.address).limit(1)).scalar()
    return address or user.display_name or f"user {user.id}"


@app.command("ack")
def ack(alert_id: int = typer.Argument(..., metavar="ID", **ID),
        by: str = typer.Option(None, "--by", metavar="ADDRESS", help="Who acknowledges it (an address or user id).")
        ) -> None:
    """Acknowledge an alert: its ticket's escalation stops repeating (as `#ack` by mail does)."""
    with session_scope() as session:
        try:
            user = find_user(session, by) if by is not None else None
        except UserError as exc:
            fail(f"--by: {exc}")
        now = utcnow()
        try:
            number = acknowledge(session.connection(), alert_id, user.id if user else None, now)
        except LookupError as exc:
            fail(str(exc))
        if number is not None:
            who = f" by {_who(session, user)}" if user else ""
            TicketStore(session).record_event(
                number, "acknowledged", f"alert {alert_id} acknowledged from the CLI{who}; escalation stops repeating",
                at=now)
    typer.echo(f"alert {alert_id} acknowledged" + (f"; ticket {number} stops escalating" if number is not None else ""))


@app.command("announce")
def announce(ref: str = typer.Option(..., "--object", metavar="OBJECT", help="The object's identifier or id."),
             org: str = ORG,
             level: str = typer.Option("important", "--level", metavar="LEVEL",
                                       help=f"{', '.join(LEVELS)}: important mails, urgent also texts."),
             subject: str = typer.Option(..., "--subject", metavar="TEXT", help="One line: what is planned."),
             text: str = typer.Option("", "--text", metavar="TEXT", help="The details (when, how long, what stops)."),
             by: str = typer.Option(None, "--by", metavar="ADDRESS", help="The technician announcing it.")) -> None:
    """Announce planned work on an object to its responsible users and technicians (an external-service
    alert, recorded in the object's history)."""
    paging.one_of(level, "--level", LEVELS)
    subject = check_line(subject, "--subject", column_length(Alert, "subject"), missing="--subject is empty")
    text = check_text(text, "--text", 20000)
    s = settings()
    ctx = make_pipeline_context(s, lambda: load_rules(s.rules))
    with session_scope(s) as session:
        obj = resolve_object(session, ref, org)
        user = find_user(session, by) if by else None
        people = object_audience(session.connection(), obj.id)
        if not people:
            fail(f"{obj.identifier} has no responsible users or technicians to tell; add them with objects edit")
        notice = AlertNotice("announcement", level, "external-service", None, subject, text,
                             context=object_alert_context(obj, "announcement", subject, text),
                             object_id=obj.id)
        alert_id = raise_alert(session, ctx, notice, people)
        record_event(session, obj.id, "announcement", subject, alert_id=alert_id,
                     user_id=user.id if user else None, now=ctx.clock())
    typer.echo(f"alert {alert_id} announced to {len(people)} people of {obj.identifier}")
