"""The seeded rows use only fields, picklist values and lengths the emulator's schema knows.

The store loads seed rows without field checks (``RecordService.load``) except for unknown
names, so a value no real org would hold has to be caught here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dealbridge.connectors.salesforce.emulator import schema
from dealbridge.connectors.salesforce.emulator.schema_types import FieldType
from dealbridge.connectors.salesforce.emulator.seed import SeedOrg, generate_org

TEXT_TYPES = {FieldType.STRING, FieldType.TEXTAREA, FieldType.EMAIL, FieldType.PHONE,
              FieldType.URL}  # fmt: skip


@pytest.fixture(scope="module")
def org() -> SeedOrg:
    return generate_org(5, 200, today=date(2026, 6, 1))


def _values(org: SeedOrg, sobject: str) -> dict[str, set[Any]]:
    values: dict[str, set[Any]] = {}
    for row in org.records[sobject]:
        for name, value in row.items():
            values.setdefault(name, set()).add(value)
    return values


@pytest.mark.parametrize("sobject", list(generate_org(1, 0, today=date(2026, 1, 1)).records))
def test_every_seeded_value_fits_its_field(org: SeedOrg, sobject: str) -> None:
    defn = schema.sobject(sobject)
    assert defn is not None, sobject
    for name, values in _values(org, sobject).items():
        field = defn.field(name)
        assert field is not None, f"{sobject}.{name} is not in the schema"
        present = values - {None}
        if field.type is FieldType.PICKLIST:
            assert present <= set(field.picklist), (sobject, name, present - set(field.picklist))
        elif field.type in TEXT_TYPES and field.length:
            assert max(len(str(value)) for value in present or {""}) <= field.length
        elif field.type is FieldType.BOOLEAN:
            assert present <= {True, False}
        elif field.type is FieldType.DATE:
            assert all(date.fromisoformat(value) for value in present)
