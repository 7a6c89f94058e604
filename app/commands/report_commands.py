"""`helpdesk report`: SLA compliance and technicians' workload over a period."""

from __future__ import annotations

import re
from datetime import date

import typer
from sqlalchemy import select
from sqlmodel import Session

from helpdesk.app.commands import list_paging as paging
from helpdesk.app.commands.console import print_json, print_table, session_scope
from helpdesk.gateway.accounts.directory import find_org
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.sla.durations import say_duration
from helpdesk.store.account_tables import Queue
from helpdesk.store.models import Ticket
from helpdesk.store.report_workload import workload_report
from helpdesk.store.reports import Period, SlaFilter, sla_report

app = typer.Typer(help="Reports: SLA compliance and workload.", no_args_is_help=True)
FROM = typer.Option(..., "--from", metavar="DATE", help="First day of the period (UTC), e.g. 2026-11-01.")
TO = typer.Option(..., "--to", metavar="DATE", help="Last day of the period, included (UTC), e.g. 2026-11-30.")
JSON = typer.Option(False, "--json", help="Print JSON instead of tables (durations in seconds).")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # date.fromisoformat alone also takes 20261130 and 2026-W48

# The SLA tables, two per grouping so each fits a terminal: (title, [(key in the report, heading)]);
# keys ending in _s are durations.
SLA_TABLES = [
    ("First response", [("tickets", "tickets"), ("first_response_met", "met"),
                        ("first_response_breached", "breached"), ("first_response_pending", "pending"),
                        ("first_response_no_target", "no target"), ("first_response_median_s", "median"),
                        ("first_response_p90_s", "p90")]),
    ("Resolution and time paused", [("tickets", "tickets"), ("resolution_met", "met"),
                                    ("resolution_breached", "breached"), ("resolution_open", "open"),
                                    ("resolution_no_target", "no target"), ("resolution_median_s", "median"),
                                    ("resolution_p90_s", "p90"), ("paused_total_s", "paused total"),
                                    ("paused_median_s", "paused median")]),
]
WORKLOAD_COLUMNS = [("name", "name"), ("active", "active"), ("open", "open now"), ("handled", "handled"),
                    ("handled_breached", "handled, SLA breached"), ("time_logged_s", "time logged"),
                    ("satisfaction_count", "ratings"), ("satisfaction_average", "average rating")]
# How each grouping names its rows in a table; JSON gives null for the group without one.
GROUP_NAMES = {
    "by_queue": ("queue", lambda row: row["queue"]),
    "by_technician": ("technician", lambda row: row["technician"] or "(unassigned)"),
    "by_contract": ("contract", lambda row: f"{row['contract']} ({row['organization']})" if row["contract"]
                    else "(no contract)"),
}
# Paragraphs as single strings: the help would otherwise keep the source's line breaks.
SLA_HELP = (
    "SLA compliance of the tickets created in the period, per queue, technician and contract.\n\n"
    "The period is whole UTC days, --from and --to both included. A target is met when the working time used "
    "when it was reached is within it; breached when over it, or when not reached yet and already overdue. "
    "Pending: not answered yet; open: not resolved yet; both not overdue (yet).\n\n"
    "Median and p90 are of working time, over the tickets that reached the target, by nearest rank: each is one "
    "ticket's time, and the median of an even count is the lower middle one. Paused is the time spent waiting "
    "for the client, up to each ticket's last change. The contract is the requester's organization's contract "
    "in force on the day the ticket was created. In JSON the unassigned and no-contract rows have null names.")
WORKLOAD_HELP = (
    "Per technician and dispatcher: open tickets now, tickets handled in the period, time logged, "
    "satisfaction.\n\n"
    "The period is whole UTC days, --from and --to both included. Handled: resolved or closed in the period, "
    "credited to the ticket's assignee; 'SLA breached' counts those of them with a target breached. Open: "
    "assigned to them now and not closed. Time logged and ratings are those entered in the period. Only people "
    "with any figure are listed.")


def _day(value: str, option: str) -> date:
    text = value.strip()
    try:
        if DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        pass
    paging.bad_value(option, f"expected a date like 2026-11-30, got {value!r}")


def _period(first: str, last: str) -> Period:
    period = Period(_day(first, "--from"), _day(last, "--to"))
    if period.last_day < period.first_day:
        paging.bad_value("--to", f"{last!r} is before --from {first!r}")
    return period


def _known_queue(session: Session, name: str | None) -> str | None:
    # As `tickets list --queue`: a queue dropped from rules.yaml may still be on old tickets.
    if name is not None and session.get(Queue, name) is None and session.execute(
            select(Ticket.id).where(Ticket.queue == name).limit(1)).first() is None:
        paging.bad_value("--queue", f"unknown queue {name!r}")
    return name


def _org(session: Session, ref: str | None):
    if ref is None:
        return None
    try:
        return find_org(session, ref)
    except UserError as exc:
        paging.bad_value("--org", str(exc))


def _cells(row: dict, columns: list[tuple[str, str]]) -> dict:
    return {heading: say_duration(row[key]) if key.endswith("_s") else row[key] for key, heading in columns}


def _print_sla_tables(report: dict, period_text: str) -> None:
    for grouping, (heading, name) in GROUP_NAMES.items():
        for title, columns in SLA_TABLES:
            rows = [{heading: name(row), **_cells(row, columns)} for row in report[grouping]]
            rows.append({heading: "(all)", **_cells(report["total"], columns)})
            print_table(rows, [heading, *(h for _, h in columns)], f"{title} by {heading}, {period_text}")


@app.command("sla", help=SLA_HELP)
def sla(first: str = FROM, last: str = TO,
        queue: str = typer.Option(None, "--queue", metavar="QUEUE", help="Only tickets in this queue."),
        org: str = typer.Option(None, "--org", metavar="NAME",
                                help="Only tickets of this organization's people (its name or id)."),
        as_json: bool = JSON) -> None:
    period = _period(first, last)
    with session_scope(read_only=True) as session:
        organization = _org(session, org)
        wanted = SlaFilter(period, _known_queue(session, queue), organization.id if organization else None)
        report = sla_report(session, wanted)
    if as_json:
        print_json({"from": period.first_day.isoformat(), "to": period.last_day.isoformat(), "queue": queue,
                    "organization": organization.name if organization else None, **report})
    else:
        _print_sla_tables(report, f"{period.first_day} to {period.last_day}")


@app.command("workload", help=WORKLOAD_HELP)
def workload(first: str = FROM, last: str = TO, as_json: bool = JSON) -> None:
    period = _period(first, last)
    with session_scope(read_only=True) as session:
        rows = workload_report(session, period)
    if as_json:
        print_json({"from": period.first_day.isoformat(), "to": period.last_day.isoformat(), "technicians": rows})
        return
    print_table([{"technician": row["technician"], **_cells(row, WORKLOAD_COLUMNS)} for row in rows],
                ["technician", *(h for _, h in WORKLOAD_COLUMNS)],
                f"Workload, {period.first_day} to {period.last_day}")
