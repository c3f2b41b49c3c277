"""Fetch one won deal's graph in at most two API calls (contracts/salesforce.md §4.1).

Why the two-call variant of §4.1 rather than the single nested query: nested subqueries two levels
deep (opportunity → quotes → lines) need API v58+, and there the lines page *inside* a child result.
The two-call form works on every version, and the lines, queried at top level, page like any query
(one call up to 2,000 lines). Call 1 reads the opportunity with its account, contact roles (with
contacts) and primary quote (with its primary contact) through dot paths and one child subquery;
call 2 reads the primary quote's lines with their products. No primary quote: one call.

``CurrencyIsoCode`` exists only in multi-currency orgs (§4; anywhere else selecting it is
``INVALID_FIELD``), so callers say which kind of org they talk to.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError as PydanticValidationError

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.client import SalesforceClient
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
from dealbridge.connectors.salesforce.errors import SYSTEM
from dealbridge.connectors.salesforce.soql import Soql, soql
from dealbridge.errors import NotFoundError, UnexpectedResponseError, ValidationError

# Relationship names used by the queries (§4): parent lookups and the one child relationship.
ACCOUNT_REL = "Account"
QUOTE_REL = "SBQQ__PrimaryQuote__r"
QUOTE_CONTACT_REL = "SBQQ__PrimaryContact__r"
ROLES_REL = "OpportunityContactRoles"
ROLE_CONTACT_REL = "Contact"
PRODUCT_REL = "SBQQ__Product__r"

DEAL_FIELDS: dict[str, tuple[str, ...]] = {
    "Opportunity": api_fields(Opportunity),
    "Account": api_fields(Account),
    "OpportunityContactRole": api_fields(ContactRole),
    "Contact": api_fields(Contact),
    "SBQQ__Quote__c": api_fields(Quote),
    "SBQQ__QuoteLine__c": api_fields(QuoteLine),
    "Product2": api_fields(Product),
}
"""Every field the deal graph reads, by sObject (for the Outbound Message and SFDX checks)."""

DEAL_RELATIONSHIPS: dict[str, tuple[str, ...]] = {
    "Opportunity": (ACCOUNT_REL, QUOTE_REL, ROLES_REL),
    "SBQQ__Quote__c": (QUOTE_CONTACT_REL,),
    "OpportunityContactRole": (ROLE_CONTACT_REL,),
    "SBQQ__QuoteLine__c": (PRODUCT_REL,),
}
"""Every relationship name the queries follow, by the sObject it starts from."""

M = TypeVar("M", bound=SalesforceRecord)


def opportunity_query(opportunity_id: str, *, multi_currency: bool = True) -> Soql:
    """Call 1: the opportunity, account, contact roles + contacts and the primary quote."""
    return soql(_opportunity_template(multi_currency), opportunity_id)


@functools.cache
def _opportunity_template(multi_currency: bool) -> str:
    """``opportunity_query``'s SOQL with a hole for the id: the same text for every deal."""

    def fields(model: type[SalesforceRecord], prefix: str = "") -> list[str]:
        return [prefix + name for name in api_fields(model, multi_currency=multi_currency)]

    contact = f"{ROLE_CONTACT_REL}."
    roles = ", ".join(fields(ContactRole) + fields(Contact, contact))
    select = [
        *fields(Opportunity),
        *fields(Account, f"{ACCOUNT_REL}."),
        *fields(Quote, f"{QUOTE_REL}."),
        *fields(Contact, f"{QUOTE_REL}.{QUOTE_CONTACT_REL}."),
        f"(SELECT {roles} FROM {ROLES_REL})",  # noqa: S608 - names from the models
    ]
    # Only identifiers from the models are spliced in; the id goes through soql()'s quoting.
    return f"SELECT {', '.join(select)} FROM Opportunity WHERE Id = {{}}"  # noqa: S608


def lines_query(quote_id: str) -> Soql:
    """Call 2: the quote's lines with their products, in quote order (§4.1)."""
    return soql(_lines_template(), quote_id)


@functools.cache
def _lines_template() -> str:
    """``lines_query``'s SOQL with a hole for the quote's id."""
    select = [*api_fields(QuoteLine), *(f"{PRODUCT_REL}.{f}" for f in api_fields(Product))]
    return (
        f"SELECT {', '.join(select)} FROM SBQQ__QuoteLine__c "  # noqa: S608 - as above
        "WHERE SBQQ__Quote__c = {} ORDER BY SBQQ__Number__c"
    )


async def fetch_deal_graph(
    client: SalesforceClient, opportunity_id: str, *, multi_currency: bool = True
) -> DealGraph:
    """The deal graph of one opportunity, in one or two API calls.

    Raises:
        NotFoundError: No opportunity has this id (or it is deleted).
        ValidationError: The id is malformed, or the opportunity has no account.
        UnexpectedResponseError: A record did not parse into the models.
    """
    _check_id(opportunity_id)
    query = opportunity_query(opportunity_id, multi_currency=multi_currency)
    rows = await client.query_all(query)
    if not rows:
        raise NotFoundError(
            f"Salesforce has no Opportunity {opportunity_id}",
            system=SYSTEM,
            operation="GET query Opportunity",
            code=models.NOT_FOUND,
            context={"opportunity_id": opportunity_id},
        )
    graph = _graph(rows[0], opportunity_id)
    if graph.quote is None:
        return graph
    lines = await client.query_all(lines_query(graph.quote.id))
    parsed = [_parse(QuoteLine, row, f"SBQQ__QuoteLine__c {row.get('Id')}") for row in lines]
    return graph.model_copy(update={"lines": sorted(parsed, key=_line_order)})


def _graph(row: dict[str, Any], opportunity_id: str) -> DealGraph:
    """Call 1's record as a graph without lines."""
    opportunity = _parse(Opportunity, row, f"Opportunity {opportunity_id}")
    account_row = row.get(ACCOUNT_REL)
    if not isinstance(account_row, dict):
        raise ValidationError(
            f"Opportunity {opportunity_id} has no account; a deal needs a customer",
            record=f"Opportunity {opportunity_id}",
            field_path="AccountId",
            rule="required",
        )
    quote_row = row.get(QUOTE_REL)
    roles = row.get(ROLES_REL) or {}
    return DealGraph(
        opportunity=opportunity,
        account=_parse(Account, account_row, f"Account {opportunity.account_id}"),
        contact_roles=[
            _parse(ContactRole, role, f"OpportunityContactRole {role.get('Id')}")
            for role in roles.get("records") or []
        ],
        quote=_parse(Quote, quote_row, f"SBQQ__Quote__c {opportunity.primary_quote_id}")
        if isinstance(quote_row, dict) and quote_row.get("Id")
        else None,
    )


def _parse(model: type[M], row: dict[str, Any], record: str) -> M:
    try:
        return model.model_validate(row)
    except PydanticValidationError as exc:
        raise UnexpectedResponseError(
            f"Salesforce sent a {record} that does not fit the deal model: {exc}",
            system=SYSTEM,
            operation=f"parse {record}",
        ) from None


def _line_order(line: QuoteLine) -> tuple[bool, Decimal, str]:
    """Quote order (``SBQQ__Number__c``), ties and blanks settled by Id, so output is stable."""
    return (line.number is None, line.number or Decimal(0), line.id)


def _check_id(opportunity_id: str) -> None:
    if not models.is_salesforce_id(opportunity_id):
        raise ValidationError(
            f"{opportunity_id!r} is not a Salesforce Opportunity id",
            record="Opportunity",
            field_path="Id",
            rule="salesforce_id",
        )
