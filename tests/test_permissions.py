"""The one place that decides who may do what."""

from __future__ import annotations

import pytest

from helpdesk.gateway.accounts.permissions import Actor, TicketScope, check_roles, decide

ACME, OTHER = 1, 2
TICKET = TicketScope(requester_id=10, organization_id=ACME, participant_ids=frozenset({11}))


def actor(user_id, org, *roles, active=True, colleagues=False):
    return Actor(user_id, org, frozenset(roles), active, colleagues)


@pytest.mark.parametrize("who, allowed", [
    (actor(10, ACME, "client"), True),                       # the requester
    (actor(11, ACME, "client"), True),                       # a CC'd participant
    (actor(12, ACME, "client"), False),                      # a colleague, organization says no
    (actor(12, ACME, "client", colleagues=True), True),      # a colleague, organization says yes
    (actor(13, ACME, "client-admin"), True),                 # the organization's client-admin
    (actor(14, OTHER, "client-admin"), False),               # another organization's admin
    (actor(15, None, "technician"), True),
    (actor(16, None, "admin"), True),
    (actor(10, ACME, "client", active=False), False),        # disabled requester
])
def test_who_may_continue_a_ticket(who, allowed):
    assert bool(decide(who, "ticket.continue", TICKET)) is allowed


def test_mail_commands_follow_the_role():
    tech, dispatcher, client = actor(1, None, "technician"), actor(2, None, "dispatcher"), actor(3, ACME, "client")
    assert decide(tech, "ticket.command.take") and not decide(tech, "ticket.command.assign")
    assert decide(dispatcher, "ticket.command.assign") and not decide(dispatcher, "ticket.command.take")
    refusal = decide(client, "ticket.command.close")
    assert not refusal and "#close" in refusal.reason


def test_organization_roles_act_only_in_their_organization():
    fin = actor(1, ACME, "fin-admin")
    assert decide(fin, "invoice.approve", organization_id=ACME)
    assert not decide(fin, "invoice.approve", organization_id=OTHER)
    assert not decide(actor(2, ACME, "client"), "contract.view", organization_id=ACME)
    assert decide(actor(3, None, "technician"), "contract.guarantor")
    assert not decide(actor(4, None, "dispatcher"), "contract.guarantor")


@pytest.mark.parametrize("roles, org, problem", [
    ({"client"}, None, None),
    ({"client", "sys-admin"}, ACME, None),
    ({"technician", "dispatcher"}, None, None),
    ({"fin-admin"}, None, "needs an organization"),
    ({"technician"}, ACME, "no organization"),
    ({"client", "technician"}, None, "cannot be combined"),
    ({"wizard"}, None, "unknown role"),
])
def test_role_combinations(roles, org, problem):
    found = check_roles(roles, org)
    assert (found is None) if problem is None else (problem in found)
