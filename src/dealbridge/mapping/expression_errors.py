"""Errors of the flow expression language.

They are ``ConfigError``s: a compile error is a broken flow file, and an evaluation error (an
operator or transform given the wrong type) means the flow does not fit the data it meets — both
are fixed by editing the flow, not by retrying. Errors raised inside a transform do not yet know
the expression they happened in; ``Expression.evaluate`` adds it (``in_expression``) on the way
out, so every message names the expression.
"""

from __future__ import annotations

import copy
from typing import Any

from dealbridge.errors import ConfigError
from dealbridge.mapping.value_text import short_repr, type_name

_NO_VALUE = object()


class ExpressionError(ConfigError):
    """An expression or template does not compile, or failed on the values it was given.

    Args:
        reason: What is wrong, without the expression (e.g. ``unexpected ')'``).
        source: The expression or template text, when known.
        column: 1-based column in ``source`` where the problem is, for compile errors.
        expected: Readable names of what the parser would have accepted at ``column``.
        kind: What ``source`` is: ``expression``, ``template`` or ``transform``.
        **kwargs: Passed to ``ConfigError``.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        column: int | None = None,
        expected: tuple[str, ...] = (),
        kind: str = "expression",
        **kwargs: Any,
    ) -> None:
        self.reason = reason
        self.kind = kind
        self.source = source
        self.column = column
        self.expected = expected
        super().__init__(self._describe(), **kwargs)

    def _describe(self) -> str:
        text = self.reason
        if self.column is not None:
            text += f" at column {self.column}"
        if self.expected:
            text += "; expected " + ", ".join(self.expected)
        if self.source is not None:
            text = f"{self.kind} {self.source!r}: {text}"
        return text

    def in_expression(self, source: str, kind: str = "expression") -> ExpressionError:
        """This error naming ``source``; unchanged when it already names an expression."""
        if self.source is not None:
            return self
        named = copy.copy(self)
        named.source = source
        named.kind = kind
        named.message = named._describe()
        named.user_message = named.message
        named.args = (named.message,)
        return named

    def shifted(self, offset: int, source: str, kind: str) -> ExpressionError:
        """This compile error re-based into a larger text (a template hole within its template)."""
        moved = copy.copy(self)
        moved.source = source
        moved.kind = kind
        if moved.column is not None:
            moved.column += offset
        moved.message = moved._describe()
        moved.user_message = moved.message
        moved.args = (moved.message,)
        return moved


class TransformError(ExpressionError):
    """A transform or function was given a value it cannot handle.

    Args:
        transform: The registered name, e.g. ``upper``.
        problem: What is wrong, e.g. ``expects text``.
        value: The offending value; shown by type and a repr cut to 80 characters.
        **kwargs: Passed to ``ExpressionError``.
    """

    def __init__(self, transform: str, problem: str, value: Any = _NO_VALUE, **kwargs: Any) -> None:
        self.transform = transform
        self.value_type = None if value is _NO_VALUE else type_name(value)
        reason = f"{transform}: {problem}"
        if value is not _NO_VALUE:
            reason += f", got {type_name(value)} {short_repr(value)}"
        super().__init__(reason, **kwargs)
