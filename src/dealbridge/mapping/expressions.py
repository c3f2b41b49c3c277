r"""The flow expression language: compiled expressions, templates and pipeline stages.

Why a small language of our own rather than Jinja or a general evaluator: flow files come from
git, but a mapping must never be able to run code — no attribute access on Python objects, no
imports, no calls except registered functions (``functions.FunctionRegistry``) — and it must be
fast: a 30-line deal evaluates thousands of expressions. Jinja's sandbox is a blacklist on a full
language; here the grammar (``expression_grammar``) simply has nothing dangerous in it. Each
expression is parsed once and compiled into nested closures (``expression_compiler``), cached by
source text, so evaluating a path or a short pipe costs about a microsecond.

The language, in one breath: paths ``account.Name`` and ``lines[0].SBQQ__Product__r.ProductCode``
(null-safe: a missing key or a null along the way gives null); literals ``'text'`` / ``"text"``
(escapes ``\\ \' \" \n \t``), integers, decimals (floats), ``true false null``; lists
``['A', 'B']``; ``== != < <= > >=``, ``in`` / ``not in``; ``and or not`` (short-circuit, Python
truthiness: null, false, 0, '' and empty lists are false; ``and``/``or`` give an operand, so
``name or 'Unknown'`` works); ``+ - * /`` and unary minus; calls ``coalesce(a, b)``; pipes
``value | truncate(83)``, which call the transform with the value first. ``const`` is the flow's
``constants``; the engine puts it in the scope with the deal graph.

Numbers are Python floats (and ints for integer literals), not ``Decimal``: the deal arrives as
JSON whose numbers are floats already, float arithmetic is several times faster, and the one
place exactness matters — rounding money — is ``round``, which rounds half up in ``Decimal``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from lark import Token, Tree

from dealbridge.errors import DealbridgeError
from dealbridge.mapping.expression_compiler import Compiled, Compiler
from dealbridge.mapping.expression_errors import ExpressionError, TransformError
from dealbridge.mapping.expression_grammar import parse
from dealbridge.mapping.expression_operators import one_step
from dealbridge.mapping.functions import (
    DEFAULT_FUNCTIONS,
    LOOKUP_SCOPE_KEY,
    FunctionRegistry,
    RegisteredFunction,
)
from dealbridge.mapping.template_text import Part, merge_text, renderer, split_template
from dealbridge.mapping.value_text import display

__all__ = [
    "DEFAULT_FUNCTIONS",
    "LOOKUP_SCOPE_KEY",
    "Expression",
    "ExpressionError",
    "FunctionRegistry",
    "PipeStage",
    "Template",
    "TransformError",
    "compile_expression",
    "compile_stage",
    "compile_template",
    "named_error",
]

_CACHE_SIZE = 8192


class _Facts:
    """What static checks may ask of any compiled text: names, paths, functions, lookups."""

    __slots__ = ("functions", "lookups", "names", "paths")

    names: frozenset[str]
    paths: frozenset[tuple[str | int, ...]]
    functions: frozenset[str]
    lookups: frozenset[str]

    def __init__(self, sources: Sequence[Compiler | _Facts]) -> None:
        self.names = frozenset(name for source in sources for name in source.names)
        self.paths = frozenset(path for source in sources for path in source.paths)
        self.functions = frozenset(name for source in sources for name in source.functions)
        self.lookups = frozenset(name for source in sources for name in source.lookups)


def named_error(error: Exception, source: str, kind: str = "expression") -> ExpressionError:
    """A failure inside an evaluation of ``source`` as an ``ExpressionError`` naming the text.

    What ``evaluate``, ``render`` and ``apply`` raise; the engine, which calls the ``fn``
    closures directly on its hot path, names their errors with it.

    Raises:
        DealbridgeError: Other dealbridge errors (the engine's lookup hitting a NetSuite outage)
            pass unchanged, so they keep their ``retryable`` class; anything else is wrapped,
            its cause chained.
    """
    if isinstance(error, ExpressionError):
        return error.in_expression(source, kind)
    if isinstance(error, DealbridgeError):
        raise error
    named = ExpressionError(f"{type(error).__name__}: {error}", source=source, kind=kind)
    named.__cause__ = error
    return named


def _reraise(error: Exception, source: str, kind: str) -> NoReturn:
    """Re-raise a failure inside an evaluation as ``named_error`` makes it."""
    named = named_error(error, source, kind)
    if named is error:
        raise error
    if named.__cause__ is error:
        raise named from error
    raise named.with_traceback(error.__traceback__) from None


class Expression:
    """A compiled expression: immutable, reusable and safe to share between threads.

    Attributes:
        source: The expression text, as written in the flow.
        fn: The compiled closure itself, ``fn(scope) -> value``, for hot loops that name
            errors themselves: what it raises does not name the expression yet
            (``named_error(error, expression.source)`` does).
        read: ``(root, key)`` when the expression is a one-step path (``line.code``), which hot
            loops read inline as ``expression_operators.path`` does; else None.
    """

    __slots__ = ("_compiled", "_facts", "_fn", "fn", "read", "source")

    def __init__(self, source: str, compiled: Compiled, facts: _Facts) -> None:
        self.source = source
        self._compiled = compiled
        self._fn = self.fn = compiled.fn  # one attribute load less per evaluation
        self.read = one_step(compiled.path)
        self._facts = facts

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        """The expression's value in ``scope`` (deal graph names, ``const``, ``__lookup__``).

        Raises:
            ExpressionError: An operator or function got values it cannot handle; the message
                names this expression. Errors of the engine's lookup (``DealbridgeError``s, such
                as a NetSuite outage) pass through unchanged so they keep their retry class.
        """
        try:
            return self._fn(scope)
        except Exception as error:
            _reraise(error, self.source, "expression")

    @property
    def path(self) -> tuple[str, tuple[str | int, ...]] | None:
        """``(root, keys)`` when the expression is a plain path (``line.code``), else None."""
        return self._compiled.path

    @property
    def names(self) -> frozenset[str]:
        """Top-level scope names read, e.g. ``{'account', 'const'}``."""
        return self._facts.names

    @property
    def paths(self) -> frozenset[tuple[str | int, ...]]:
        """Literal dotted paths read, each prefix included: ``('const', 'x')``, ``('const',)``."""
        return self._facts.paths

    @property
    def functions(self) -> frozenset[str]:
        """Names of the functions and transforms called."""
        return self._facts.functions

    @property
    def lookups(self) -> frozenset[str]:
        """Table names given to ``lookup`` as literals (checked against the flow's lookups)."""
        return self._facts.lookups

    @property
    def is_constant(self) -> bool:
        """True when the value does not depend on the scope (it was folded at compile time)."""
        return self._compiled.is_constant

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


class Template:
    """Text with ``{{ expression }}`` holes; text without holes is a constant.

    Attributes:
        source: The template text, as written in the flow.
        fn: The rendering closure itself, ``fn(scope) -> str``; like ``Expression.fn``, its
            errors do not name the template yet (``named_error(error, source, "template")``).
    """

    __slots__ = ("_facts", "_parts", "_render", "fn", "source")

    def __init__(self, source: str, parts: list[Part], facts: _Facts) -> None:
        self.source = source
        self._parts = merge_text(parts)
        self._render = self.fn = renderer(self._parts)
        self._facts = facts

    def render(self, scope: Mapping[str, Any]) -> str:
        """The text with each hole's value shown as ``value_text.display`` does.

        Null renders as empty text and integral numbers without ``.0``: ``SFBA-{{ x }}`` with
        ``x = 12.0`` is ``SFBA-12``.

        Raises:
            ExpressionError: A hole failed; the message names this template.
        """
        try:
            return self._render(scope)
        except Exception as error:
            _reraise(error, self.source, "template")

    @property
    def names(self) -> frozenset[str]:
        """Top-level scope names read by the holes."""
        return self._facts.names

    @property
    def paths(self) -> frozenset[tuple[str | int, ...]]:
        """Literal dotted paths read by the holes."""
        return self._facts.paths

    @property
    def lookups(self) -> frozenset[str]:
        """Table names given to ``lookup`` as literals in the holes."""
        return self._facts.lookups

    @property
    def is_constant(self) -> bool:
        """True for plain text (no holes)."""
        return all(isinstance(part, str) for part in self._parts)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


class PipeStage:
    """One entry of a field's ``transforms:`` list, e.g. ``truncate(83)``, compiled.

    ``apply(value, scope)`` is ``value | truncate(83)``: the value first, then the arguments
    (which are expressions, so ``truncate(const.name_limit)`` works).

    Attributes:
        source: The stage text, as written in the flow.
        name: The transform called.
    """

    __slots__ = ("_args", "_facts", "_function", "name", "source")

    def __init__(
        self, source: str, function: RegisteredFunction, args: list[Compiled], facts: _Facts
    ) -> None:
        self.source = source
        self.name = function.name
        self._function = function
        self._args = tuple(arg.fn for arg in args)
        self._facts = facts

    def apply(self, value: Any, scope: Mapping[str, Any]) -> Any:
        """The transform of ``value`` with this stage's arguments evaluated in ``scope``.

        Raises:
            ExpressionError: The transform refused the value; the message names the stage.
        """
        args = [arg(scope) for arg in self._args] if self._args else []
        try:
            if self._function.wants_scope:
                return self._function.fn(scope, value, *args)
            return self._function.fn(value, *args)
        except Exception as error:
            _reraise(error, self.source, "transform")

    @property
    def names(self) -> frozenset[str]:
        """Top-level scope names read by the arguments."""
        return self._facts.names

    @property
    def paths(self) -> frozenset[tuple[str | int, ...]]:
        """Literal dotted paths read by the arguments."""
        return self._facts.paths

    @property
    def lookups(self) -> frozenset[str]:
        """Literal table names (a ``lookup`` stage's argument)."""
        return self._facts.lookups

    def __repr__(self) -> str:
        return f"PipeStage({self.source!r})"


def compile_expression(source: str, *, functions: FunctionRegistry | None = None) -> Expression:
    """Compile (or fetch from the cache) an expression.

    Args:
        source: The expression text.
        functions: The callable names; ``DEFAULT_FUNCTIONS`` when None.

    Raises:
        ExpressionError: A syntax error (with column and what was expected), an unknown
            function, a wrong argument count, or a constant part that always fails.
    """
    registry = functions if functions is not None else DEFAULT_FUNCTIONS
    return _expression(_text(source), registry, registry.version)


def compile_template(source: str, *, functions: FunctionRegistry | None = None) -> Template:
    """Compile (or fetch from the cache) a template; columns in errors count from its start.

    Raises:
        ExpressionError: An unclosed ``{{``, an empty hole, or a hole that does not compile.
    """
    registry = functions if functions is not None else DEFAULT_FUNCTIONS
    return _template(_text(source), registry, registry.version)


def compile_stage(source: str, *, functions: FunctionRegistry | None = None) -> PipeStage:
    """Compile (or fetch from the cache) a pipeline stage: ``name`` or ``name(arg, …)``.

    Raises:
        ExpressionError: Not a stage, an unknown transform or a wrong argument count.
    """
    registry = functions if functions is not None else DEFAULT_FUNCTIONS
    return _stage(_text(source), registry, registry.version)


def _text(source: Any) -> str:
    if not isinstance(source, str):
        raise ExpressionError(f"an expression must be text, got {type(source).__name__}")
    return source


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _expression(source: str, registry: FunctionRegistry, version: int) -> Expression:
    compiler = Compiler(source, registry)
    compiled = _compile_tree(compiler, parse(source))
    return Expression(source, compiled, _Facts([compiler]))


def _compile_tree(compiler: Compiler, tree: Tree[Token]) -> Compiled:
    try:
        return compiler.compile(tree)
    except RecursionError:
        raise ExpressionError("the expression nests too deeply", source=compiler.source) from None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _stage(source: str, registry: FunctionRegistry, version: int) -> PipeStage:
    try:
        tree = parse(source, start="stage")
        compiler = Compiler(source, registry)
        function, args = compiler.stage(tree)
    except ExpressionError as error:
        raise error.shifted(0, source, "transform") from None
    return PipeStage(source, function, args, _Facts([compiler]))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _template(source: str, registry: FunctionRegistry, version: int) -> Template:
    parts: list[Part] = []
    holes: list[_Facts] = []
    for piece in split_template(source):
        if isinstance(piece, str):
            parts.append(piece)
            continue
        offset, text = piece
        try:
            compiled = _expression(text, registry, version)
        except ExpressionError as error:
            raise error.shifted(offset, source, "template") from None
        constant = compiled._compiled
        parts.append(display(constant.constant) if constant.is_constant else compiled)
        holes.append(compiled._facts)
    return Template(source, parts, _Facts(holes))
