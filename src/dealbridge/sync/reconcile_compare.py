"""Planned against held: missing records, drifted fields, orphans and probable duplicates.

Pure functions over an ``Expectation`` (what the flow plans for the window's won deals) and an
``Actual`` (what SuiteQL returned), so every rule is tested without a network.

Field comparison follows SuiteQL's answers (contracts/netsuite.md §4, value typing UNCONFIRMED):
a reference compares as an internal id (a record of the same plan by the id NetSuite gave it);
numbers compare numerically, so ``"10.0"`` is ``10``; a boolean compares with ``T``/``F`` as
well as JSON booleans; an ISO date also matches NetSuite's ``M/D/YYYY`` display; empty text is
null. A reference to a record that is itself missing is not compared (the missing record is the
finding).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dealbridge.connectors.netsuite.suiteql import Row, as_bool
from dealbridge.core.records import PendingRef, RecordKey
from dealbridge.errors import UnexpectedResponseError
from dealbridge.mapping.diff import same_value
from dealbridge.sync.reconcile_expect import Expectation, Variant, comparable_fields
from dealbridge.sync.reconcile_report import Difference, Item

DUPLICATE_FIELDS: dict[str, tuple[str, str]] = {
    "customer": ("companyName", "email"),
    "contact": ("entityId", "email"),
}
"""Per entity type, the planned (name, e-mail) fields a look-alike may share with ours."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SKIP = object()  # a planned reference whose target does not exist: not compared


@dataclass
class Actual:
    """Our records as SuiteQL returned them, by type and external id."""

    rows: dict[str, dict[str, Row]] = field(default_factory=dict)

    def row(self, key: RecordKey) -> Row | None:
        """The row of ``key``, or None when NetSuite has no such record."""
        return self.rows.get(key.record_type, {}).get(key.external_id)

    def internal_id(self, key: RecordKey) -> str | None:
        """The internal id of ``key``, when it exists."""
        row = self.row(key)
        return None if row is None else _text(row.get("id"))

    def count(self) -> int:
        """How many of our records were read."""
        return sum(len(rows) for rows in self.rows.values())


def missing_items(expectation: Expectation, actual: Actual) -> list[Item]:
    """A ``missing`` finding per planned record NetSuite does not hold."""
    return [
        Item(
            category="missing",
            record_type=key.record_type,
            external_id=key.external_id,
            opportunities=expectation.owners(key),
            message=f"NetSuite has no {key.record_type} {key.external_id}, which the flow plans.",
        )
        for key in expectation.records
        if actual.row(key) is None
    ]


def drift_items(expectation: Expectation, actual: Actual) -> list[Item]:
    """A ``drift`` finding per held record that matches no deal's planned body fields."""
    items = []
    for key, variants in expectation.records.items():
        row = actual.row(key)
        if row is None:
            continue
        differences = closest_differences(variants, row, actual)
        if differences:
            names = ", ".join(difference.field for difference in differences)
            items.append(
                Item(
                    category="drift",
                    record_type=key.record_type,
                    external_id=key.external_id,
                    netsuite_id=_text(row.get("id")),
                    opportunities=expectation.owners(key),
                    differences=differences,
                    message=f"{key.record_type} {key.external_id} differs from the plan: {names}.",
                )
            )
    return items


def closest_differences(
    variants: list[Variant], row: Row, actual: Actual
) -> tuple[Difference, ...]:
    """Nothing when any variant matches; else the differences of the closest (latest on ties)."""
    best: tuple[Difference, ...] | None = None
    for variant in variants:
        found = differences(variant.operation.payload, row, actual)
        if not found:
            return ()
        if best is None or len(found) <= len(best):
            best = found
    return best or ()


def differences(payload: Mapping[str, Any], row: Row, actual: Actual) -> tuple[Difference, ...]:
    """Each comparable planned field whose column holds something else."""
    found = []
    for name, planned in sorted(comparable_fields(payload).items()):
        expected = expected_value(planned, actual)
        if expected is _SKIP:
            continue
        held = row.get(name.lower())
        if not matches(expected, held):
            found.append(Difference(name, expected, held))
    return tuple(found)


def expected_value(planned: Any, actual: Actual) -> Any:
    """The planned value as SuiteQL would show it (references as internal ids)."""
    if isinstance(planned, PendingRef):
        internal = actual.internal_id(planned.key)
        return _SKIP if internal is None else internal
    if isinstance(planned, Mapping):
        return _text(planned.get("id"))
    return planned


def matches(expected: Any, held: Any) -> bool:
    """Whether a SuiteQL value is the planned one, by the module docstring's rules."""
    if isinstance(expected, bool):
        try:
            return as_bool(held) is expected
        except UnexpectedResponseError:
            return False
    if isinstance(expected, str) and _ISO_DATE.match(expected) and isinstance(held, str):
        held = _iso(held)
    return same_value(expected, held)


def orphan_items(
    expectation: Expectation, actual: Actual, out_of_scope: Collection[RecordKey] = ()
) -> list[Item]:
    """Our records that no won deal of the window plans (minus ``out_of_scope`` ones)."""
    items = []
    for record_type, rows in sorted(actual.rows.items()):
        for external_id, row in sorted(rows.items()):
            key = RecordKey(record_type, external_id)
            if key in expectation.records or key in out_of_scope:
                continue
            items.append(
                Item(
                    category="orphan",
                    record_type=record_type,
                    external_id=external_id,
                    netsuite_id=_text(row.get("id")),
                    message=(
                        f"NetSuite holds {record_type} {external_id} with a dealbridge external "
                        "id, but no won deal plans it any more."
                    ),
                )
            )
    return items


def lookalike_values(expectation: Expectation, record_type: str) -> tuple[set[str], set[str]]:
    """The planned names and e-mails of our records of ``record_type`` (lower-cased)."""
    name_field, email_field = DUPLICATE_FIELDS[record_type]
    names: set[str] = set()
    emails: set[str] = set()
    for key in expectation.keys_of(record_type):
        for variant in expectation.records[key]:
            payload = variant.operation.payload
            names.update(_folded(payload.get(name_field)))
            emails.update(_folded(payload.get(email_field)))
    return names, emails


def duplicate_items(
    expectation: Expectation, record_type: str, lookalikes: list[Row]
) -> list[Item]:
    """A ``duplicate`` finding per look-alike, naming which of our records it resembles."""
    name_field, email_field = DUPLICATE_FIELDS[record_type]
    ours = _index(expectation, record_type, (name_field, email_field))
    items = []
    for row in lookalikes:
        name = _first(_folded(row.get(name_field.lower())))
        email = _first(_folded(row.get(email_field.lower())))
        matched = ours.get(("name", name)) or ours.get(("email", email))
        if matched is None:
            continue
        how = "name" if ("name", name) in ours else "e-mail"
        items.append(
            Item(
                category="duplicate",
                record_type=record_type,
                external_id=_text(row.get("externalid")),
                netsuite_id=_text(row.get("id")),
                opportunities=expectation.owners(matched),
                message=(
                    f"{record_type} {row.get('id')} has no dealbridge external id but the same "
                    f"{how} as {matched.external_id}; merge or mark it in NetSuite."
                ),
            )
        )
    return items


def _index(
    expectation: Expectation, record_type: str, fields: tuple[str, str]
) -> dict[tuple[str, str | None], RecordKey]:
    """``("name"|"email", folded value)`` → the first of our records carrying it."""
    index: dict[tuple[str, str | None], RecordKey] = {}
    for key in expectation.keys_of(record_type):
        for variant in expectation.records[key]:
            for kind, name in zip(("name", "email"), fields, strict=True):
                for value in _folded(variant.operation.payload.get(name)):
                    index.setdefault((kind, value), key)
    return index


def _folded(value: Any) -> set[str]:
    text = value.strip().lower() if isinstance(value, str) else ""
    return {text} if text else set()


def _first(values: set[str]) -> str | None:
    return next(iter(values), None)


def _iso(value: str) -> str:
    """NetSuite's date display as ``YYYY-MM-DD``; anything that is not a date as is."""
    found = suiteql_date(value)
    return found.isoformat() if found is not None else value


def suiteql_date(value: object) -> date | None:
    """A date as SuiteQL may show it: ``YYYY-MM-DD`` or ``M/D/YYYY`` (NetSuite's default)."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    found = _US_DATE.match(text)
    try:
        if found:
            month, day, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return date.fromisoformat(text[:10]) if _ISO_DATE.match(text[:10]) else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
