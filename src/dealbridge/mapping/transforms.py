"""The named transforms a flow may use: in a ``transforms:`` list, after a pipe, or as a call.

``x | truncate(83)``, ``truncate(x, 83)`` and the pipeline stage ``truncate(83)`` are the same
call: the value comes first, then the arguments. Every transform is pure (same input, same
output, no side effects), so calls on constants are folded when the expression compiles.

Null in, null out: every transform except ``default`` and ``count`` passes ``null`` through
untouched, because Salesforce sends null for every empty field; the field's ``required`` rule then
reports the gap with the record and field named, instead of a type error deep in a pipeline.

Value maps (``'Monthly' → 'MONTHLY_BILLING'``) are not a transform: declare them as a static
lookup in the flow and write ``lookup('billing_frequency', line.SBQQ__BillingFrequency__c)`` —
the table then has a name, a default, case-insensitive keys and a place in ``flows check``.

Text, number and conversion transforms are here; dates are in ``date_transforms``, lists in
``list_transforms``. ``TRANSFORMS`` maps every registered name to its function.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from dealbridge.mapping import date_transforms, list_transforms
from dealbridge.mapping.expression_errors import TransformError
from dealbridge.mapping.transform_args import int_arg, text_arg
from dealbridge.mapping.value_text import display

_CURRENCY = re.compile(r"[A-Z]{3}")
_PHONE_DROP = re.compile(r"[^0-9+\-() ]")
_SLUG_DROP = re.compile(r"[^A-Za-z0-9_-]+")
_SPACES = re.compile(r" {2,}")
_TRUE_TEXT = frozenset({"true", "yes", "y", "1"})
_FALSE_TEXT = frozenset({"false", "no", "n", "0"})


def trim(value: Any) -> Any:
    """Remove leading and trailing whitespace: ``'  Acme  ' | trim`` → ``'Acme'``."""
    if type(value) is str:
        return value.strip()
    return None if value is None else text_arg("trim", value).strip()


def upper(value: Any) -> Any:
    """Upper-case text: ``'eur' | upper`` → ``'EUR'``."""
    if type(value) is str:
        return value.upper()
    return None if value is None else text_arg("upper", value).upper()


def lower(value: Any) -> Any:
    """Lower-case text: ``'Annual' | lower`` → ``'annual'``."""
    if type(value) is str:
        return value.lower()
    return None if value is None else text_arg("lower", value).lower()


def title(value: Any) -> Any:
    """Capitalise each word: ``'ACME corp' | title`` → ``'Acme Corp'``."""
    return None if value is None else text_arg("title", value).title()


def truncate(value: Any, length: Any) -> Any:
    """Keep at most ``length`` characters.

    ``account.Name | truncate(83)``. Only shortens; reporting the truncation is the job of a
    ``max_length`` rule with ``on_violation: truncate``, which says what was cut.
    """
    limit = int_arg("truncate", length)
    if limit < 0:
        raise TransformError("truncate", "expects a length of 0 or more", length)
    return None if value is None else text_arg("truncate", value)[:limit]


def default(value: Any, fallback: Any) -> Any:
    """The fallback when the value is null or empty text, else the value.

    ``contact.Phone | default('n/a')``.
    """
    return fallback if value is None or value == "" else value


def round_half_up(value: Any, places: Any = 2) -> Any:
    """Round to ``places`` decimals, halves away from zero: ``2.675 | round`` → ``2.68``.

    Finance rounds half up, not half to even (Python's ``round(2.675, 2)`` gives 2.67): the
    number is rounded as it is written (its shortest decimal form), with ``Decimal``. Returns a
    number; with ``round(0)`` a whole number.
    """
    digits = int_arg("round", places)
    if not -10 <= digits <= 10:
        raise TransformError("round", "expects between -10 and 10 places", places)
    if type(value) is float and digits > 0 and _has_at_most(value, digits):
        return value  # already short enough, as most prices are: skip Decimal
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TransformError("round", "expects a number", value)
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    try:
        rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise TransformError("round", "cannot round", value) from None
    return int(rounded) if digits <= 0 else float(rounded)


def _has_at_most(value: float, places: int) -> bool:
    """True when the float, as written, has no more than ``places`` decimals (and is finite)."""
    text = repr(value)
    dot = text.find(".")
    return dot >= 0 and "e" not in text and len(text) - dot - 1 <= places


def number(value: Any) -> Any:
    """Convert to a number (a float): ``'1250.50' | number`` → ``1250.5``."""
    if value is None:
        return None
    if isinstance(value, str):
        return _parse_number("number", value)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TransformError("number", "expects a number or numeric text", value)
    result = float(value)
    if not math.isfinite(result):
        raise TransformError("number", "expects a finite number", value)
    return result


def _parse_number(name: str, text: str) -> float:
    try:
        result = float(text.strip())
    except ValueError:
        raise TransformError(name, "expects numeric text", text) from None
    if not math.isfinite(result):
        raise TransformError(name, "expects a finite number", text)
    return result


def integer(value: Any) -> Any:
    """Convert to a whole number: ``12.0`` → ``12``, ``'7'`` → ``7``; ``2.5`` is an error.

    A fractional value is refused rather than cut: silently dropping a fraction of a quantity
    or an amount is exactly the kind of loss the mapping must not hide.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = _parse_number("integer", value)
    return int_arg("integer", value)


def string(value: Any) -> Any:
    """Convert to text as templates show it: ``12.0`` → ``'12'``, ``true`` → ``'true'``."""
    return None if value is None else display(value)


def boolean(value: Any) -> Any:
    """Convert to true/false from booleans, 0/1 and text true/false, yes/no, y/n, 1/0."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_TEXT:
            return True
        if text in _FALSE_TEXT:
            return False
    raise TransformError("bool", "expects true/false, yes/no or 1/0", value)


def split_name(value: Any, part: Any) -> Any:
    """One part of a full name, split at the last space; a single word is the last name.

    ``'Mary Ann Smith' | split_name('first')`` → ``'Mary Ann'``; ``split_name('last')`` →
    ``'Smith'``; ``'Cher' | split_name('first')`` → ``null`` (combine with ``default``).
    """
    if part not in ("first", "last"):
        raise TransformError("split_name", "expects 'first' or 'last'", part)
    if value is None:
        return None
    words = text_arg("split_name", value).split()
    if not words:
        return None
    if part == "last":
        return words[-1]
    return " ".join(words[:-1]) or None


def currency_code(value: Any) -> Any:
    """An ISO 4217 code: trimmed, upper-cased, exactly three letters: ``' usd'`` → ``'USD'``."""
    if value is None:
        return None
    code = text_arg("currency_code", value).strip().upper()
    if not _CURRENCY.fullmatch(code):
        raise TransformError("currency_code", "expects a three-letter currency code", value)
    return code


def email(value: Any) -> Any:
    """Trim and lower-case an email address (checking its shape is the ``email`` rule's job)."""
    return None if value is None else text_arg("email", value).strip().lower()


def phone(value: Any) -> Any:
    """Keep digits, ``+``, ``-``, parentheses and single spaces: ``'+1 (555) 010-9999 x'``."""
    if value is None:
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    kept = _PHONE_DROP.sub("", text_arg("phone", text))
    return _SPACES.sub(" ", kept).strip()


def digits(value: Any) -> Any:
    """Keep only the digits: ``'VAT GB-123 456'`` → ``'123456'``."""
    if value is None:
        return None
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return "".join(ch for ch in text_arg("digits", text) if "0" <= ch <= "9")


def slug(value: Any) -> Any:
    """Letters, digits, ``_`` and ``-`` only, for external ids.

    ``'Müller & Co.' | slug`` → ``'Muller-Co'``. Accents are dropped (``ü`` → ``u``); every
    other run of characters becomes one ``-``.
    """
    if value is None:
        return None
    text = display(value) if isinstance(value, int | float) else text_arg("slug", value)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_DROP.sub("-", ascii_text).strip("-")


TRANSFORMS: dict[str, Callable[..., Any]] = {
    "trim": trim,
    "upper": upper,
    "lower": lower,
    "title": title,
    "truncate": truncate,
    "default": default,
    "round": round_half_up,
    "number": number,
    "integer": integer,
    "string": string,
    "bool": boolean,
    "split_name": split_name,
    "currency_code": currency_code,
    "email": email,
    "phone": phone,
    "digits": digits,
    "slug": slug,
    **date_transforms.DATE_TRANSFORMS,
    **list_transforms.LIST_TRANSFORMS,
}
