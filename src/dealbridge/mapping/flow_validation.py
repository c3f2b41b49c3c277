"""Schema validation of a flow: pydantic's errors as located, readable problems.

Pydantic reports a location tuple (``('records', 3, 'fields', 'companyName', 'rules', 0)``) and
a message; a user needs the line of that key in their file and a sentence. An unknown key gets
the allowed keys (and the closest one, for the usual typo); a missing key is reported at its
parent, the nearest place that exists in the file.
"""

from __future__ import annotations

import types
from difflib import get_close_matches
from typing import Any, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel

from dealbridge.mapping.flow_problems import FlowFileError, FlowProblem, format_path
from dealbridge.mapping.spec import FlowSpec
from dealbridge.mapping.value_text import short_repr
from dealbridge.mapping.yaml_lines import YamlDocument

_PREFIXES = ("Value error, ", "Assertion failed, ")


def validate_flow(document: YamlDocument, *, source: str) -> FlowSpec:
    """The flow's spec, or every schema problem at once.

    Raises:
        FlowFileError: One problem per pydantic error, located in ``source``.
    """
    try:
        return FlowSpec.model_validate(document.value)
    except pydantic.ValidationError as error:
        problems = [
            _problem(detail, document, source) for detail in error.errors(include_url=False)
        ]
        raise FlowFileError(problems) from None


def _problem(detail: Any, document: YamlDocument, source: str) -> FlowProblem:
    loc = tuple(detail["loc"])
    path = format_path(loc)
    position = document.position_of(path)
    return FlowProblem(source, position.line, position.column, path, _message(detail, loc))


def _message(detail: Any, loc: tuple[Any, ...]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing":
        return "this required key is missing"
    message = str(detail["msg"])
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    value = detail.get("input")
    if kind not in ("value_error", "assertion_error") and not isinstance(value, dict | list):
        message += f", got {short_repr(value)}"
    return message


def _unknown_key(loc: tuple[Any, ...]) -> str:
    key = str(loc[-1])
    allowed = _allowed_keys(loc[:-1])
    if not allowed:
        return f"unknown key {key!r}"
    hint = get_close_matches(key, allowed, n=1)
    suggestion = f"did you mean {hint[0]!r}? " if hint else ""
    return f"unknown key {key!r}; {suggestion}allowed: {', '.join(allowed)}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``loc`` accepts (aliases as written in files)."""
    model = _model_at(loc)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    annotation: Any = FlowSpec
    for part in loc:
        annotation = _step(_concrete(annotation), part)
        if annotation is None:
            return None
    concrete = _concrete(annotation)
    return concrete if isinstance(concrete, type) and issubclass(concrete, BaseModel) else None


def _step(annotation: Any, part: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin = get_origin(annotation)
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict and isinstance(part, str):
        return get_args(annotation)[1]
    return None


def _concrete(annotation: Any) -> Any:
    """``X | None`` as ``X``."""
    if get_origin(annotation) in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation
