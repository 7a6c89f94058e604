"""`helpdesk invoices ...`: the period run, approval, EDIFACT export and resending."""

from __future__ import annotations

import typer

app = typer.Typer(help="Invoices: run a billing period, approve, export (EDIFACT, JSON, text), resend.",
                  no_args_is_help=True)
