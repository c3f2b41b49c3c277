"""Entry point of the ``dealbridge`` command."""

from __future__ import annotations

import typer

from dealbridge.cli.backfill import backfill
from dealbridge.cli.config_cmd import config_app
from dealbridge.cli.db import db_app
from dealbridge.cli.demo import demo
from dealbridge.cli.emulate import emulate_app
from dealbridge.cli.errors_cmd import errors_app
from dealbridge.cli.flows import flows_app
from dealbridge.cli.reconcile import reconcile_command
from dealbridge.cli.replay import replay
from dealbridge.cli.runs import runs_app
from dealbridge.cli.serve import serve
from dealbridge.cli.sync import sync
from dealbridge.cli.users import tokens_app, users_app
from dealbridge.cli.worker import worker

app = typer.Typer(
    name="dealbridge",
    help="Closed Won deals from Salesforce CPQ into NetSuite SuiteBilling, exactly once.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(emulate_app, name="emulate")
app.add_typer(flows_app, name="flows")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.command("demo")(demo)
app.command("sync")(sync)
app.command("worker")(worker)
app.command("serve")(serve)
app.add_typer(runs_app, name="runs")
app.add_typer(errors_app, name="errors")
app.command("backfill")(backfill)
app.command("reconcile")(reconcile_command)
app.command("replay")(replay)


if __name__ == "__main__":  # pragma: no cover
    app()
