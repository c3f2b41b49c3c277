"""The functions an expression may call, by name: ``FunctionRegistry`` and the default one.

Expressions can only call what is registered here — there is no way from flow text to reach a
Python object's attributes, a module or a builtin — so the registry *is* the language's power.
The default registry (``DEFAULT_FUNCTIONS``) holds every transform plus ``coalesce``, ``concat``,
``len`` and ``lookup``. To add functions, register them on a copy
(``DEFAULT_FUNCTIONS.copy()``) and pass it to the loader.

``lookup(table, key)`` needs the engine: tables live in the loaded flow (static) or in NetSuite
(SuiteQL, cached), and only the engine knows both. It puts a callable
``(table: str, key: Any) -> Any`` into the evaluation scope under ``__lookup__``; ``lookup`` reads
it from there. Such functions are registered with ``wants_scope=True`` and get the scope first.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dealbridge.mapping.expression_errors import ExpressionError, TransformError
from dealbridge.mapping.transforms import TRANSFORMS
from dealbridge.mapping.value_text import display

LOOKUP_SCOPE_KEY = "__lookup__"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class RegisteredFunction:
    """A function callable from expressions.

    Attributes:
        name: The name expressions use.
        fn: The Python callable; called with the arguments in order (after the scope when
            ``wants_scope``).
        pure: Same arguments, same result, no side effects: calls on constants are folded at
            compile time, so their errors surface when the flow loads.
        wants_scope: Receives the evaluation scope as its first argument (``lookup``).
        signature: The callable's signature, to check argument counts at compile time; None
            when Python cannot tell.
    """

    name: str
    fn: Callable[..., Any]
    pure: bool
    wants_scope: bool
    signature: inspect.Signature | None

    def check_arity(self, count: int) -> str | None:
        """Why ``count`` arguments do not fit this function, or None when they do."""
        if self.signature is None:
            return None
        dummies = [None] * (count + (1 if self.wants_scope else 0))
        try:
            self.signature.bind(*dummies)
        except TypeError:
            plural = "s" if count != 1 else ""
            return f"{self.usage} cannot take {count} argument{plural}"
        return None

    @property
    def usage(self) -> str:
        """How to call it, e.g. ``truncate(value, length)`` or ``round(value, places=2)``."""
        if self.signature is None:
            return f"{self.name}(…)"
        params = list(self.signature.parameters.values())[1 if self.wants_scope else 0 :]
        shown = [
            f"*{p.name}"
            if p.kind is p.VAR_POSITIONAL
            else p.name
            if p.default is p.empty
            else f"{p.name}={p.default!r}"
            for p in params
        ]
        return f"{self.name}({', '.join(shown)})"

    @property
    def doc(self) -> str:
        """The callable's docstring: what ``docs/mapping.md`` quotes."""
        return inspect.getdoc(self.fn) or ""


class FunctionRegistry:
    """Named functions for expressions; mutable, but compiled expressions keep what they saw."""

    def __init__(self) -> None:
        self._functions: dict[str, RegisteredFunction] = {}
        self.version = 0

    def register(
        self, name: str, fn: Callable[..., Any], *, pure: bool = True, wants_scope: bool = False
    ) -> None:
        """Make ``fn`` callable as ``name(…)`` and ``value | name(…)``.

        Raises:
            ValueError: The name is not an identifier or is taken (replacing a built-in
                transform silently would change every flow that uses it).
        """
        if not _NAME.fullmatch(name):
            raise ValueError(f"function name {name!r} is not an identifier")
        if name in self._functions:
            raise ValueError(f"function {name!r} is already registered")
        try:
            signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            signature = None
        self._functions[name] = RegisteredFunction(name, fn, pure, wants_scope, signature)
        self.version += 1

    def get(self, name: str) -> RegisteredFunction | None:
        """The function registered as ``name``, or None."""
        return self._functions.get(name)

    def names(self) -> frozenset[str]:
        """Every registered name."""
        return frozenset(self._functions)

    def copy(self) -> FunctionRegistry:
        """A registry with the same functions, to extend without touching this one."""
        clone = FunctionRegistry()
        clone._functions = dict(self._functions)
        return clone

    def __contains__(self, name: object) -> bool:
        return name in self._functions


def coalesce(*values: Any) -> Any:
    """The first argument that is not null: ``coalesce(contact.Email, account.Email__c)``."""
    for value in values:
        if value is not None:
            return value
    return None


def concat(*values: Any) -> Any:
    """The arguments as text, joined; null is empty: ``concat(first, ' ', last)``."""
    return "".join([value if type(value) is str else display(value) for value in values])


def length(value: Any) -> Any:
    """The length of text, a list or a mapping; null gives 0: ``len(account.Name) > 83``."""
    if value is None:
        return 0
    if isinstance(value, str | list | tuple | dict):
        return len(value)
    raise TransformError("len", "expects text or a list", value)


def lookup(scope: Mapping[str, Any], table: Any, key: Any) -> Any:
    """The value of ``key`` in the flow's lookup ``table``: ``lookup('subsidiary', country)``.

    Static tables give their ``default`` for an unknown key; a ``resolves`` rule turns a null
    result into a violation naming the table and the key.
    """
    resolve = scope.get(LOOKUP_SCOPE_KEY)
    if not callable(resolve):
        raise ExpressionError(f"lookup() needs the engine's {LOOKUP_SCOPE_KEY} in the scope")
    if not isinstance(table, str):
        raise TransformError("lookup", "expects a table name as text", table)
    return resolve(table, key)


def _default_registry() -> FunctionRegistry:
    registry = FunctionRegistry()
    for name, fn in TRANSFORMS.items():
        registry.register(name, fn)
    registry.register("coalesce", coalesce)
    registry.register("concat", concat)
    registry.register("len", length)
    registry.register("lookup", lookup, pure=False, wants_scope=True)
    return registry


DEFAULT_FUNCTIONS = _default_registry()
