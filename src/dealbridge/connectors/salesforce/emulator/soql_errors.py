r"""SOQL errors worded and positioned as Salesforce words them (contracts/salesforce.md §1.8).

A query error's message quotes the statement around the fault, puts a caret under it, and
names the row and column, then the reason::

    \nSELECT Bogus FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Bogus' …

Observed in public error logs; how much of a long line Salesforce quotes is UNCONFIRMED: here
up to 40 characters before the fault and 60 after, cut at a space, which keeps every
short statement whole.
"""

from __future__ import annotations

from dealbridge.connectors.salesforce import models
from dealbridge.connectors.salesforce.emulator.soql_ast import Position

INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"

_WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."
_BEFORE = 40
_AFTER = 60


class SoqlError(Exception):
    """A query Salesforce would refuse with HTTP 400.

    Attributes:
        error_code: ``MALFORMED_QUERY``, ``INVALID_FIELD``, ``INVALID_TYPE``,
            ``INVALID_QUERY_FILTER_OPERATOR`` or ``NUMBER_OUTSIDE_VALID_RANGE``.
        message: The ``message`` of the REST error body, verbatim.
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)  # every arg to super: errors must pickle
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.error_code}: {self.message}"


def positioned(soql: str, pos: Position, reason: str) -> str:
    """``reason`` framed with the quoted statement, a caret and ``ERROR at Row:r:Column:c``."""
    lines = soql.split("\n")
    row = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
    start, end = _window(row, pos.column - 1)
    caret = " " * (pos.column - 1 - start) + "^"
    return f"\n{row[start:end]}\n{caret}\nERROR at Row:{pos.line}:Column:{pos.column}\n{reason}"


def _window(row: str, at: int) -> tuple[int, int]:
    """The slice of ``row`` quoted around offset ``at``, cut at word boundaries."""
    start = 0
    if at > _BEFORE:
        cut = row.find(" ", at - _BEFORE, at)
        start = cut + 1 if cut >= 0 else at - _BEFORE
    end = len(row)
    if end - at > _AFTER:
        cut = row.find(" ", at + _AFTER)
        end = cut if cut >= 0 else end
    return start, end


def malformed(soql: str, pos: Position, reason: str) -> SoqlError:
    """A MALFORMED_QUERY at ``pos``."""
    return SoqlError(models.MALFORMED_QUERY, positioned(soql, pos, reason))


def unexpected_token(soql: str, pos: Position, token: str) -> SoqlError:
    """The parser's answer to a token where the grammar allows none of its kind."""
    return malformed(soql, pos, f"unexpected token: '{token}'")


def no_such_column(soql: str, pos: Position, column: str, entity: str) -> SoqlError:
    """INVALID_FIELD for an unknown field (the wording of §1.8)."""
    reason = (
        f"No such column '{column}' on entity '{entity}'. If you are attempting to use a custom "
        f"field, be sure to append the '__c' after the custom field name. {_WSDL_HINT}"
    )
    return SoqlError(models.INVALID_FIELD, positioned(soql, pos, reason))


def bad_relationship(soql: str, pos: Position, name: str) -> SoqlError:
    """INVALID_FIELD for a dot path through something that is not a parent relationship."""
    reason = (
        f"Didn't understand relationship '{name}' in field path. If you are attempting to use a "
        f"custom relationship, be sure to append the '__r' after the custom relationship name. "
        f"{_WSDL_HINT}"
    )
    return SoqlError(models.INVALID_FIELD, positioned(soql, pos, reason))


def bad_child_relationship(soql: str, pos: Position, name: str) -> SoqlError:
    """INVALID_TYPE for a subquery FROM that is not a child relationship of its parent."""
    reason = (
        f"Didn't understand relationship '{name}' in FROM part of query call. If you are "
        f"attempting to use a custom relationship, be sure to append the '__r' after the custom "
        f"relationship name. {_WSDL_HINT}"
    )
    return SoqlError(models.INVALID_TYPE, positioned(soql, pos, reason))


def unsupported_sobject(soql: str, pos: Position, name: str) -> SoqlError:
    """INVALID_TYPE for a FROM naming no object of the org."""
    reason = (
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, "
        f"be sure to append the '__c' after the entity name. {_WSDL_HINT}"
    )
    return SoqlError(models.INVALID_TYPE, positioned(soql, pos, reason))


def invalid_field(soql: str, pos: Position, reason: str) -> SoqlError:
    """Any other INVALID_FIELD (wrong literal type, unfilterable field, duplicate field)."""
    return SoqlError(models.INVALID_FIELD, positioned(soql, pos, reason))


def invalid_operator(soql: str, pos: Position, reason: str) -> SoqlError:
    """INVALID_QUERY_FILTER_OPERATOR: an operator or value the field's type does not take."""
    return SoqlError(INVALID_QUERY_FILTER_OPERATOR, positioned(soql, pos, reason))
