"""Closures for the language's operators, built once per compiled expression.

Each builder takes the operands' evaluators and returns one evaluator; the common case (two
floats or ints, a dict along a path) is tested first with exact type checks, which are the
cheapest tests Python has, and everything else falls to a slow path that either coerces
(a ``Decimal`` from a hook) or raises ``ExpressionError`` naming the operator and the types.

Semantics, documented in ``docs/mapping.md``:

* A path never fails: a missing key, a null, or a non-mapping anywhere along it gives null, because
  Salesforce sends null for every empty lookup (``line.SBQQ__Product__r`` of a line without
  product).
* Arithmetic with a null gives null (as in SQL), so a missing amount surfaces as a ``required``
  violation on the field instead of an error; ``+`` joins two texts; anything else mixed is an
  error. Booleans are not numbers.
* ``==``/``!=`` are Python equality (null equals only null). Ordering with a null is false;
  ordering text with a number is an error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from dealbridge.mapping.expression_errors import ExpressionError
from dealbridge.mapping.value_text import type_name

Evaluator = Callable[[Mapping[str, Any]], Any]

_FAST_NUMBERS = (int, float)
_CONTAINERS = (list, tuple, set, frozenset, dict)
_SYMBOLS = {
    operator.add: "+",
    operator.sub: "-",
    operator.mul: "*",
    operator.truediv: "/",
}
ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def step(value: Any, key: Any) -> Any:
    """One step along a path (``.key`` or ``[key]``); null when there is nothing there."""
    if type(value) is dict:
        try:
            return value.get(key)
        except TypeError:  # an unhashable index such as a list
            return None
    if value is None:  # an empty Salesforce lookup, before the slower checks
        return None
    if isinstance(value, list | tuple):
        return _item(value, key)
    if isinstance(value, Mapping):
        try:
            return value.get(key)
        except TypeError:
            return None
    return None


def _item(sequence: list[Any] | tuple[Any, ...], key: Any) -> Any:
    if type(key) is float and key.is_integer():
        key = int(key)
    if type(key) is not int:
        return None
    try:
        return sequence[key]
    except IndexError:
        return None


def path(root: str, keys: tuple[str | int, ...]) -> Evaluator:
    """``root.k1.k2…`` read from the scope; specialised by length because paths dominate."""
    if not keys:
        return lambda scope: scope.get(root)
    if len(keys) == 1:
        (key,) = keys

        def path1(scope: Mapping[str, Any]) -> Any:
            value = scope.get(root)
            return value.get(key) if type(value) is dict else step(value, key)

        return path1

    if len(keys) == 2:
        first, second = keys

        def path2(scope: Mapping[str, Any]) -> Any:
            value = scope.get(root)
            value = value.get(first) if type(value) is dict else step(value, first)
            return value.get(second) if type(value) is dict else step(value, second)

        return path2

    def path_n(scope: Mapping[str, Any]) -> Any:
        value = scope.get(root)
        for key in keys:
            if type(value) is dict:
                value = value.get(key)
            elif value is None:
                return None
            else:
                value = step(value, key)
        return value

    return path_n


def one_step(path: tuple[str, tuple[str | int, ...]] | None) -> tuple[str, str | int] | None:
    """``(root, key)`` of a path of one step (``line.code``), else None.

    Closures built on such a path read it inline, saving a call on the commonest expressions.
    """
    if path is None or len(path[1]) != 1:
        return None
    return path[0], path[1][0]


def attribute(base: Evaluator, key: str) -> Evaluator:
    """``(expr).key`` on a computed value (after an index or a call)."""
    return lambda scope: step(base(scope), key)


def index(base: Evaluator, key: Evaluator) -> Evaluator:
    """``expr[key]``: a list position (negative counts from the end) or a mapping key."""
    return lambda scope: step(base(scope), key(scope))


def arithmetic(op: Callable[[Any, Any], Any], left: Evaluator, right: Evaluator) -> Evaluator:
    """``+ - * /`` with null propagation; the fast path is two ints or floats."""

    def run(scope: Mapping[str, Any]) -> Any:
        x = left(scope)
        y = right(scope)
        if x is None or y is None:
            return None
        if type(x) in _FAST_NUMBERS and type(y) in _FAST_NUMBERS:
            if op is operator.truediv and not y:
                raise ExpressionError("division by zero")
            return op(x, y)
        return _arithmetic_slow(op, x, y)

    return run


def arithmetic_with(
    op: Callable[[Any, Any], Any],
    operand: Evaluator,
    fixed: Any,
    *,
    fixed_left: bool,
    read: tuple[str, str | int] | None = None,
) -> Evaluator:
    """``arithmetic`` with one side a literal, bound now: ``'SFPP-' + line.key``, ``x * 12``.

    Joining two texts, the usual way external ids are built, is tested first; a text prefix
    before a one-step path (``read``: its root and key) reads the path inline.
    """
    joins = op is operator.add and type(fixed) is str
    if fixed_left and joins and read is not None:
        root, key = read

        def join_path(scope: Mapping[str, Any]) -> Any:
            value = scope.get(root)
            y = value.get(key) if type(value) is dict else step(value, key)
            if type(y) is str:
                return fixed + y
            return combine(op, fixed, y)

        return join_path
    if fixed_left:

        def run_left(scope: Mapping[str, Any]) -> Any:
            y = operand(scope)
            if joins and type(y) is str:
                return fixed + y
            return combine(op, fixed, y)

        return run_left

    def run_right(scope: Mapping[str, Any]) -> Any:
        x = operand(scope)
        if joins and type(x) is str:
            return x + fixed
        return combine(op, x, fixed)

    return run_right


def combine(op: Callable[[Any, Any], Any], x: Any, y: Any) -> Any:
    """``x op y`` by the language's rules (what ``arithmetic`` evaluates)."""
    if x is None or y is None:
        return None
    if type(x) in _FAST_NUMBERS and type(y) in _FAST_NUMBERS:
        if op is operator.truediv and not y:
            raise ExpressionError("division by zero")
        return op(x, y)
    return _arithmetic_slow(op, x, y)


def _arithmetic_slow(op: Callable[[Any, Any], Any], x: Any, y: Any) -> Any:
    if op is operator.add and isinstance(x, str) and isinstance(y, str):
        return x + y
    if _is_number(x) and _is_number(y):
        x, y = _same_kind(x, y)
        if op is operator.truediv and not y:
            raise ExpressionError("division by zero")
        return op(x, y)
    raise ExpressionError(f"cannot apply '{_SYMBOLS[op]}' to {type_name(x)} and {type_name(y)}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def _same_kind(x: Any, y: Any) -> tuple[Any, Any]:
    """A ``Decimal`` meeting a float becomes a float: numbers in flows are floats."""
    if isinstance(x, Decimal) != isinstance(y, Decimal) and (
        isinstance(x, float) or isinstance(y, float)
    ):
        return float(x), float(y)
    return x, y


def negate(operand: Evaluator) -> Evaluator:
    """Unary minus; null stays null."""

    def run(scope: Mapping[str, Any]) -> Any:
        value = operand(scope)
        if value is None:
            return None
        if not _is_number(value):
            raise ExpressionError(f"cannot negate {type_name(value)}")
        return -value

    return run


def equality(negated: bool, left: Evaluator, right: Evaluator) -> Evaluator:
    """``==`` / ``!=``."""
    if negated:
        return lambda scope: left(scope) != right(scope)
    return lambda scope: left(scope) == right(scope)


def ordering(symbol: str, left: Evaluator, right: Evaluator) -> Evaluator:
    """``< <= > >=``; false when either side is null."""
    op = ORDERINGS[symbol]

    def run(scope: Mapping[str, Any]) -> Any:
        x = left(scope)
        y = right(scope)
        if x is None or y is None:
            return False
        try:
            return op(x, y)
        except TypeError:
            raise ExpressionError(
                f"cannot compare {type_name(x)} with {type_name(y)} using '{symbol}'"
            ) from None

    return run


def membership(negated: bool, item: Evaluator, container: Evaluator) -> Evaluator:
    """``in`` / ``not in`` on a list, a mapping's keys or text; a null container holds nothing."""

    def run(scope: Mapping[str, Any]) -> Any:
        return contains(container(scope), item(scope)) != negated

    return run


def constant_membership(negated: bool, item: Evaluator, values: list[Any]) -> Evaluator:
    """``in ['A', 'B']``: a frozenset when the literals allow it, for a one-hash test."""
    try:
        members = frozenset(values)
    except TypeError:
        return membership(negated, item, lambda scope: values)

    def run(scope: Mapping[str, Any]) -> Any:
        value = item(scope)
        try:
            return (value in members) != negated
        except TypeError:  # an unhashable value equals no hashable literal
            return negated

    return run


def contains(container: Any, value: Any) -> bool:
    """Python's ``in``, with the language's types and errors."""
    if container is None:
        return False
    if isinstance(container, str):
        if not isinstance(value, str):
            raise ExpressionError(f"cannot look for {type_name(value)} in text")
        return value in container
    if isinstance(container, _CONTAINERS):
        try:
            return value in container
        except TypeError:  # an unhashable value in a set or a mapping's keys
            return False
    raise ExpressionError(f"'in' needs a list or text on its right, got {type_name(container)}")


def both(left: Evaluator, right: Evaluator) -> Evaluator:
    """``and``: the left value when it is falsy, else the right (short-circuit, Python-like)."""

    def run(scope: Mapping[str, Any]) -> Any:
        value = left(scope)
        return right(scope) if value else value

    return run


def either(left: Evaluator, right: Evaluator) -> Evaluator:
    """``or``: the left value when it is truthy, else the right: ``name or 'Unknown'``."""

    def run(scope: Mapping[str, Any]) -> Any:
        value = left(scope)
        return value if value else right(scope)

    return run


def negation(operand: Evaluator) -> Evaluator:
    """``not``: always true or false."""
    return lambda scope: not operand(scope)
