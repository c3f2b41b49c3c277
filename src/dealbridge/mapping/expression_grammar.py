"""The grammar of the flow expression language and the one parser built from it.

The parser is LALR (linear time, no backtracking) and is built once, when this module is first
imported; compiled expressions are cached by ``expressions.compile_expression``, so parsing costs
nothing on the hot path. Parse failures become ``ExpressionError`` with the 1-based column and a
readable list of what would have been accepted there.

Precedence, loosest first: ``|`` (pipe), ``or``, ``and``, ``not``, comparisons (``== != < <= >
>= in``, ``not in``; not chainable), ``+ -``, ``* /``, unary ``-``, then ``.name``, ``[index]``
and calls. The pipe is loosest on purpose: ``a + b | round(2)`` rounds the sum, so a compared
pipe needs parentheses: ``(opportunity.Type | lower) == 'new business'``.
"""

from __future__ import annotations

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from dealbridge.mapping.expression_errors import ExpressionError

MAX_SOURCE_LENGTH = 10_000

GRAMMAR = r"""
?expression: pipe
stage: NAME [call_args]

?pipe: or_test
     | pipe _PIPE NAME [call_args]             -> pipe

?or_test: and_test
        | or_test _OR and_test                 -> or_
?and_test: not_test
         | and_test _AND not_test              -> and_
?not_test: _NOT not_test                       -> not_
         | comparison
?comparison: sum
           | sum COMPARE sum                   -> compare
           | sum _IN sum                       -> in_
           | sum _NOT _IN sum                  -> not_in
?sum: product
    | sum _PLUS product                        -> add
    | sum _MINUS product                       -> sub
?product: unary
        | product _STAR unary                  -> mul
        | product _SLASH unary                 -> div
?unary: _MINUS unary                           -> neg
      | postfix
?postfix: atom
        | postfix _DOT NAME                    -> attr
        | postfix _LSQB pipe _RSQB             -> index
?atom: NAME                                    -> name
     | NAME call_args                          -> call
     | STRING                                  -> string
     | DECIMAL                                 -> decimal
     | INT                                     -> integer
     | _TRUE                                   -> true
     | _FALSE                                  -> false
     | _NULL                                   -> null
     | _LSQB [arguments] _RSQB                 -> list
     | _LPAR pipe _RPAR

call_args: _LPAR [arguments] _RPAR
arguments: pipe (_COMMA pipe)* _COMMA?

_PIPE: "|"
_OR: "or"
_AND: "and"
_NOT: "not"
_IN: "in"
_TRUE: "true"
_FALSE: "false"
_NULL: "null"
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
_PLUS: "+"
_MINUS: "-"
_STAR: "*"
_SLASH: "/"
_DOT: "."
_COMMA: ","
_LPAR: "("
_RPAR: ")"
_LSQB: "["
_RSQB: "]"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
DECIMAL: /[0-9]+\.[0-9]+/
INT: /[0-9]+/
STRING: /'(?:[^'\\\n]|\\.)*'/ | /"(?:[^"\\\n]|\\.)*"/

%ignore /[ \t\r\n]+/
"""

PARSER = Lark(
    GRAMMAR,
    parser="lalr",
    start=["expression", "stage"],
    propagate_positions=True,
    maybe_placeholders=True,
)

# What a user reads in "expected …" instead of terminal names.
_READABLE = {
    "NAME": "a name",
    "STRING": "a string",
    "DECIMAL": "a number",
    "INT": "a number",
    "COMPARE": "a comparison",
    "$END": "the end",
}


def parse(source: str, *, start: str = "expression") -> Tree[Token]:
    """Parse ``source`` into a lark tree.

    Args:
        source: Expression text (for ``start="stage"``: ``name`` or ``name(arg, …)``).
        start: ``expression`` or ``stage``.

    Raises:
        ExpressionError: With the column and what was expected there.
    """
    if not source.strip():
        raise ExpressionError("the expression is empty", source=source, column=1)
    if len(source) > MAX_SOURCE_LENGTH:
        raise ExpressionError(
            f"the expression is longer than {MAX_SOURCE_LENGTH} characters", source=source
        )
    try:
        return PARSER.parse(source, start=start)
    except UnexpectedInput as error:
        raise _syntax_error(source, error) from None


def _syntax_error(source: str, error: UnexpectedInput) -> ExpressionError:
    """A lark failure as a sentence: what was found, where, and what would have fitted."""
    expected = _expected(error)
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        found = f"unexpected {error.token.value!r}"
        column = error.column
    elif isinstance(error, UnexpectedCharacters):
        found = _unexpected_character(source, error.pos_in_stream)
        column = error.column
    else:
        found = "unexpected end of expression"
        column = len(source) + 1
    return ExpressionError(
        found,
        source=source,
        column=column if isinstance(column, int) and column > 0 else len(source) + 1,
        expected=expected,
    )


def _unexpected_character(source: str, position: int | None) -> str:
    char = source[position] if position is not None and position < len(source) else ""
    if char in "'\"":
        return "unterminated string"
    return f"unexpected character {char!r}"


def _expected(error: UnexpectedInput) -> tuple[str, ...]:
    """Readable names of the terminals the parser would have accepted."""
    names: set[str] = set()
    if isinstance(error, UnexpectedToken) and error.interactive_parser is not None:
        names = set(error.interactive_parser.accepts())  # type: ignore[no-untyped-call]
    elif isinstance(error, UnexpectedToken | UnexpectedEOF):
        names = set(error.expected)
    elif isinstance(error, UnexpectedCharacters):
        names = set(error.allowed or ())
    return tuple(sorted({_readable(name) for name in names}))


def _readable(terminal: str) -> str:
    if terminal in _READABLE:
        return _READABLE[terminal]
    try:
        pattern = PARSER.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    return repr(pattern.value) if pattern.type == "str" else terminal
