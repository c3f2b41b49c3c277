"""What is wrong with a flow file, said as ``file:line:column: key.path: message``.

Every problem found while loading a flow — YAML syntax, a duplicate key, a schema violation, an
expression that does not compile, a missing lookup table — becomes one ``FlowProblem``, and the
loader raises them all together in one ``FlowFileError``, so a user fixes a file in one pass
instead of one error per run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dealbridge.errors import ConfigError

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


@dataclass(frozen=True, order=True)
class FlowProblem:
    """One problem, located.

    Attributes:
        file: The flow file (or lookup file) as the user named it.
        line: 1-based line; 0 when unknown.
        column: 1-based column; 0 when unknown.
        path: The key path, e.g. ``records[3].fields.companyName.rules[0]``; empty for the file.
        message: What is wrong.
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class FlowFileError(ConfigError):
    """A flow file (or one of its lookup files) is broken; ``problems`` lists every finding.

    Args:
        problems: Every problem found, in file order.
        **kwargs: Passed to ``ConfigError``.
    """

    def __init__(self, problems: Sequence[FlowProblem], **kwargs: Any) -> None:
        self.problems = tuple(sorted(problems))
        super().__init__(
            "\n".join(str(problem) for problem in self.problems),
            context={"problems": [str(problem) for problem in self.problems]},
            **kwargs,
        )


def format_path(parts: Sequence[Any]) -> str:
    """A key path as users read it: ``records[3].fields.companyName``; odd keys are quoted."""
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif isinstance(part, str) and _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return text


def join_path(base: str, *parts: Any) -> str:
    """``base`` extended by ``parts``, formatted as ``format_path`` does."""
    extra = format_path(parts)
    if not base:
        return extra
    if not extra or extra.startswith("["):
        return base + extra
    return f"{base}.{extra}"
