"""The `helpdesk` command: one Typer app assembled from one sub-command group per noun."""

from __future__ import annotations

from importlib.metadata import version as package_version

import typer

from helpdesk.app.commands import alert_commands as alerts
from helpdesk.app.commands import backup_commands as backup
from helpdesk.app.commands import contract_commands as contracts
from helpdesk.app.commands import inbound_commands as inbound
from helpdesk.app.commands import invoice_commands as invoices
from helpdesk.app.commands import object_commands as objects
from helpdesk.app.commands import org_commands as orgs
from helpdesk.app.commands import outbox_commands as outbox
from helpdesk.app.commands import queue_commands as queues
from helpdesk.app.commands import report_commands as report
from helpdesk.app.commands import rule_commands as rules
from helpdesk.app.commands import service_commands as service
from helpdesk.app.commands import sla_commands as sla
from helpdesk.app.commands import ticket_commands as tickets
from helpdesk.app.commands import time_commands as time_entries
from helpdesk.app.commands import user_commands as users
from helpdesk.app.commands.console import run_cli

app = typer.Typer(help="Helpdesk gateway: email and SMS in, tickets out.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"helpdesk {package_version('helpdesk-gateway')}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                       help="Print the version and exit.")) -> None:
    """Helpdesk gateway: email and SMS in, tickets out."""


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
app.add_typer(backup.app, name="backup")
app.add_typer(sla.app, name="sla")
app.add_typer(alerts.app, name="alerts")
app.add_typer(report.app, name="report")
app.add_typer(objects.app, name="objects")
app.add_typer(time_entries.app, name="time")
app.add_typer(invoices.app, name="invoices")


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
