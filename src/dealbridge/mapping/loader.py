"""Load a flow file: parse, validate, compile every expression, check what can be checked.

A flow that loads is ready to run: its schema holds, every expression, template, pipeline stage
and rule pattern compiled, every literal ``lookup('table', …)`` names a declared table, every
``const.<name>`` names a declared constant, every ``replace`` names a sublist field, and static
lookup tables are read (YAML or CSV beside the flow). Everything that fails is reported together
as one ``FlowFileError`` whose lines read ``file:line:column: key.path: message``.

Hooks (``module:function``) are imported only with ``check_hooks=True``: importing a module runs
its code, which a check of a file from git should not do unless asked.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import dealbridge
from dealbridge.mapping.expressions import (
    Expression,
    ExpressionError,
    FunctionRegistry,
    PipeStage,
    Template,
    compile_expression,
    compile_stage,
    compile_template,
)
from dealbridge.mapping.flow_problems import FlowFileError, FlowProblem, join_path
from dealbridge.mapping.flow_sites import Site, flow_sites
from dealbridge.mapping.flow_validation import validate_flow
from dealbridge.mapping.functions import DEFAULT_FUNCTIONS
from dealbridge.mapping.spec import FlowSpec
from dealbridge.mapping.static_tables import load_static_table
from dealbridge.mapping.yaml_lines import YamlDocument, load_yaml

SHIPPED_FLOWS_DIR = Path(dealbridge.__file__).parent / "flows"

Compiled = Expression | Template | PipeStage


@dataclass(frozen=True)
class LoadedFlow:
    """A checked flow with everything compiled, ready for the engine.

    Attributes:
        spec: The validated flow.
        path: The file it came from (None for text).
        expressions: Every compiled expression, keyed by its source text.
        templates: Every compiled template, keyed by its source text.
        stages: Every compiled ``transforms:`` entry, keyed by its source text.
        static_tables: Static lookup tables by name; keys normalised by
            ``static_tables.table_key`` (lower-cased when case-insensitive).
        functions: The registry everything was compiled against.
    """

    spec: FlowSpec
    path: Path | None
    expressions: Mapping[str, Expression]
    templates: Mapping[str, Template]
    stages: Mapping[str, PipeStage]
    static_tables: Mapping[str, Mapping[str, Any]]
    functions: FunctionRegistry = field(repr=False)
    document: YamlDocument = field(repr=False, compare=False)

    def line_of(self, key_path: str) -> int | None:
        """The line of ``key_path`` (e.g. ``records[2].fields.companyName``) in the flow file.

        A key that is not written in the file (a default) gives its nearest written ancestor's
        line; None only when the file had no positions at all.
        """
        if not self.document.positions:
            return None
        return self.document.position_of(key_path).line

    def apply_transforms(self, value: Any, stages: Sequence[str], scope: Mapping[str, Any]) -> Any:
        """``value`` passed through a field's ``transforms:`` list, in order."""
        for stage in stages:
            value = self.stages[stage].apply(value, scope)
        return value


def load_flow(
    path: Path, *, functions: FunctionRegistry | None = None, check_hooks: bool = False
) -> LoadedFlow:
    """Load and check a flow file; relative lookup files resolve beside it.

    Raises:
        FlowFileError: Every problem found, each with file, line, column and key path.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise FlowFileError([FlowProblem(str(path), 0, 0, "", f"cannot read: {error}")]) from None
    return _load(text, str(path), path, path.parent, _registry(functions), check_hooks)


def load_flow_text(
    text: str,
    *,
    source: str,
    base_dir: Path | None = None,
    functions: FunctionRegistry | None = None,
    check_hooks: bool = False,
) -> LoadedFlow:
    """Load and check flow text; ``source`` names it in problems.

    Args:
        text: The YAML text.
        source: A name for problems, e.g. the file name it will have.
        base_dir: Where relative lookup files resolve (default: the directory of ``source``).
        functions: The callable names (default: ``DEFAULT_FUNCTIONS``).
        check_hooks: Import the hooks to prove they exist (runs their modules' code).

    Raises:
        FlowFileError: Every problem found, each with file, line, column and key path.
    """
    directory = base_dir if base_dir is not None else Path(source).parent
    return _load(text, source, None, directory, _registry(functions), check_hooks)


def shipped_flow_paths() -> list[Path]:
    """The flow files shipped with dealbridge (``dealbridge/flows/*.yaml``)."""
    return sorted(SHIPPED_FLOWS_DIR.glob("*.yaml"))


def resolve_hook(target: str) -> Callable[..., Any]:
    """Import ``module:function`` and return the function.

    Raises:
        ValueError: The module does not import or has no such callable.
    """
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any failure of foreign code while importing
        raise ValueError(f"cannot import {module_name!r}: {error}") from None
    hook = getattr(module, attribute, None)
    if not callable(hook):
        raise ValueError(f"module {module_name!r} has no function {attribute!r}")
    return hook  # type: ignore[no-any-return]


def _registry(functions: FunctionRegistry | None) -> FunctionRegistry:
    return functions if functions is not None else DEFAULT_FUNCTIONS


def _load(
    text: str,
    source: str,
    path: Path | None,
    base_dir: Path,
    functions: FunctionRegistry,
    check_hooks: bool,
) -> LoadedFlow:
    document = load_yaml(text, source=source)
    spec = validate_flow(document, source=source)
    checker = _Checker(spec, document, source, functions)
    checker.compile_sites()
    checker.check_references()
    tables = checker.load_tables(base_dir)
    if check_hooks:
        checker.check_hooks()
    if checker.problems:
        raise FlowFileError(checker.problems)
    return LoadedFlow(
        spec=spec,
        path=path,
        expressions=MappingProxyType(checker.expressions),
        templates=MappingProxyType(checker.templates),
        stages=MappingProxyType(checker.stages),
        static_tables=MappingProxyType(tables),
        functions=functions,
        document=document,
    )


@dataclass
class _Checker:
    """Collects compiled objects and problems for one flow."""

    spec: FlowSpec
    document: YamlDocument
    source: str
    functions: FunctionRegistry
    expressions: dict[str, Expression] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    stages: dict[str, PipeStage] = field(default_factory=dict)
    problems: list[FlowProblem] = field(default_factory=list)
    _compiled_at: list[tuple[str, Compiled]] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        """Record a problem at ``path`` of the flow file."""
        position = self.document.position_of(path)
        self.problems.append(
            FlowProblem(self.source, position.line, position.column, path, message)
        )

    def compile_sites(self) -> None:
        """Compile every expression, template, stage and pattern; one problem per failure."""
        for site in flow_sites(self.spec):
            try:
                compiled = self._compile(site)
            except ExpressionError as error:
                self.problem(site.path, str(error))
            except re.error as error:
                self.problem(site.path, f"invalid regular expression: {error}")
            else:
                if compiled is not None:
                    self._compiled_at.append((site.path, compiled))

    def _compile(self, site: Site) -> Compiled | None:
        if site.kind == "expression":
            expression = compile_expression(site.text, functions=self.functions)
            self.expressions[site.text] = expression
            return expression
        if site.kind == "template":
            template = compile_template(site.text, functions=self.functions)
            self.templates[site.text] = template
            return template
        if site.kind == "stage":
            stage = compile_stage(site.text, functions=self.functions)
            self.stages[site.text] = stage
            return stage
        re.compile(site.text)
        return None

    def check_references(self) -> None:
        """Lookup tables and constants named in expressions exist; ``replace`` names sublists."""
        for path, compiled in self._compiled_at:
            for table in sorted(compiled.lookups - self.spec.lookups.keys()):
                declared = ", ".join(sorted(self.spec.lookups)) or "none"
                self.problem(path, f"unknown lookup table {table!r} (declared: {declared})")
            for name in sorted(_constants_read(compiled) - self.spec.constants.keys()):
                self.problem(path, f"unknown constant 'const.{name}'")
        for index, record in enumerate(self.spec.records):
            sublists = {name for name, spec in record.fields.items() if spec.sublist}
            for position, name in enumerate(record.replace):
                if name not in sublists:
                    self.problem(
                        join_path("records", index, "replace", position),
                        f"{name!r} is not a sublist field of record {record.name!r}",
                    )

    def load_tables(self, base_dir: Path) -> dict[str, Mapping[str, Any]]:
        """Every static lookup table, read and normalised."""
        tables: dict[str, Mapping[str, Any]] = {}
        for name, lookup in self.spec.lookups.items():
            if lookup.static is None:
                continue
            key = "file" if lookup.static.file is not None else "values"
            try:
                tables[name] = load_static_table(lookup.static, base_dir=base_dir)
            except ValueError as error:
                self.problem(join_path("lookups", name, "static", key), str(error))
            except FlowFileError as error:
                self.problems.extend(error.problems)
        return tables

    def check_hooks(self) -> None:
        """Import each hook to prove it exists."""
        for key in ("before_map", "after_map"):
            target = getattr(self.spec.hooks, key)
            if target is None:
                continue
            try:
                resolve_hook(target)
            except ValueError as error:
                self.problem(join_path("hooks", key), str(error))


def _constants_read(compiled: Compiled) -> set[str]:
    """Names ``x`` of the ``const.x`` paths an expression reads."""
    return {
        str(path[1])
        for path in compiled.paths
        if len(path) > 1 and path[0] == "const" and isinstance(path[1], str)
    }
