"""`helpdesk objects ...`: clients' objects, their documents and inspections."""

from __future__ import annotations

import typer

app = typer.Typer(help="Clients' objects (servers, machines): documents, inspections, history.",
                  no_args_is_help=True)
