"""Thousands of synced won deals, made fast enough for CI: both emulators seeded directly.

Salesforce side: the won deals of a small generated org (``seed.generate_org``) cloned with
fresh ids until there are enough — each clone its own account (name and e-mails tagged with the
clone number, so names stay distinct), contacts, quote and lines; products are shared — and
loaded raw through ``POST /__emulator__/records``. Generating a 50,000-deal org for 5,000 won
deals would take over a minute; cloning takes a second or two.

NetSuite side: what a faithful sync would have written, made without the engine: each deal
planned by the shipped flow (``FlowEngine`` with lookups read from the emulator's reference
data), every planned record given an internal id, its pending references resolved, and the lot
loaded through ``POST /__emulator__/seed`` (which applies the emulator's SuiteBilling rules, as
an upsert would). This is the "write the plan" path: the sync engine itself is exercised by the
smaller reconciliation and backfill tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import httpx

from dealbridge.connectors.netsuite.emulator.schema import RECORD_TYPES
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.connectors.salesforce.emulator.seed import SOBJECT_ORDER, generate_org
from dealbridge.connectors.salesforce.emulator.seed_ids import KEY_PREFIXES
from dealbridge.connectors.salesforce.models import to_id18
from dealbridge.core.records import RecordKey, SyncPlan
from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import LookupTables

Rows = dict[str, list[dict[str, Any]]]
TODAY = date(2026, 6, 1)
_CLONE_BASE = 500_000_000  # id counters of clones start here, far above the generated org's
_FIRST_NETSUITE_ID = 100_000
_SEED_CHUNK = 2000


def won_template(seed: int, deals: int, *, single_package: bool = False) -> Rows:
    """The won deals of a generated org with every record they need (primary quotes only).

    ``single_package`` keeps only deals whose quote has one top-level line (one subscription):
    smaller NetSuite tables, for a test whose cost grows with them.
    """
    org = generate_org(seed, deals, today=TODAY).records
    tops: dict[str, int] = {}
    for line in org["SBQQ__QuoteLine__c"]:
        if line.get("SBQQ__RequiredBy__c") is None:
            tops[line["SBQQ__Quote__c"]] = tops.get(line["SBQQ__Quote__c"], 0) + 1
    won = [
        row
        for row in org["Opportunity"]
        if row["IsWon"] and (not single_package or tops.get(row["SBQQ__PrimaryQuote__c"]) == 1)
    ]
    return _used_by(org, won)


def _used_by(rows: Rows, opportunities: list[dict[str, Any]]) -> Rows:
    """The opportunities, their primary quotes, lines, roles, accounts and contacts; products."""
    ids = {row["Id"] for row in opportunities}
    quotes = {row["SBQQ__PrimaryQuote__c"] for row in opportunities}
    accounts = {row["AccountId"] for row in opportunities}
    return {
        "Account": _where(rows["Account"], "Id", accounts),
        "Contact": _where(rows["Contact"], "AccountId", accounts),
        "Product2": rows["Product2"],
        "SBQQ__ProductOption__c": rows["SBQQ__ProductOption__c"],
        "Opportunity": opportunities,
        "OpportunityContactRole": _where(rows["OpportunityContactRole"], "OpportunityId", ids),
        "SBQQ__Quote__c": _where(rows["SBQQ__Quote__c"], "Id", quotes),
        "SBQQ__QuoteLine__c": _where(rows["SBQQ__QuoteLine__c"], "SBQQ__Quote__c", quotes),
    }


def _where(rows: list[dict[str, Any]], name: str, values: set[str]) -> list[dict[str, Any]]:
    return [row for row in rows if row.get(name) in values]


def cloned_org(template: Rows, count: int) -> Rows:
    """``count`` won deals: the template's, then clones of them with fresh ids."""
    shared = ("Product2", "SBQQ__ProductOption__c")
    rows: Rows = {name: [] for name in SOBJECT_ORDER}
    for name in shared:
        rows[name] = list(template[name])
    counter = itertools.count(_CLONE_BASE)
    per_copy = len(template["Opportunity"])
    for copy in range((count + per_copy - 1) // per_copy):
        for name, cloned in _clone(template, copy, counter, shared).items():
            rows[name].extend(cloned)
    return _first_deals(rows, count)


def _clone(template: Rows, copy: int, counter: Iterator[int], shared: tuple[str, ...]) -> Rows:
    """One copy of every non-shared row; copy 0 keeps its ids (it is the template itself)."""
    mapping: dict[str, str] = {}
    if copy:
        for name, rows in template.items():
            if name not in shared:
                for row in rows:
                    mapping[row["Id"]] = to_id18(f"{KEY_PREFIXES[name]}{next(counter):012d}")
    out: Rows = {}
    for name, rows in template.items():
        if name in shared:
            continue
        out[name] = [_tagged(name, _remapped(row, mapping), copy) for row in rows]
    return out


def _remapped(row: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    return {k: mapping.get(v, v) if isinstance(v, str) else v for k, v in row.items()}


def _tagged(name: str, row: dict[str, Any], copy: int) -> dict[str, Any]:
    if copy and name == "Account":
        row["Name"] = f"{row['Name']} #{copy}"
    if copy and name == "Contact" and row.get("Email"):
        local, _, domain = str(row["Email"]).partition("@")
        row["Email"] = f"{local}+c{copy}@{domain}"
    return row


def _first_deals(rows: Rows, count: int) -> Rows:
    """Only the first ``count`` opportunities and what they use."""
    return _used_by(rows, rows["Opportunity"][:count])


def load_salesforce(control_url: str, rows: Rows) -> None:
    """Load raw rows into the Salesforce emulator (one request)."""
    answer = httpx.post(control_url + "/records", json=rows, timeout=600)
    assert answer.status_code == 200, answer.text


def graphs_of(rows: Rows) -> list[DealGraph]:
    """Each opportunity's deal graph, built from the rows as ``fetch_deal_graph`` would read it."""
    accounts = {row["Id"]: row for row in rows["Account"]}
    contacts = {row["Id"]: row for row in rows["Contact"]}
    quotes = {row["Id"]: row for row in rows["SBQQ__Quote__c"]}
    products = {row["Id"]: row for row in rows["Product2"]}
    roles: dict[str, list[dict[str, Any]]] = {}
    for role in rows["OpportunityContactRole"]:
        roles.setdefault(role["OpportunityId"], []).append(
            {**role, "Contact": contacts.get(role["ContactId"])}
        )
    lines: dict[str, list[dict[str, Any]]] = {}
    for line in rows["SBQQ__QuoteLine__c"]:
        product = products.get(line.get("SBQQ__Product__c") or "")
        lines.setdefault(line["SBQQ__Quote__c"], []).append({**line, "SBQQ__Product__r": product})
    graphs = []
    for opportunity in rows["Opportunity"]:
        quote = dict(quotes[opportunity["SBQQ__PrimaryQuote__c"]])
        quote["SBQQ__PrimaryContact__r"] = contacts.get(quote.get("SBQQ__PrimaryContact__c") or "")
        graphs.append(
            DealGraph.model_validate(
                {
                    "opportunity": opportunity,
                    "account": accounts[opportunity["AccountId"]],
                    "contact_roles": roles.get(opportunity["Id"], []),
                    "quote": quote,
                    "lines": lines.get(quote["Id"], []),
                }
            )
        )
    return graphs


def netsuite_seed(plans: list[SyncPlan]) -> dict[str, list[dict[str, Any]]]:
    """Every planned record once, with an internal id and its references resolved."""
    ids: dict[RecordKey, str] = {}
    numbers = itertools.count(_FIRST_NETSUITE_ID)
    records: dict[str, list[dict[str, Any]]] = {}
    for plan in plans:
        assert plan.ok, plan.errors
        for operation in plan.operations:
            if operation.key in ids:
                continue
            ids[operation.key] = str(next(numbers))
    written: set[RecordKey] = set()
    for plan in plans:
        for operation in plan.operations:
            if operation.key in written:
                continue
            written.add(operation.key)
            body = operation.resolved_payload(ids)
            body.update(id=ids[operation.key], externalId=operation.key.external_id)
            records.setdefault(operation.key.record_type, []).append(body)
    return records


def plan_all(engine: FlowEngine, lookups: LookupTables, graphs: list[DealGraph]) -> list[SyncPlan]:
    """The shipped flow's plan of every deal."""
    return [engine.plan(graph, lookups) for graph in graphs]


def load_netsuite(control_url: str, records: dict[str, list[dict[str, Any]]], verify: Any) -> None:
    """Seed the NetSuite emulator, dependencies first, a few thousand records per request."""
    order = {name.lower(): index for index, name in enumerate(RECORD_TYPES)}
    types = sorted(records, key=lambda name: (order.get(name.lower(), len(order)), name))
    with httpx.Client(base_url=control_url, timeout=600, verify=verify) as http:
        for record_type in types:
            bodies = records[record_type]
            for start in range(0, len(bodies), _SEED_CHUNK):
                chunk = {record_type: bodies[start : start + _SEED_CHUNK]}
                answer = http.post("/seed", json=chunk)
                assert answer.status_code == 200, answer.text[:2000]
