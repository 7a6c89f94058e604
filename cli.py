"""The `helpdesk` command: one Typer app assembled from one sub-command group per noun."""

from __future__ import annotations

import typer

from gateway.commands import contracts, inbound, orgs, outbox, queues, rules, service, tickets, users
from gateway.commands.common import run_cli

app = typer.Typer(help="Helpdesk gateway: email and SMS in, tickets out.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.command("serve")(service.serve)
app.add_typer(service.db_app, name="db")
app.add_typer(inbound.app, name="inbound")
app.add_typer(tickets.app, name="tickets")
app.add_typer(outbox.app, name="outbox")
app.add_typer(orgs.app, name="orgs")
app.add_typer(users.app, name="users")
app.add_typer(queues.app, name="queues")
app.add_typer(contracts.app, name="contracts")
app.add_typer(rules.app, name="rules")


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
