"""Lark trees to Python closures: the compile step of the expression language.

Each tree node becomes one closure over its children's closures, built once; evaluating is then
plain nested calls with no tree walk, no dispatch on node kinds and no dictionary of handlers.
Sub-expressions made only of literals and pure functions are folded to constants here, so
``'%Y' | upper`` costs nothing at run time and a constant that can never work
(``'abc' | integer``) is an error when the flow loads, not when the first deal arrives.

The compiler also records what static checks need: the scope names read (``names``), the
literal paths (``paths``, e.g. ``('const', 'subsidiary_field')``), the functions called and
the literal table names given to ``lookup``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any

from lark import Token, Tree

from dealbridge.errors import DealbridgeError
from dealbridge.mapping import expression_operators as ops
from dealbridge.mapping.expression_calls import caller, shareable
from dealbridge.mapping.expression_errors import ExpressionError
from dealbridge.mapping.expression_operators import Evaluator
from dealbridge.mapping.functions import (
    FunctionRegistry,
    RegisteredFunction,
)

MAX_DEPTH = 100
_NOT_CONSTANT: Any = object()
_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t"}
_ARITHMETIC = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
}


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled node: its evaluator, its value when constant, its path when a plain path."""

    fn: Evaluator
    constant: Any = _NOT_CONSTANT
    path: tuple[str, tuple[str | int, ...]] | None = None

    @property
    def is_constant(self) -> bool:
        """True when the value is known without a scope."""
        return self.constant is not _NOT_CONSTANT


def constant(value: Any) -> Compiled:
    """A node always worth ``value`` (lists are copied per evaluation: callers may mutate)."""
    if isinstance(value, list):
        return Compiled(lambda scope: list(value), value)
    return Compiled(lambda scope: value, value)


@dataclass
class Compiler:
    """Compiles one expression's tree; collects the facts static checks need."""

    source: str
    registry: FunctionRegistry
    names: set[str] = field(default_factory=set)
    paths: set[tuple[str | int, ...]] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    lookups: set[str] = field(default_factory=set)
    _depth: int = 0

    def compile(self, node: Tree[Token] | Token) -> Compiled:
        """The closure for ``node`` and everything below it."""
        if self._depth >= MAX_DEPTH:
            raise self._error(f"the expression nests deeper than {MAX_DEPTH} levels", node)
        self._depth += 1
        try:
            kind = node.data if isinstance(node, Tree) else node.type
            handler: Callable[[Any], Compiled] = getattr(self, f"_{kind}")
            return handler(node)
        finally:
            self._depth -= 1

    def stage(self, tree: Tree[Token]) -> tuple[RegisteredFunction, list[Compiled]]:
        """A pipeline stage ``name(arg, …)``: the function and its compiled extra arguments."""
        name, call_args = tree.children
        assert isinstance(name, Token)  # noqa: S101 - the grammar guarantees it
        args = self._arguments(call_args)
        # the table of a ``lookup`` stage is the runtime value: no literal to record
        return self._function(name, len(args) + 1, [], piped=True), args

    # --- leaves -------------------------------------------------------------------------

    def _name(self, tree: Tree[Token]) -> Compiled:
        root = str(tree.children[0])
        self.names.add(root)
        self.paths.add((root,))
        return Compiled(ops.path(root, ()), path=(root, ()))

    def _string(self, tree: Tree[Token]) -> Compiled:
        token = tree.children[0]
        assert isinstance(token, Token)  # noqa: S101 - the grammar guarantees it
        return constant(self._unescape(token))

    def _integer(self, tree: Tree[Token]) -> Compiled:
        try:
            return constant(int(str(tree.children[0])))
        except ValueError:  # more digits than Python converts
            raise self._error("the number is too long", tree) from None

    def _decimal(self, tree: Tree[Token]) -> Compiled:
        return constant(float(str(tree.children[0])))

    def _true(self, tree: Tree[Token]) -> Compiled:
        return constant(True)

    def _false(self, tree: Tree[Token]) -> Compiled:
        return constant(False)

    def _null(self, tree: Tree[Token]) -> Compiled:
        return constant(None)

    def _list(self, tree: Tree[Token]) -> Compiled:
        items = self._items(tree.children[0])
        if all(item.is_constant for item in items):
            return constant([item.constant for item in items])
        fns = tuple(item.fn for item in items)
        return Compiled(lambda scope: [fn(scope) for fn in fns])

    # --- paths --------------------------------------------------------------------------

    def _attr(self, tree: Tree[Token]) -> Compiled:
        base = self.compile(tree.children[0])
        key = str(tree.children[1])
        if base.path is not None:
            return self._longer_path(base.path, key)
        return self._fold(ops.attribute(base.fn, key), [base], tree)

    def _index(self, tree: Tree[Token]) -> Compiled:
        base = self.compile(tree.children[0])
        key = self.compile(tree.children[1])
        if base.path is not None and type(key.constant) in (str, int):
            return self._longer_path(base.path, key.constant)
        return self._fold(ops.index(base.fn, key.fn), [base, key], tree)

    def _longer_path(self, path: tuple[str, tuple[str | int, ...]], key: str | int) -> Compiled:
        """``a.b`` then ``.c`` or ``[0]``: one closure walks the whole path."""
        root, keys = path
        keys = (*keys, key)
        self.paths.add((root, *keys))
        return Compiled(ops.path(root, keys), path=(root, keys))

    # --- operators ----------------------------------------------------------------------

    def _binary(self, tree: Tree[Token]) -> Compiled:
        left = self.compile(tree.children[0])
        right = self.compile(tree.children[1])
        op = _ARITHMETIC[str(tree.data)]
        if left.is_constant != right.is_constant and shareable(left) and shareable(right):
            operand, fixed = (right, left) if left.is_constant else (left, right)
            fn = ops.arithmetic_with(
                op,
                operand.fn,
                fixed.constant,
                fixed_left=left.is_constant,
                read=ops.one_step(operand.path),
            )
            return Compiled(fn)
        fn = ops.arithmetic(op, left.fn, right.fn)
        return self._fold(fn, [left, right], tree)

    _add = _sub = _mul = _div = _binary

    def _neg(self, tree: Tree[Token]) -> Compiled:
        operand = self.compile(tree.children[0])
        return self._fold(ops.negate(operand.fn), [operand], tree)

    def _compare(self, tree: Tree[Token]) -> Compiled:
        left = self.compile(tree.children[0])
        symbol = str(tree.children[1])
        right = self.compile(tree.children[2])
        if symbol in ("==", "!="):
            fn = ops.equality(symbol == "!=", left.fn, right.fn)
        else:
            fn = ops.ordering(symbol, left.fn, right.fn)
        return self._fold(fn, [left, right], tree)

    def _in_(self, tree: Tree[Token], negated: bool = False) -> Compiled:
        item = self.compile(tree.children[0])
        container = self.compile(tree.children[-1])
        if isinstance(container.constant, list) and not item.is_constant:
            return Compiled(ops.constant_membership(negated, item.fn, container.constant))
        return self._fold(ops.membership(negated, item.fn, container.fn), [item, container], tree)

    def _not_in(self, tree: Tree[Token]) -> Compiled:
        return self._in_(tree, negated=True)

    def _and_(self, tree: Tree[Token]) -> Compiled:
        left, right = (self.compile(child) for child in tree.children)
        return self._fold(ops.both(left.fn, right.fn), [left, right], tree)

    def _or_(self, tree: Tree[Token]) -> Compiled:
        left, right = (self.compile(child) for child in tree.children)
        return self._fold(ops.either(left.fn, right.fn), [left, right], tree)

    def _not_(self, tree: Tree[Token]) -> Compiled:
        operand = self.compile(tree.children[0])
        return self._fold(ops.negation(operand.fn), [operand], tree)

    # --- calls and pipes ----------------------------------------------------------------

    def _call(self, tree: Tree[Token]) -> Compiled:
        name, call_args = tree.children
        assert isinstance(name, Token)  # noqa: S101 - the grammar guarantees it
        return self._invoke(name, self._arguments(call_args), tree)

    def _pipe(self, tree: Tree[Token]) -> Compiled:
        value, name, call_args = tree.children
        assert isinstance(name, Token)  # noqa: S101 - the grammar guarantees it
        args = [self.compile(value), *self._arguments(call_args)]
        return self._invoke(name, args, tree, piped=True)

    def _invoke(
        self, name: Token, args: list[Compiled], tree: Tree[Token], *, piped: bool = False
    ) -> Compiled:
        function = self._function(name, len(args), args, piped=piped)
        fn = caller(function, args)
        if not function.pure:
            return Compiled(fn)
        return self._fold(fn, args, tree)

    def _function(
        self, name: Token, count: int, args: list[Compiled], *, piped: bool = False
    ) -> RegisteredFunction:
        function = self.registry.get(str(name))
        if function is None:
            hint = get_close_matches(str(name), sorted(self.registry.names()), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise self._error(f"unknown function {str(name)!r}{suggestion}", name)
        problem = function.check_arity(count)
        if problem:
            note = " (the piped value is the first)" if piped else ""
            raise self._error(problem + note, name)
        self.functions.add(function.name)
        if function.wants_scope and args and isinstance(args[0].constant, str):
            self.lookups.add(args[0].constant)
        return function

    def _arguments(self, call_args: Tree[Token] | Token | None) -> list[Compiled]:
        if not isinstance(call_args, Tree):
            return []
        return self._items(call_args.children[0])

    def _items(self, arguments: Tree[Token] | Token | None) -> list[Compiled]:
        if arguments is None:
            return []
        assert isinstance(arguments, Tree)  # noqa: S101 - the grammar guarantees it
        return [self.compile(child) for child in arguments.children]

    # --- helpers ------------------------------------------------------------------------

    def _fold(self, fn: Evaluator, children: list[Compiled], tree: Tree[Token]) -> Compiled:
        """``fn`` as a constant when every input is one, evaluated now."""
        if not all(child.is_constant for child in children):
            return Compiled(fn)
        try:
            return constant(fn({}))
        except ExpressionError as error:
            raise self._error(error.reason, tree) from None
        except DealbridgeError:
            raise
        except Exception as error:
            raise self._error(f"{type(error).__name__}: {error}", tree) from None

    def _unescape(self, token: Token) -> str:
        body = str(token)[1:-1]
        if "\\" not in body:
            return body
        out: list[str] = []
        chars = iter(enumerate(body))
        for position, char in chars:
            if char != "\\":
                out.append(char)
                continue
            _, escaped = next(chars)
            if escaped not in _ESCAPES:
                column = (token.column or 1) + 1 + position
                raise ExpressionError(
                    f"unknown escape '\\{escaped}' in a string",
                    source=self.source,
                    column=column,
                    expected=("\\\\", "\\'", '\\"', "\\n", "\\t"),
                )
            out.append(_ESCAPES[escaped])
        return "".join(out)

    def _error(self, reason: str, node: Tree[Token] | Token) -> ExpressionError:
        column = node.column if isinstance(node, Token) else getattr(node.meta, "column", None)
        return ExpressionError(reason, source=self.source, column=column)
