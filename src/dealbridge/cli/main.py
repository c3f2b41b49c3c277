"""Entry point of the ``dealbridge`` command."""

from __future__ import annotations

import typer

from dealbridge.cli.db import db_app
from dealbridge.cli.demo import demo
from dealbridge.cli.emulate import emulate_app
from dealbridge.cli.flows import flows_app

app = typer.Typer(
    name="dealbridge",
    help="Closed Won deals from Salesforce CPQ into NetSuite SuiteBilling, exactly once.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(emulate_app, name="emulate")
app.add_typer(flows_app, name="flows")
app.add_typer(db_app, name="db")
app.command("demo")(demo)


if __name__ == "__main__":  # pragma: no cover
    app()
