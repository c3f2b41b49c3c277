"""API economy: Salesforce and NetSuite calls per deal against the minimum for the deals' plans.

Every API call costs: Salesforce counts each against a daily allocation, NetSuite each against
the account's concurrency. The minimum for a batch of won deals is:

* Salesforce: 3 per deal — the two reads of the deal graph (opportunity with account, contacts
  and quote; the quote lines) and one composite write-back.
* NetSuite: one write per distinct record of the batch's plans (a record shared by several
  deals — a customer, a price plan — needs writing once), plus one SuiteQL query per lookup
  table of the flow, read once and cached (amortised over the deals).

``ratio`` = measured calls per deal (both systems) ÷ the minimum; 1.0 is the target. A second
phase re-syncs unchanged deals: each is touched in Salesforce (an unrelated field, so a new
``SystemModstamp`` and a new workflow) and synced with ``dealbridge sync``; it must make **0**
NetSuite writes (``unchanged_resync_netsuite_writes``).

Counts come from the ledger's call log, classified by method and path (a SuiteQL query is a POST
but not a write), and are checked against the emulators' own counters (``cross_check``).

Run: ``.venv/bin/python -m bench.economy`` (``--deals 20 --resync 5`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from bench.harness import LedgerRun, Stack, running_stack
from bench.latency import AUTH, SUITEQL, record_key
from bench.results_io import add_output_arguments, document, publish, summary
from bench.throughput import Burst, add_stack_arguments, parameters, run_burst, stack_options
from dealbridge.mapping.loader import SHIPPED_FLOWS_DIR, load_flow

NAME = "economy"
SALESFORCE_MINIMUM = 3  # 2 reads of the deal graph + 1 composite write-back
RESYNC_SALESFORCE_MINIMUM = 2  # the reads; nothing changed, so nothing is written back
Call = tuple[str, str, str]  # (system, method, path)
KINDS = ("salesforce_reads", "salesforce_writes", "netsuite_writes", "netsuite_lookups")
NETSUITE_KINDS = ("writes", "lookups", "other")


def classify(calls: Iterable[Call]) -> Counter[str]:
    """Calls by kind: Salesforce reads and writes, NetSuite writes, lookups and other reads.

    Token requests are ``<system>_auth``, apart: neither system counts them as API calls.
    """
    counts: Counter[str] = Counter()
    for system, method, path in calls:
        if AUTH in path:
            counts[f"{system}_auth"] += 1
        elif system == "salesforce":
            counts["salesforce_reads" if method == "GET" else "salesforce_writes"] += 1
        elif SUITEQL in path:
            counts["netsuite_lookups"] += 1
        elif record_key(method, path) or method in ("PUT", "PATCH", "POST", "DELETE"):
            counts["netsuite_writes"] += 1
        else:
            counts["netsuite_other"] += 1
    return counts


def minimum_netsuite_writes(plans: Iterable[dict[str, Any] | None]) -> int:
    """Distinct (record, payload) pairs across the plans: what must reach NetSuite at least once.

    Payloads are compared as planned (references still symbolic) and without their create-only
    fields, which only the write creating the record sends: the same record planned identically
    by two deals — or differing only in create-only fields, like the email of a second deal's
    contact on a shared customer — counts once, and differently planned versions count each.
    """
    distinct = {
        (entry["type"], entry["external_id"], json.dumps(_update_view(entry), sort_keys=True))
        for plan in plans
        if plan
        for entry in plan["operations"]
    }
    return len(distinct)


def _update_view(entry: dict[str, Any]) -> dict[str, Any]:
    """The planned payload without the operation's create-only fields."""
    create_only = set(entry.get("create_only") or ())
    return {key: value for key, value in entry["payload"].items() if key not in create_only}


def lookup_tables(flow_path: str | None) -> int:
    """SuiteQL lookup tables of the flow the service runs: each is one query when cached."""
    flow = load_flow(Path(flow_path) if flow_path else SHIPPED_FLOWS_DIR / "cpq_closed_won.yaml")
    return sum(1 for lookup in flow.spec.lookups.values() if lookup.suiteql is not None)


def run_calls(rig: Stack, runs: list[LedgerRun]) -> list[Call]:
    """Every call of these runs, as ``(system, method, path)``."""
    return [(c.system, c.method.upper(), c.path) for c in rig.calls([r.id for r in runs])]


def touch(rig: Stack, opportunity_id: str) -> None:
    """An unrelated edit (the description): a new ``SystemModstamp``, nothing a sync writes."""
    body = {"Description": f"benchmark touch {secrets.token_hex(4)}"}
    answer = rig.sf_rest("PATCH", f"/sobjects/Opportunity/{opportunity_id}", body)
    if answer.status_code != HTTPStatus.NO_CONTENT:
        raise RuntimeError(f"touching {opportunity_id}: {answer.status_code} {answer.text[:300]}")


def sync_manually(rig: Stack, opportunity_id: str) -> None:
    """``dealbridge sync OPP`` beside the running service, as a user types it (it queues)."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", "sync", opportunity_id],
        env=rig.env,
        cwd=rig.workdir,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dealbridge sync failed: {done.stderr.decode()[-2000:]}")


def resync(rig: Stack, deals: list[str], timeout: float) -> tuple[list[LedgerRun], dict[str, int]]:
    """Touch and manually re-sync unchanged deals; their runs and the emulators' deltas."""
    rig.control(rig.netsuite, "POST", "/stats/reset")
    sf_before = int(rig.stats(rig.salesforce)["api_calls"])
    since = datetime.now(UTC)
    for deal in deals:
        touch(rig, deal)
        sync_manually(rig, deal)
    runs = rig.wait_finished(deals, timeout, since=since)
    ns = rig.stats(rig.netsuite)
    deltas = {
        "netsuite_requests": int(ns["total_requests"]) - int(ns["responses_429"]),
        "salesforce_api_calls": int(rig.stats(rig.salesforce)["api_calls"]) - sf_before,
        "harness_salesforce_calls": len(deals),  # the touches
        "cli_salesforce_calls": len(deals),  # `dealbridge sync` reads the trigger facts
    }
    return runs, deltas


@dataclass
class Observed:
    """The raw facts of both phases."""

    burst: Burst
    counts: Counter[str]
    per_run: list[Counter[str]]
    resync_runs: list[LedgerRun]
    resync_counts: Counter[str]
    resync_emulators: dict[str, int]
    resync_written: list[str]


def observe(rig: Stack, deals: list[str], resync_deals: int, timeout: float) -> Observed:
    """The burst, then the unchanged re-sync of the first ``resync_deals`` deals."""
    burst = run_burst(rig, deals, timeout)
    runs_again, deltas = resync(rig, deals[:resync_deals], timeout)
    calls_again = run_calls(rig, runs_again)
    return Observed(
        burst=burst,
        counts=classify(run_calls(rig, burst.runs)),
        per_run=[classify(run_calls(rig, [r])) for r in burst.runs],
        resync_runs=runs_again,
        resync_counts=classify(calls_again),
        resync_emulators=deltas,
        resync_written=sorted(filter(None, (record_key(m, path) for _, m, path in calls_again))),
    )


def per_deal(seen: Observed, tables: int) -> tuple[dict[str, float], dict[str, float]]:
    """Measured and minimum calls per deal, by kind."""
    n, counts = len(seen.burst.deals), seen.counts
    measured = {
        "salesforce": (counts["salesforce_reads"] + counts["salesforce_writes"]) / n,
        "netsuite_writes": counts["netsuite_writes"] / n,
        "netsuite_lookups": counts["netsuite_lookups"] / n,
        "netsuite_other": counts["netsuite_other"] / n,
    }
    minimum = {
        "salesforce": float(SALESFORCE_MINIMUM),
        "netsuite_writes": minimum_netsuite_writes(r.plan for r in seen.burst.runs) / n,
        "netsuite_lookups": tables / n,
    }
    return measured, minimum


def cross_check(seen: Observed) -> dict[str, Any]:
    """The ledger's call log against the emulators' own counters (they should agree)."""
    counts, burst = seen.counts, seen.burst
    return {
        "netsuite_emulator_requests": burst.netsuite_calls,
        "netsuite_ledger_calls": sum(counts[f"netsuite_{k}"] for k in NETSUITE_KINDS),
        "salesforce_emulator_calls": burst.salesforce_calls,
        "salesforce_ledger_calls": counts["salesforce_reads"] + counts["salesforce_writes"],
        "salesforce_harness_calls": -(-len(burst.deals) // 200),  # the PATCHes that closed them
        "token_requests": {
            "salesforce": counts["salesforce_auth"],
            "netsuite": counts["netsuite_auth"],
        },
        "responses_429_seen": int(burst.netsuite["responses_429"]),
    }


def resync_figures(seen: Observed) -> dict[str, Any]:
    """What the unchanged re-sync did, naming any record it wrote (it should write none)."""
    again, runs = seen.resync_counts, seen.resync_runs
    salesforce = again["salesforce_reads"] + again["salesforce_writes"]
    return {
        "deals": len(runs),
        "statuses": dict(Counter(r.status for r in runs)),
        "calls": dict(again),
        "records_written": seen.resync_written,
        "salesforce_calls_per_deal": round(salesforce / max(1, len(runs)), 3),
        "salesforce_minimum_per_deal": RESYNC_SALESFORCE_MINIMUM,
        "emulators": seen.resync_emulators,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the rig, observe both phases, compare with the minimum."""
    options = replace(stack_options(args), deals_needed=max(args.deals, args.resync))
    with running_stack(options, args.workdir) as rig:
        seen = observe(rig, rig.won_candidates[: args.deals], args.resync, args.timeout or 900.0)
        params = {**parameters(args, options, rig), "resync_deals": args.resync}
    measured, minimum = per_deal(seen, lookup_tables(options.env.get("SYNC__FLOW_PATH")))
    netsuite_minimum = minimum["netsuite_writes"] + minimum["netsuite_lookups"]
    return document(
        NAME,
        ratio=sum(measured.values()) / sum(minimum.values()),
        meaning="measured API calls per deal (Salesforce + NetSuite) divided by the minimum "
        "for the batch's plans (3 Salesforce + distinct NetSuite records + lookup tables once); "
        "1.0 meets the target",
        parameters=params,
        calls_per_deal={k: round(v, 3) for k, v in measured.items()},
        minimum_per_deal={k: round(v, 3) for k, v in minimum.items()},
        salesforce_ratio=round(measured["salesforce"] / SALESFORCE_MINIMUM, 3),
        netsuite_ratio=round(
            (sum(measured.values()) - measured["salesforce"]) / netsuite_minimum, 3
        ),
        unchanged_resync_netsuite_writes=seen.resync_counts["netsuite_writes"],
        unchanged_resync=resync_figures(seen),
        cross_check=cross_check(seen),
        samples={key: summary([float(c[key]) for c in seen.per_run], 2) for key in KINDS},
    )


def draw(result: dict[str, Any]) -> Any:
    """Measured against minimum, per kind of call; the unchanged re-sync's writes."""

    def chart(figure: Any) -> None:
        measured, minimum = result["calls_per_deal"], result["minimum_per_deal"]
        resync_runs = result["unchanged_resync"]
        labels = ["Salesforce", "NetSuite writes", "NetSuite lookups", "re-sync NetSuite writes"]
        resync_writes = resync_runs["calls"].get("netsuite_writes", 0) / max(
            1, resync_runs["deals"]
        )
        got = [
            measured["salesforce"],
            measured["netsuite_writes"],
            measured["netsuite_lookups"],
            resync_writes,
        ]
        least = [minimum["salesforce"], minimum["netsuite_writes"], minimum["netsuite_lookups"], 0]
        axes = figure.add_subplot()
        x = range(len(labels))
        axes.bar([i - 0.2 for i in x], got, width=0.4, label="measured")
        axes.bar([i + 0.2 for i in x], least, width=0.4, label="minimum")
        axes.set_xticks(list(x), labels, fontsize=8)
        axes.set_ylabel("calls per deal")
        axes.legend(fontsize=8)
        axes.set_title(
            f"{result['parameters']['deals']} deals: calls per deal / minimum = {result['ratio']}"
            f"; unchanged re-sync NetSuite writes: {result['unchanged_resync_netsuite_writes']}",
            fontsize=9,
        )

    return chart


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and write ``economy.json`` and ``economy.png``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_stack_arguments(parser, deals=100, latency=200.0)
    parser.add_argument("--resync", type=int, default=10, help="deals re-synced unchanged")
    add_output_arguments(parser, NAME)
    args = parser.parse_args(argv)
    result = run(args)
    publish(result, draw(result), args.output_dir)
    return result


if __name__ == "__main__":
    main()
