"""A contract's change reaches its organization's open tickets: they take the SLA profile now in
force, keeping the working time they used and the time they were paused."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from helpdesk.gateway.ground.clock import Clock, utcnow
from helpdesk.gateway.sla.keeper import SlaKeeper
from helpdesk.gateway.sla.profiles import SlaConfig
from helpdesk.store.sla_clock import open_tickets_of_org, org_profile, set_clock


def unknown_profile_warning(config: SlaConfig, name: str | None) -> str | None:
    """What to tell whoever gave a contract a profile the rules do not declare: it is kept (the
    rules may be about to declare it), but until then its tickets follow the default profile."""
    if name is None or config.knows(name):
        return None
    return (f"warning: SLA profile {name!r} is not declared in rules.yaml (it declares "
            f"{', '.join(sorted(config.profiles))}); its tickets follow {config.default!r} until it is")


def follow_contract_change(session: Session, config: SlaConfig, org_id: int, today: date,
                           clock: Clock = utcnow) -> tuple[int, str]:
    """Re-time the organization's open tickets; returns how many, and the profile they now follow."""
    session.flush()  # the ORM's pending contract change must be visible to the queries below
    conn, keeper = session.connection(), SlaKeeper(lambda: config, clock)
    profile = config.profile(org_profile(conn, org_id, today)).name
    numbers = open_tickets_of_org(conn, org_id)
    for number in numbers:
        set_clock(conn, number, keeper.changed(conn, number, {}, profile_name=profile))
    return len(numbers), profile
