"""Closures calling registered functions: the ``call(…)`` and ``value | transform(…)`` nodes.

Built once per compiled call by ``expression_compiler``. Literal arguments (``truncate(x, 60)``,
the table of ``lookup('currency', x)``) are bound when the closure is made rather than evaluated
on every call, the usual shapes — one or two arguments, one of them literal — are unrolled, and
a key that is a one-step path (``lookup('item', line.code)``) is read inline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dealbridge.mapping import expression_operators as ops
from dealbridge.mapping.expression_operators import Evaluator
from dealbridge.mapping.functions import LOOKUP_SCOPE_KEY, RegisteredFunction, concat, lookup
from dealbridge.mapping.transforms import truncate
from dealbridge.mapping.value_text import display

if TYPE_CHECKING:
    from dealbridge.mapping.expression_compiler import Compiled


def shareable(node: Compiled) -> bool:
    """Not a constant, or a constant that is safe to share between evaluations (not a list)."""
    return not node.is_constant or type(node.constant) in _SCALARS


_SCALARS = (str, int, float, bool, type(None))


def caller(function: RegisteredFunction, args: list[Compiled]) -> Evaluator:
    """A closure calling ``function`` with evaluated arguments.

    Literal arguments (``truncate(x, 60)``, the table of ``lookup('currency', x)``) are bound
    now rather than evaluated each time, and the usual shapes — one or two arguments, one of
    them literal — are unrolled.
    """
    fn = function.fn
    if fn is concat:
        return _concat_caller(args)
    if fn is truncate and len(args) == 2 and _length(args[1]) is not None:
        return _truncate_caller(args[0], args[1].constant)
    if function.wants_scope:
        if len(args) == 2 and args[0].is_constant and shareable(args[0]):  # lookup('t', key)
            return _table_caller(fn, args[0].constant, args[1])
        fns = tuple(arg.fn for arg in args)
        return lambda scope: fn(scope, *[arg(scope) for arg in fns])
    if len(args) == 1:
        only = args[0].fn
        return lambda scope: fn(only(scope))
    if len(args) == 2 and shareable(args[0]) and shareable(args[1]):
        return _pair_caller(fn, args[0], args[1])
    if not all(shareable(arg) for arg in args):
        fns = tuple(arg.fn for arg in args)
        return lambda scope: fn(*[arg(scope) for arg in fns])
    parts = tuple((None, arg.constant) if arg.is_constant else (arg.fn, None) for arg in args)
    return lambda scope: fn(*[value if get is None else get(scope) for get, value in parts])


def _pair_caller(fn: Callable[..., Any], first: Compiled, second: Compiled) -> Evaluator:
    """``fn(a, b)``, the common ``value | transform(arg)``, with a literal side bound."""
    if second.is_constant and not first.is_constant:
        evaluate, bound = first.fn, second.constant
        return lambda scope: fn(evaluate(scope), bound)
    if first.is_constant and not second.is_constant:
        bound, evaluate = first.constant, second.fn
        return lambda scope: fn(bound, evaluate(scope))
    left, right = first.fn, second.fn
    return lambda scope: fn(left(scope), right(scope))


def _table_caller(fn: Callable[..., Any], table: Any, key: Compiled) -> Evaluator:
    """``lookup('table', key)``: the scope, the literal table, the key (a path read inline).

    The built-in ``lookup`` is called through: its resolver from the scope gets the table and
    the key directly; the function itself only runs to raise its own error when there is none.
    """
    read = ops.one_step(key.path)
    if read is None:
        evaluate = key.fn
        return lambda scope: fn(scope, table, evaluate(scope))
    root, step = read
    if fn is not lookup or type(table) is not str:

        def call(scope: Mapping[str, Any]) -> Any:
            value = scope.get(root)
            value = value.get(step) if type(value) is dict else ops.step(value, step)
            return fn(scope, table, value)

        return call

    def resolve(scope: Mapping[str, Any]) -> Any:
        value = scope.get(root)
        value = value.get(step) if type(value) is dict else ops.step(value, step)
        resolver = scope.get(LOOKUP_SCOPE_KEY)
        if callable(resolver):
            return resolver(table, value)
        return fn(scope, table, value)

    return resolve


def _concat_caller(args: list[Compiled]) -> Evaluator:
    """``concat(…)``: literals shown now, one-step paths read inline, as ``concat`` shows them."""
    parts = tuple(_concat_part(arg) for arg in args)

    def join(scope: Mapping[str, Any]) -> str:
        texts = []
        for part in parts:
            if type(part) is str:
                texts.append(part)
                continue
            if type(part) is tuple:
                value = scope.get(part[0])
                value = value.get(part[1]) if type(value) is dict else ops.step(value, part[1])
            else:
                value = part(scope)  # type: ignore[operator]
            texts.append(value if type(value) is str else display(value))
        return "".join(texts)

    return join


def _concat_part(arg: Compiled) -> str | tuple[str, str | int] | Evaluator:
    """A literal as its text, a one-step path as ``(root, key)``, else the evaluator."""
    if arg.is_constant:
        return display(arg.constant)
    return ops.one_step(arg.path) or arg.fn


def _length(node: Compiled) -> int | None:
    """A literal length ``truncate`` accepts as it is, else None."""
    if not node.is_constant or type(node.constant) is not int or node.constant < 0:
        return None
    return int(node.constant)


def _truncate_caller(argument: Compiled, length: int) -> Evaluator:
    """``truncate(x, 60)``: text is cut here; anything else goes to ``truncate`` to judge."""
    read = ops.one_step(argument.path)
    if read is not None:
        root, key = read

        def cut_path(scope: Mapping[str, Any]) -> Any:
            value = scope.get(root)
            value = value.get(key) if type(value) is dict else ops.step(value, key)
            return value[:length] if type(value) is str else truncate(value, length)

        return cut_path
    evaluate = argument.fn

    def cut(scope: Mapping[str, Any]) -> Any:
        value = evaluate(scope)
        return value[:length] if type(value) is str else truncate(value, length)

    return cut
