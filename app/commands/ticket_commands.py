"""`helpdesk tickets ...`: list, show, close and resolve tickets; link incidents to a problem."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import typer
from sqlalchemy import select
from sqlmodel import Session

from helpdesk.app.commands import list_paging as paging
from helpdesk.app.commands import participant_commands
from helpdesk.app.commands.console import ID, fail, print_json, print_table, session_scope, settings
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.directory import find_org, find_user
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, TicketStatus
from helpdesk.gateway.objects.problems import link_to_problem, problem_view, resolve_from_cli, why_not_link
from helpdesk.gateway.pipeline.mailer import queue_mail
from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.gateway.sla.calendar import WorkingCalendar
from helpdesk.gateway.sla.clock import NONE, RUNNING, WAITING, Clock
from helpdesk.gateway.sla.durations import say_duration, say_moment
from helpdesk.gateway.sla.keeper import SlaKeeper
from helpdesk.gateway.sla.profiles import PRIORITY_MEANINGS, SlaConfig
from helpdesk.store.account_tables import Queue
from helpdesk.store.faults import faults_of_ticket
from helpdesk.store.models import Ticket
from helpdesk.store.queries import TicketFilter, ticket_detail, ticket_page
from helpdesk.store.tickets import TicketStore

# What each priority means, most urgent first, in the words of the SLA (`helpdesk sla priorities`).
PRIORITY_HELP = ", ".join(f"{p} ({PRIORITY_MEANINGS[p]})" for p in reversed(PRIORITIES))
# The first paragraph stays short: it is the line `helpdesk --help` shows for the group.
app = typer.Typer(help=f"Tickets.\n\nPriorities: {PRIORITY_HELP}.", no_args_is_help=True)
app.add_typer(participant_commands.app, name="cc")
# Due times are moments, so --due-within is wall time and a day is unambiguous (unlike SLA targets).
_WITHIN = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?")
# A waiting clock counts wall time whatever the profile's calendar: what a 24/7 calendar counts.
_WALL_TIME = WorkingCalendar.around_the_clock("wall-time")
LIST_COLUMNS = ["number", "created_at", "status", "priority", "queue", "requester", "assignee", "subject"]


def _found(option: str, find, session: Session, ref: str | None) -> int | None:
    """The id of the user or organization named; an unknown one is an error naming the option."""
    if ref is None:
        return None
    try:
        return find(session, ref).id
    except UserError as exc:
        paging.bad_value(option, str(exc))


def _known_queue(session: Session, name: str | None) -> str | None:
    # A queue dropped from rules.yaml may still be on old tickets: either place makes it known.
    if name is not None and session.get(Queue, name) is None and session.execute(
            select(Ticket.id).where(Ticket.queue == name).limit(1)).first() is None:
        paging.bad_value("--queue", f"unknown queue {name!r}")
    return name


def _due_before(text: str | None, now: datetime) -> datetime | None:
    """--due-within '30m', '2h', '1h30m', '2d' as the moment by which a target falls due."""
    if text is None:
        return None
    found = _WITHIN.fullmatch(text.strip())
    if found is None or not any(found.groups()):
        paging.bad_value("--due-within", f"expected a duration like 30m, 2h, 1h30m or 2d, got {text!r}")
    try:
        days, hours, minutes = (int(g or 0) for g in found.groups())
        return now + timedelta(days=days, hours=hours, minutes=minutes)
    except (OverflowError, ValueError):  # past the year 9999 (ValueError: more digits than int() reads)
        paging.bad_value("--due-within", f"{text!r} is too far ahead")


@app.command("list")
def list_cmd(queue: str = typer.Option(None, "--queue", metavar="QUEUE", help="Only tickets in this queue."),
             assignee: str = typer.Option(None, "--assignee", metavar="ADDRESS", help="Only tickets assigned to them."),
             requester: str = typer.Option(None, "--requester", metavar="ADDRESS", help="Only tickets they opened."),
             org: str = typer.Option(None, "--org", metavar="NAME", help="Only its people's tickets."),
             priority: str = typer.Option(None, "--priority", metavar="LEVEL",
                                           help=f"Only this priority: {PRIORITY_HELP}."),
             status: str = typer.Option(None, "--status", metavar="STATUS", help="Only tickets in this status."),
             since: str = paging.SINCE, until: str = paging.UNTIL, limit: str = paging.LIMIT,
             offset: str = paging.OFFSET,
             due_within: str = typer.Option(None, "--due-within", metavar="DURATION",
                                            help="Only running SLA clocks with a target due within this time "
                                                 "(30m, 2h, 1h30m, 2d) or overdue."),
             breached: bool = typer.Option(False, "--breached", help="Only tickets not closed with an SLA target "
                                                                     "breached."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Tickets, newest first, a page at a time (stderr says when there are more)."""
    page, window = paging.read_page(limit, offset), paging.read_window(since, until)
    due_before = _due_before(due_within, utcnow())
    paging.one_of(status, "--status", TicketStatus)
    paging.one_of(priority, "--priority", PRIORITIES)
    with session_scope(read_only=True) as session:
        wanted = TicketFilter(
            queue=_known_queue(session, queue), assignee_id=_found("--assignee", find_user, session, assignee),
            requester_id=_found("--requester", find_user, session, requester),
            organization_id=_found("--org", find_org, session, org), priority=priority, status=status,
            since=window.since, until=window.until, due_before=due_before, breached=breached)
        rows, total = ticket_page(session, wanted, page.limit, page.offset)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, LIST_COLUMNS[:-1] + ["due", "breached", "subject"] if wanted.about_sla else LIST_COLUMNS,
                    "Tickets")
    paging.tell_if_cut(page, len(rows), total, "tickets")


def _sla_config() -> SlaConfig:
    return load_rules(settings().rules).sla


def _live_sla(sla: dict, now: datetime) -> dict:
    """The clock's used and paused time brought up to now: stored, they count to its last change.
    Used time counts by the calendar of the current rules' profile, as the service would count it."""
    if sla["state"] not in (RUNNING, WAITING) or sla["since"] is None:
        return {**sla, "as_of": sla["since"]}
    clock = Clock(sla["state"], datetime.fromisoformat(sla["since"]), sla["used"], sla["paused"])
    # Only a running clock needs the rules (and their file): a paused one adds wall time.
    calendar = _sla_config().profile(sla["profile"]).calendar if clock.state == RUNNING else _WALL_TIME
    clock = clock.advanced(calendar, now)
    return {**sla, "used": clock.used, "paused": clock.paused, "as_of": clock.since.isoformat()}


def _target_text(sla: dict, key: str, now: datetime) -> str:
    """One target as "first response due 2026-12-01 14:00 UTC (target 4 h, used 1 h 20 min)"."""
    name, target = key.replace("_", " "), sla["targets"][key]
    if target is None:
        return f"{name}: no target"
    breached = key in sla["breached"]
    took = sla["resolution_used"] if key == "resolution" else sla["first_response_used"]
    if took is not None:
        return f"{name} done{' late' if breached else ''} (target {say_duration(target)}, took {say_duration(took)})"
    due = datetime.fromisoformat(sla["due"][key]) if sla["due"][key] else None
    if breached:
        when = "breached"
    elif due is not None:
        when = f"overdue since {say_moment(due)}" if due <= now else f"due {say_moment(due)}"
    else:
        when = "paused" if sla["state"] == WAITING else "not given"
    return f"{name} {when} (target {say_duration(target)}, used {say_duration(sla['used'])})"


def _sla_line(sla: dict, now: datetime) -> str:
    if sla["state"] == NONE:
        return "  SLA: no clock yet (the ticket is from before SLA clocks; it starts at its next change)"
    targets = "; ".join(_target_text(sla, key, now) for key in ("first_response", "resolution"))
    escalation = f"escalation level {sla['escalation_level']}"
    if sla["escalation_level"] and sla["acknowledged"]:
        escalation += " (acknowledged: not repeated)"
    return f"  SLA {sla['profile']} ({sla['state']}): {targets}; paused {say_duration(sla['paused'])}; {escalation}"


def _print_detail(t: dict, now: datetime) -> None:
    typer.echo(f"Ticket {t['number']} ({t['kind']}): {t['subject']}")
    typer.echo(f"  status {t['status']}, priority {t['priority']}, queue {t['queue']} (rule {t['rule']})")
    typer.echo(f"  requester {t['requester_name']} <{t['requester']}>, assignee {t['assignee'] or '-'}")
    typer.echo(f"  participants {', '.join(t['participants']) or '-'}")
    typer.echo(_sla_line(t["sla"], now))
    if t["problem"]:
        typer.echo(f"  incident of problem {t['problem']}")
    for i in t["incidents"]:
        typer.echo(f"  incident {i['number']} ({i['status']}): {i['subject']}")
    for f in t["faults"]:
        typer.echo(f"  fault {f['fingerprint']}: {f['state']}, {f['occurrences']} occurrence(s) from "
                   f"{f['first_seen']} to {f['last_seen']}, {f['recoveries']} recovery(ies)")
    if t["time_spent_minutes"] or t["ratings"]:
        typer.echo(f"  time spent {t['time_spent_minutes']} min, ratings {t['ratings'] or '-'}")
    for e in t["events"]:
        typer.echo(f"  {e['at']}  {e['kind']}: {e['detail']}")
    for a in t["articles"]:
        arrow = "<-" if a["direction"] == "in" else "->"
        extra = f", {a['attachments']} attachment(s)" if a["attachments"] else ""
        extra += ", internal note (staff only)" if a["visibility"] == "internal" else ""
        typer.echo(f"\n{arrow} {a['created_at']} {a['channel']} {a['sender']}{extra}\n{a['text']}")
    for o in t["outbox"]:
        typer.echo(f"\n  outbox {o['id']}: {o['kind']} to {o['to']}: {o['status']}")


@app.command("show")
def show(number: int = typer.Argument(..., **ID), as_json: bool = typer.Option(False, "--json")) -> None:
    """One ticket with its SLA clock, conversation, events and outbound mail."""
    with session_scope(read_only=True) as session:
        detail = ticket_detail(session, number)
        if detail is not None:
            detail |= _links(session, number)
    if detail is None:
        fail(f"no ticket {number}")
    now = utcnow()
    detail["sla"] = _live_sla(detail["sla"], now)
    print_json(detail) if as_json else _print_detail(detail, now)


@app.command("close")
def close(number: int = typer.Argument(..., **ID)) -> None:
    """Close a ticket (a later reply from the client reopens it); its SLA clock stops, keeping the time used."""
    s = settings()
    rules = load_rules(s.rules)
    with session_scope(s) as session:
        # The keeper stops the clock as the service would, recording the resolution time used.
        store = TicketStore(session, SlaKeeper(lambda: rules.sla))
        store.lock_ticket(number)
        if not store.ticket_exists(number):
            fail(f"no ticket {number}")
        if store.get_ticket(number).status == TicketStatus.CLOSED:
            fail(f"ticket {number} is already closed")
        now = utcnow()
        store.update_ticket(number, status=TicketStatus.CLOSED, closed_at=now)
        store.record_event(number, "closed", "closed from the CLI", at=now)
    typer.echo(f"ticket {number} closed")


def _links(session: Session, number: int) -> dict:
    """Its problem or incidents, and the monitoring faults counted on it."""
    conn = session.connection()
    faults = [{"fingerprint": f.fingerprint, "state": f.state, "occurrences": f.occurrences,
               "recoveries": f.recoveries, "first_seen": f.first_seen.isoformat(), "last_seen": f.last_seen.isoformat(),
               "recovered_at": f.recovered_at.isoformat() if f.recovered_at else None}
              for f in faults_of_ticket(conn, number)]
    return problem_view(conn, number) | {"faults": faults}


@app.command("problem")
def problem(number: int = typer.Argument(..., **ID, help="The problem ticket."),
            incidents: list[int] = typer.Option(..., "--incident", min=1, max=2**63 - 1,
                                                help="An incident ticket to link to it (repeatable).")) -> None:
    """Link incident tickets to the problem ticket of their common cause (it becomes a problem)."""
    with session_scope() as session:
        store = TicketStore(session)
        for incident in incidents:
            store.lock_ticket(incident)
            if not store.ticket_exists(incident):
                fail(f"no ticket {incident}")
            if reason := why_not_link(session.connection(), incident, str(number)):
                fail(reason.removeprefix("#problem: "))
            link_to_problem(store, incident, number, "the CLI")
    typer.echo(f"ticket {number} is a problem with incident(s) {', '.join(map(str, incidents))}")


@app.command("resolve")
def resolve(number: int = typer.Argument(..., **ID)) -> None:
    """Resolve a ticket: its requester is asked to confirm (templates/resolved); a problem's open
    incidents are resolved with it and each requester is asked alike, in their language."""
    s = settings()
    rules = load_rules(s.rules)
    ctx = make_pipeline_context(s, lambda: rules)
    with session_scope(s) as session:
        store = TicketStore(session, SlaKeeper(lambda: rules.sla))
        store.lock_ticket(number)
        if not store.ticket_exists(number):
            fail(f"no ticket {number}")
        if (status := store.get_ticket(number).status) in FINISHED_STATUSES:
            fail(f"ticket {number} is already {status}")
        intents = resolve_from_cli(store, number, utcnow(), support_name=s.support_name,
                                   confirm_days=s.confirm_close_days,
                                   is_machine=lambda address: rules.monitoring.rule_for(address) is not None)
        queue_mail(session, intents, ctx)
    typer.echo(f"ticket {number} resolved; {len(intents)} confirmation request(s) queued")
