"""Salesforce instants in one spelling, so equal instants give equal workflow ids.

Why: the same ``SystemModstamp`` arrives as ``2025-05-01T10:00:00.000Z`` in an Outbound Message
and as ``2025-05-01T10:00:00.000+0000`` from the REST API; a workflow id built from the raw text
would make one change two workflows. Every stamp is normalised to UTC with milliseconds and a
``Z`` (Salesforce keeps milliseconds, contracts/salesforce.md §4).
"""

from __future__ import annotations

from datetime import UTC, datetime

from dealbridge.errors import ValidationError


def parse_salesforce_instant(value: str | datetime) -> datetime:
    """An aware UTC datetime from a Salesforce datetime (text or datetime).

    Raises:
        ValidationError: The text is not an ISO 8601 instant with an offset.
    """
    instant = _parse(value) if isinstance(value, str) else value
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise _bad(instant.isoformat())
    return instant.astimezone(UTC)


def salesforce_instant(value: str | datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    instant = parse_salesforce_instant(value)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _parse(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise _bad(text) from None


def _bad(text: str) -> ValidationError:
    return ValidationError(
        f"{text!r} is not a Salesforce datetime with a time zone",
        record="Opportunity",
        field_path="SystemModstamp",
        rule="datetime",
    )
