"""``query`` and ``queryAll``: SOQL over the store, paged with locators (contracts §1.2, §1.3).

Both resources answer with and without a trailing slash (simple-salesforce sends
``…/query/?q=``), and both page through ``/query/<locator>-<n>`` — also for ``queryAll``, whose
locators Salesforce writes with ``/query/`` too (§1.2 [R5]).
"""

from __future__ import annotations

import re

from dealbridge.connectors.salesforce.emulator.cursors import batch_size
from dealbridge.connectors.salesforce.emulator.dispatch import RestCall, RestReply, router
from dealbridge.connectors.salesforce.emulator.soql_engine import SoqlError, execute_soql
from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError
from dealbridge.connectors.salesforce.models import MALFORMED_QUERY, QUERY_OPTIONS_HEADER

_QUERY_OPTIONS = QUERY_OPTIONS_HEADER.lower()


@router.route("GET", r"/(?P<kind>query|queryAll)/?")
def run_query(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET query?q=`` / ``queryAll?q=``: the first batch of a SOQL query's rows."""
    soql = call.params.get("q", "")
    if not soql.strip():
        # Wording observed in public error reports; UNCONFIRMED in the docs.
        raise SalesforceApiError(400, MALFORMED_QUERY, "A query string has to be specified")
    include_deleted = match.group("kind") == "queryAll"
    try:
        result = execute_soql(
            soql, call.state.store, api_version=call.api_version, include_deleted=include_deleted
        )
    except SoqlError as error:
        raise SalesforceApiError(400, error.error_code, error.message) from None
    batch = batch_size(call.headers.get(_QUERY_OPTIONS))
    page = call.state.cursors.first_page(result.records, result.total_size, batch, call.api_version)
    return RestReply(200, page)


@router.route("GET", r"/(?:query|queryAll)/(?P<locator>[^/]+)")
def query_more(call: RestCall, match: re.Match[str]) -> RestReply:
    """``GET query/<locator>-<n>``: the next batch of an open query (§1.2)."""
    return RestReply(200, call.state.cursors.next_page(match.group("locator")))
