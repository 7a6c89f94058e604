"""`helpdesk time ...`: technicians' time entries on tickets (locked once invoiced)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Time entries on tickets: add, list, edit (until invoiced).", no_args_is_help=True)
