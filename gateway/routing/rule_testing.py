"""`helpdesk rules test`: route saved messages with the given rules and explain the decision.

Nothing is stored or sent: the database, when reachable, is only read (the requester's
organization and contracts, who an assignment strategy would pick right now).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.gateway.ground.clock import utc_today
from helpdesk.gateway.ground.errors import Quarantine, UserError
from helpdesk.gateway.ground.ports import MailParser
from helpdesk.gateway.pipeline.steps import lookup_requester
from helpdesk.gateway.routing.assign import choose_assignee
from helpdesk.gateway.routing.route import RouteDecision, route
from helpdesk.gateway.routing.routing_facts import RequesterInfo, RoutingFacts
from helpdesk.gateway.routing.rules import Rules
from helpdesk.store.account_tables import Contract, Queue, UserEmail
from helpdesk.store.assignment import requester_organization
from helpdesk.store.db import read_session
from helpdesk.store.tickets import TicketStore


@dataclass(frozen=True)
class Tested:
    name: str
    decision: RouteDecision | None
    sender: str = ""
    assignee: str = ""
    problem: str = ""  # why the message could not be routed (unreadable)


def natural_key(path: Path) -> list:
    """'mail-3.eml' before 'mail-13.eml': numbers in a name compare as numbers, as a person reads them."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
            for part in re.split(r"(\d+)", path.name) if part]


def messages_in(path: Path) -> list[Path]:
    if path.is_dir():
        found = sorted((p for p in path.iterdir() if p.suffix.lower() == ".eml" and p.is_file()), key=natural_key)
        if not found:
            raise UserError(f"no .eml files in {path}")
        return found
    if not path.is_file():
        raise UserError(f"no such file or folder: {path}")
    return [path]


def _assignee_now(store: TicketStore, decision: RouteDecision, sender: str) -> str:
    org_id, _ = requester_organization(store.conn, sender)
    chosen = choose_assignee(store.conn, decision.assign, decision.queue, org_id, utc_today(), remember=False)
    if chosen.assignee_id is None:
        return chosen.reason
    return f"{store.get_contact(chosen.assignee_id).email} ({chosen.reason})"


def test_messages(paths: list[Path], rules: Rules, engine: Engine | None, now: datetime,
                  parse: MailParser) -> list[Tested]:
    results = []
    with (read_session(engine) if engine else _NoDatabase()) as session:
        store = TicketStore(session) if engine else None
        conn = store.conn if store else None
        for path in paths:
            try:
                mail = parse(path.read_bytes(), 0, None, ())
            except Quarantine as exc:
                results.append(Tested(path.name, None, problem=str(exc)))
                continue
            lookup = (lambda m=mail: lookup_requester(conn, m.sender)) if conn is not None else RequesterInfo
            decision = route(RoutingFacts(mail, now, rules.zone, lookup), rules, explain=True)
            assignee = _assignee_now(store, decision, mail.sender) if store else "(no database)"
            results.append(Tested(path.name, decision, mail.sender, assignee))
        if engine:
            session.rollback()
    return results


class _NoDatabase:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def open_read_only(engine: Engine) -> Engine | None:
    """The engine if the database answers with a current schema, else None (then routing
    works without requester facts and no assignee is predicted)."""
    probes = [select(column).limit(1) for column in (UserEmail.address, Contract.sla_profile, Queue.rr_last_user_id)]
    try:
        with read_session(engine) as session:
            for probe in probes:
                session.execute(probe)
        return engine
    except SQLAlchemyError:
        return None
