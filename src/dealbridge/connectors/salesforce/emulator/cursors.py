"""Query result paging: batches, ``nextRecordsUrl`` locators and cut child lists (§1.2, §1.3).

A query's rows are kept server-side under a query locator (``01g…``, like Salesforce's); each
page answers ``{"totalSize","done","nextRecordsUrl"?,"records"}`` and the locator URL
``/services/data/vNN.0/query/<locator>-<n>`` names the next top-level row. The batch size is the
``Sforce-Query-Options`` hint (200 to 2000, default 2000); rows of child subqueries count toward
it (§1.2 [R4]), so a page of parents with many children holds fewer parents. A child list longer
than the batch is cut: it carries ``done:false`` and a locator of its own, fetched the same way
(§1.3; simple-salesforce does not follow it, dealbridge's client does).
"""

from __future__ import annotations

import secrets
import string
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from dealbridge.connectors.salesforce.emulator.wire import SalesforceApiError
from dealbridge.connectors.salesforce.models import (
    DATA_PATH,
    QUERY_BATCH_MAX,
    QUERY_BATCH_MIN,
    to_id18,
)

INVALID_QUERY_LOCATOR = "INVALID_QUERY_LOCATOR"
LOCATOR_PREFIX = "01g"  # the key prefix of query locators
MAX_CURSORS = 5000  # real cursors live 2 days (§1.2); the oldest go first here
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class _Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch_size: int
    api_version: str


def batch_size(options_header: str | None) -> int:
    """The batch size of ``Sforce-Query-Options: batchSize=N``, clamped to 200 to 2000.

    The header is a hint (§1.2): an out-of-range or unreadable value falls back to the nearest
    bound or the default instead of failing the query (Salesforce's reaction is UNCONFIRMED).
    """
    for option in (options_header or "").split(","):
        name, _, value = option.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(QUERY_BATCH_MIN, min(QUERY_BATCH_MAX, int(value.strip())))
    return QUERY_BATCH_MAX


def _is_child_result(value: Any) -> bool:
    return isinstance(value, dict) and "records" in value and "done" in value


class QueryCursors:
    """Open query locators of one emulator."""

    def __init__(self, max_cursors: int = MAX_CURSORS) -> None:
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._max = max_cursors
        self._lock = threading.Lock()

    def first_page(
        self, records: list[dict[str, Any]], total_size: int, batch: int, api_version: str
    ) -> dict[str, Any]:
        """The response of ``query``: the first batch, and a locator when there is more."""
        cursor = _Cursor(records, total_size, batch, api_version)
        body, _ = self._page(cursor, 0, None)
        return body

    def next_page(self, locator: str) -> dict[str, Any]:
        """The response of ``GET …/query/<locator>-<n>``.

        Raises:
            SalesforceApiError: 400 ``INVALID_QUERY_LOCATOR`` for an unknown or expired locator.
        """
        cursor_id, _, start = locator.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(cursor_id)
        if cursor is None or not start.isdigit() or int(start) > len(cursor.records):
            raise SalesforceApiError(400, INVALID_QUERY_LOCATOR, "invalid query locator")
        body, _ = self._page(cursor, int(start), cursor_id)
        return body

    def clear(self) -> None:
        """Forget every locator (a reset)."""
        with self._lock:
            self._cursors.clear()

    def _page(
        self, cursor: _Cursor, start: int, cursor_id: str | None
    ) -> tuple[dict[str, Any], int]:
        """One page from ``start`` and the rows it holds, children included."""
        rows: list[dict[str, Any]] = []
        weight = 0
        index = start
        while index < len(cursor.records):
            row, row_weight = self._shape(cursor.records[index], cursor)
            if rows and weight + row_weight > cursor.batch_size:
                break
            rows.append(row)
            weight += row_weight
            index += 1
        body: dict[str, Any] = {
            "totalSize": cursor.total_size,
            "done": index >= len(cursor.records),
        }
        if not body["done"]:
            cursor_id = cursor_id or self._register(cursor)
            body["nextRecordsUrl"] = f"{DATA_PATH}/v{cursor.api_version}/query/{cursor_id}-{index}"
        body["records"] = rows
        return body, weight

    def _shape(self, record: dict[str, Any], parent: _Cursor) -> tuple[dict[str, Any], int]:
        """A row with each child list cut to one batch; the row's weight (1 + child rows)."""
        shaped = dict(record)
        weight = 1
        for key, value in record.items():
            if _is_child_result(value):
                child = _Cursor(
                    list(value["records"]),
                    int(value.get("totalSize", len(value["records"]))),
                    parent.batch_size,
                    parent.api_version,
                )
                shaped[key], child_weight = self._page(child, 0, None)
                weight += child_weight
        return shaped, weight

    def _register(self, cursor: _Cursor) -> str:
        cursor_id = to_id18(LOCATOR_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(12)))
        with self._lock:
            self._cursors[cursor_id] = cursor
            while len(self._cursors) > self._max:
                self._cursors.popitem(last=False)
        return cursor_id
