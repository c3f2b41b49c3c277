"""Won deals from Salesforce in bulk: the window's opportunities page by page, then their graphs.

Why not ``fetch_deal_graph`` per deal: it spends one or two SOQL calls on each deal, 10,000
calls for a 5,000-deal reconciliation — a sizeable share of an org's daily allocation, which
every integration of the org shares (contracts/salesforce.md §5). Here the same graphs cost
two queries per ``GRAPH_BATCH`` deals (plus a page per 2,000 quote lines):

1. ``won_page`` — ``SELECT Id, AccountId, SystemModstamp, CloseDate FROM Opportunity WHERE
   IsWon = true AND CloseDate >= … AND CloseDate <= … ORDER BY CloseDate, Id LIMIT n``, resumed
   after a ``Cursor`` by keyset — ``(CloseDate > d OR (CloseDate = d AND Id > id))`` — so a
   stored cursor names exactly the deals already seen, whatever is inserted meanwhile before it.
2. ``fetch_graphs`` — per batch of opportunity ids, the query of ``deal_graph`` (opportunity,
   account, primary quote and its contact through dot paths, contact roles as a child
   subquery) with ``WHERE Id IN (…)``, then every line of those deals' primary quotes with
   ``WHERE SBQQ__Quote__c IN (…)``. Each deal's ``DealGraph`` is the one ``fetch_deal_graph``
   would build (same fields, same models, lines in quote order).

The field lists come from ``deal_models.api_fields``, so the two extractors cannot drift apart.
A deal whose records do not parse, or that has no account, is returned as a problem (its
sentence) rather than failing the whole batch: a reconciliation reports it and goes on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError as PydanticValidationError

from dealbridge.connectors.salesforce.client import SalesforceClient
from dealbridge.connectors.salesforce.deal_graph import (
    ACCOUNT_REL,
    PRODUCT_REL,
    QUOTE_CONTACT_REL,
    QUOTE_REL,
    ROLE_CONTACT_REL,
    ROLES_REL,
)
from dealbridge.connectors.salesforce.deal_models import (
    Account,
    Contact,
    ContactRole,
    DealGraph,
    Opportunity,
    Product,
    Quote,
    QuoteLine,
    SalesforceRecord,
    api_fields,
)
from dealbridge.connectors.salesforce.soql import Soql, soql

GRAPH_BATCH = 200  # opportunities per graph query: ~4,500 characters of ids, well under §1.4
WON_PAGE = 2000  # the largest page Salesforce returns in one call (§1.2)
_CURSOR_SEPARATOR = "/"
M = TypeVar("M", bound=SalesforceRecord)


@dataclass(frozen=True)
class Window:
    """Won deals whose ``CloseDate`` is within ``since`` … ``until`` (both inclusive, optional)."""

    since: date | None = None
    until: date | None = None

    def label(self) -> str:
        """``<since>:<until>`` with ``*`` for an open end (names durable cursors)."""
        return f"{self.since or '*'}:{self.until or '*'}"


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in ``(CloseDate, Id)`` order: every deal at or before it has been seen."""

    close_date: str
    opportunity_id: str

    def text(self) -> str:
        """``YYYY-MM-DD/<Id>``: short enough for a ledger watermark row."""
        return f"{self.close_date}{_CURSOR_SEPARATOR}{self.opportunity_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor ``text()`` wrote.

        Raises:
            ValueError: Not a cursor.
        """
        close_date, _, opportunity_id = text.partition(_CURSOR_SEPARATOR)
        date.fromisoformat(close_date)
        if not opportunity_id:
            raise ValueError(f"not a backfill cursor: {text!r}")
        return cls(close_date, opportunity_id)


@dataclass(frozen=True)
class WonDeal:
    """One won opportunity as the listing query returns it."""

    opportunity_id: str
    account_id: str | None
    system_modstamp: str
    close_date: str

    @property
    def cursor(self) -> Cursor:
        """The position just after this deal."""
        return Cursor(self.close_date, self.opportunity_id)


@dataclass
class GraphBatch:
    """Deal graphs by opportunity id, and why the others could not be built."""

    graphs: dict[str, DealGraph] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)


def won_query(window: Window, after: Cursor | None, limit: int) -> Soql:
    """Step 1 of the module docstring: one page of won deals after ``after``."""
    where, values = _won_where(window, after)
    # Only fixed conditions with placeholders are spliced in; soql() quotes every value.
    template = (
        "SELECT Id, AccountId, SystemModstamp, CloseDate FROM Opportunity WHERE "  # noqa: S608
        f"{where} ORDER BY CloseDate, Id LIMIT {{limit}}"
    )
    return soql(template, limit=limit, **values)


def count_query(window: Window, after: Cursor | None = None) -> Soql:
    """How many won deals of the window lie after ``after`` (a progress bar's total)."""
    where, values = _won_where(window, after)
    return soql(f"SELECT COUNT() FROM Opportunity WHERE {where}", **values)  # noqa: S608


def _won_where(window: Window, after: Cursor | None) -> tuple[str, dict[str, Any]]:
    """The condition (a template with named holes) and its values."""
    conditions = ["IsWon = true"]
    values: dict[str, Any] = {}
    if window.since is not None:
        conditions.append("CloseDate >= {since}")
        values["since"] = window.since
    if window.until is not None:
        conditions.append("CloseDate <= {until}")
        values["until"] = window.until
    if after is not None:
        conditions.append("(CloseDate > {day} OR (CloseDate = {day} AND Id > {after_id}))")
        values["day"] = date.fromisoformat(after.close_date)
        values["after_id"] = after.opportunity_id
    return " AND ".join(conditions), values


async def count_won(client: SalesforceClient, window: Window, after: Cursor | None = None) -> int:
    """The number of won deals of the window after ``after`` (one call)."""
    return (await client.query(count_query(window, after))).total_size


async def won_page(
    client: SalesforceClient, window: Window, after: Cursor | None, limit: int = WON_PAGE
) -> list[WonDeal]:
    """Up to ``limit`` won deals after ``after``, in ``(CloseDate, Id)`` order (one call)."""
    rows = await client.query_all(won_query(window, after, limit))
    return [
        WonDeal(
            opportunity_id=str(row["Id"]),
            account_id=row.get("AccountId"),
            system_modstamp=str(row["SystemModstamp"]),
            close_date=str(row["CloseDate"]),
        )
        for row in rows
    ]


async def iter_won(
    client: SalesforceClient,
    window: Window,
    *,
    after: Cursor | None = None,
    page_size: int = WON_PAGE,
) -> AsyncIterator[list[WonDeal]]:
    """Every won deal of the window after ``after``, one page (one call) at a time."""
    while True:
        page = await won_page(client, window, after, page_size)
        if page:
            yield page
        if len(page) < page_size:
            return
        after = page[-1].cursor


def graph_query(opportunity_ids: Sequence[str], *, multi_currency: bool = True) -> Soql:
    """Step 2a: ``deal_graph.opportunity_query`` for many opportunities at once."""

    def fields(model: type[SalesforceRecord], prefix: str = "") -> list[str]:
        return [prefix + name for name in api_fields(model, multi_currency=multi_currency)]

    roles = ", ".join(fields(ContactRole) + fields(Contact, f"{ROLE_CONTACT_REL}."))
    select = [
        *fields(Opportunity),
        *fields(Account, f"{ACCOUNT_REL}."),
        *fields(Quote, f"{QUOTE_REL}."),
        *fields(Contact, f"{QUOTE_REL}.{QUOTE_CONTACT_REL}."),
        f"(SELECT {roles} FROM {ROLES_REL})",  # noqa: S608 - names from the models
    ]
    # Only identifiers from the models are spliced in; the ids go through soql()'s quoting.
    template = f"SELECT {', '.join(select)} FROM Opportunity WHERE Id IN {{}}"  # noqa: S608
    return soql(template, list(opportunity_ids))


def batch_lines_query(quote_ids: Sequence[str]) -> Soql:
    """Step 2b: the lines (with products) of many quotes; ``deal_graph.lines_query``'s fields."""
    select = [*api_fields(QuoteLine), *(f"{PRODUCT_REL}.{f}" for f in api_fields(Product))]
    template = (
        f"SELECT {', '.join(select)} FROM SBQQ__QuoteLine__c "  # noqa: S608 - model names
        "WHERE SBQQ__Quote__c IN {}"
    )
    return soql(template, list(quote_ids))


async def fetch_graphs(
    client: SalesforceClient,
    opportunity_ids: Sequence[str],
    *,
    multi_currency: bool = True,
    batch_size: int = GRAPH_BATCH,
) -> GraphBatch:
    """The deal graphs of ``opportunity_ids``: two queries per ``batch_size`` deals."""
    result = GraphBatch()
    ids = list(dict.fromkeys(opportunity_ids))
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        await _fetch_batch(client, chunk, multi_currency, result)
    return result


async def _fetch_batch(
    client: SalesforceClient, ids: list[str], multi_currency: bool, result: GraphBatch
) -> None:
    rows = await client.query_all(graph_query(ids, multi_currency=multi_currency))
    partial: dict[str, DealGraph] = {}
    for row in rows:
        opportunity_id = str(row.get("Id"))
        try:
            partial[opportunity_id] = graph_without_lines(row)
        except ValueError as problem:
            result.problems[opportunity_id] = str(problem)
    for missing in set(ids) - set(partial) - set(result.problems):
        result.problems[missing] = f"Salesforce has no Opportunity {missing} any more"
    quotes = {graph.quote.id: key for key, graph in partial.items() if graph.quote is not None}
    lines = await _lines_by_quote(client, list(quotes))
    for quote_id, opportunity_id in quotes.items():
        graph = partial.pop(opportunity_id)
        try:
            parsed = [_parse(QuoteLine, row) for row in lines.get(quote_id, [])]
        except ValueError as problem:
            result.problems[opportunity_id] = str(problem)
            continue
        result.graphs[opportunity_id] = graph.model_copy(
            update={"lines": sorted(parsed, key=line_order)}
        )
    result.graphs.update(partial)  # deals without a primary quote have no lines to read


async def _lines_by_quote(
    client: SalesforceClient, quote_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    if not quote_ids:
        return {}
    by_quote: dict[str, list[dict[str, Any]]] = {}
    for row in await client.query_all(batch_lines_query(quote_ids)):
        by_quote.setdefault(str(row.get("SBQQ__Quote__c")), []).append(row)
    return by_quote


def graph_without_lines(row: dict[str, Any]) -> DealGraph:
    """One opportunity row of ``graph_query`` as a graph (lines come from step 2b).

    Raises:
        ValueError: The opportunity has no account, or a record does not fit the models.
    """
    opportunity = _parse(Opportunity, row)
    account_row = row.get(ACCOUNT_REL)
    if not isinstance(account_row, dict):
        raise ValueError(f"Opportunity {opportunity.id} has no account; a deal needs a customer")
    quote_row = row.get(QUOTE_REL)
    roles = row.get(ROLES_REL) or {}
    quote = (
        _parse(Quote, quote_row) if isinstance(quote_row, dict) and quote_row.get("Id") else None
    )
    return DealGraph(
        opportunity=opportunity,
        account=_parse(Account, account_row),
        contact_roles=[_parse(ContactRole, role) for role in roles.get("records") or []],
        quote=quote,
    )


def line_order(line: QuoteLine) -> tuple[bool, Decimal, str]:
    """Quote order (``SBQQ__Number__c``, blanks last, ties by Id), as ``fetch_deal_graph``."""
    return (line.number is None, line.number or Decimal(0), line.id)


def _parse(model: type[M], row: dict[str, Any]) -> M:
    try:
        return model.model_validate(row)
    except PydanticValidationError as error:
        name = model.__name__
        raise ValueError(
            f"Salesforce sent a {name} {row.get('Id')} that does not fit the deal model: {error}"
        ) from None


async def still_won(
    client: SalesforceClient, opportunity_ids: Sequence[str], *, batch_size: int = 500
) -> set[str]:
    """Which of ``opportunity_ids`` are won opportunities today (one query per batch)."""
    ids = sorted(set(opportunity_ids))
    won: set[str] = set()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        query = soql("SELECT Id FROM Opportunity WHERE IsWon = true AND Id IN {}", chunk)
        won.update(str(row["Id"]) for row in await client.query_all(query))
    return won
