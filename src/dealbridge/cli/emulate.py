"""``dealbridge emulate …``: run a local stand-in for Salesforce or NetSuite."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dealbridge.connectors.netsuite.emulator.config import EmulatorOptions

emulate_app = typer.Typer(help="Run an offline emulator of a remote system.", no_args_is_help=True)


@emulate_app.command("netsuite")
def emulate_netsuite(
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 8702,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    account: Annotated[str, typer.Option(help="Account id to emulate.")] = "1234567_SB1",
    latency_ms: Annotated[float, typer.Option(help="Latency added to each request.")] = 0.0,
    jitter: Annotated[float, typer.Option(help="Latency jitter as a fraction.")] = 0.2,
    concurrency_limit: Annotated[int, typer.Option(help="Requests in flight before 429.")] = 15,
    seed: Annotated[Path | None, typer.Option(help="JSON file of records to load.")] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where state lives (temp if unset).")
    ] = None,
) -> None:
    """Start the NetSuite emulator; its first stdout line is JSON with URL and credentials."""
    from dealbridge.connectors.netsuite.emulator.server import serve

    if seed is not None and not seed.is_file():
        raise typer.BadParameter(f"seed file not found: {seed}", param_hint="--seed")
    serve(
        EmulatorOptions(
            host=host,
            port=port,
            account=account,
            latency_ms=latency_ms,
            jitter=jitter,
            concurrency_limit=concurrency_limit,
            seed_file=seed,
            state_dir=state_dir,
        )
    )


@emulate_app.command("salesforce")
def emulate_salesforce(
    port: Annotated[int, typer.Option(help="TCP port (0 = any free port).")] = 8701,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    tls: Annotated[bool, typer.Option(help="Serve HTTPS with a generated private CA.")] = False,
    latency_ms: Annotated[float, typer.Option(help="Latency added to each REST call.")] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the generated CPQ org.")] = 1,
    deals: Annotated[int, typer.Option(help="Opportunities the generated org has.", min=0)] = 50,
    daily_api_limit: Annotated[
        int, typer.Option(help="Daily API allocation (then 403 REQUEST_LIMIT_EXCEEDED).", min=0)
    ] = 100_000,
    time_scale: Annotated[
        float, typer.Option(help="Outbound Message retry clock speed-up (3600: 1 h per second).")
    ] = 1.0,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where state lives (temp if unset).")
    ] = None,
) -> None:
    """Start the Salesforce emulator; its first stdout line is JSON with URL and credentials."""
    from dealbridge.connectors.salesforce.emulator.config import SalesforceEmulatorOptions
    from dealbridge.connectors.salesforce.emulator.server import serve as serve_salesforce

    if time_scale <= 0:
        raise typer.BadParameter("must be positive", param_hint="--time-scale")
    serve_salesforce(
        SalesforceEmulatorOptions(
            host=host,
            port=port,
            tls=tls,
            latency_ms=latency_ms,
            seed=seed,
            deals=deals,
            daily_api_limit=daily_api_limit,
            state_dir=state_dir,
            time_scale=time_scale,
        )
    )
