"""Date transforms: ``date``, ``datetime_utc``, ``add_months``, ``add_days``.

Input is what Salesforce sends — ``'2024-03-01'`` for a date field,
``'2013-05-20T20:49:32.000+0000'`` for a datetime (``Z``, ``+00:00`` and other offsets are
accepted too) — or a ``date``/``datetime`` object from a hook. Datetimes with an offset are
converted to UTC before anything else; a datetime without one is taken as UTC. Results are text,
so transforms chain:
``quote.SBQQ__StartDate__c | add_months(12) | add_days(-1) | date('%m/%d/%Y')``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from typing import Any

from dealbridge.mapping.expression_errors import TransformError
from dealbridge.mapping.transform_args import int_arg, text_arg

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_UTC = "%Y-%m-%dT%H:%M:%SZ"
_DATE_ONLY_LENGTH = len("2024-03-01")


def parse_moment(name: str, value: Any) -> dt.date | dt.datetime:
    """A date or a UTC datetime from text or a date object; ``TransformError`` otherwise."""
    if isinstance(value, dt.datetime):
        return _utc(value)
    if isinstance(value, dt.date):
        return value
    text = text_arg(name, value).strip()
    try:
        if len(text) == _DATE_ONLY_LENGTH:
            return dt.date.fromisoformat(text)
        return _utc(dt.datetime.fromisoformat(text))
    except ValueError:
        raise TransformError(name, "expects an ISO date or datetime", value) from None


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _day(name: str, value: Any) -> dt.date:
    moment = parse_moment(name, value)
    return moment.date() if isinstance(moment, dt.datetime) else moment


def date(value: Any, fmt: Any = ISO_DATE) -> Any:
    """The date, formatted with ``strftime`` codes (default ``%Y-%m-%d``).

    ``'2013-05-20T20:49:32.000+0000' | date`` → ``'2013-05-20'``;
    ``'2024-03-01' | date('%d/%m/%Y')`` → ``'01/03/2024'``. A datetime gives its UTC date.
    """
    pattern = text_arg("date", fmt)
    if value is None:
        return None
    try:
        return _day("date", value).strftime(pattern)
    except ValueError:
        raise TransformError("date", "cannot format with this pattern", fmt) from None


def datetime_utc(value: Any) -> Any:
    """ISO 8601 in UTC, to the second: ``'2013-05-20T22:49:32+02:00'`` → ``'2013-05-20T20:49:32Z'``.

    A date becomes midnight UTC of that day.
    """
    if value is None:
        return None
    moment = parse_moment("datetime_utc", value)
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day, tzinfo=dt.UTC)
    return moment.strftime(ISO_DATETIME_UTC)


def add_months(value: Any, months: Any) -> Any:
    """The date ``months`` later (earlier if negative), as ``YYYY-MM-DD``.

    The day is kept when the target month has it, else it becomes the month's last day:
    ``'2024-01-31' | add_months(1)`` → ``'2024-02-29'``. A 12-month term starting on the 1st
    ends on ``start | add_months(12) | add_days(-1)``.
    """
    count = int_arg("add_months", months)
    if value is None:
        return None
    day = _day("add_months", value)
    index = day.year * 12 + day.month - 1 + count
    year, month = divmod(index, 12)
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise TransformError("add_months", "goes past the supported years", months)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last)).isoformat()


def add_days(value: Any, days: Any) -> Any:
    """The date ``days`` later (earlier if negative), as ``YYYY-MM-DD``."""
    count = int_arg("add_days", days)
    if value is None:
        return None
    try:
        return (_day("add_days", value) + dt.timedelta(days=count)).isoformat()
    except OverflowError:
        raise TransformError("add_days", "goes past the supported years", days) from None


DATE_TRANSFORMS: dict[str, Callable[..., Any]] = {
    "date": date,
    "datetime_utc": datetime_utc,
    "add_months": add_months,
    "add_days": add_days,
}
