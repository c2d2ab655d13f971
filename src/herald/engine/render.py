"""Liquid rendering of step control values, as Novu's v2 workflows render them.

Templates see `payload`, `subscriber`, `steps` (earlier steps' results, e.g. digest events),
`actor`, `tenant` and `context`. A missing variable renders as an empty string, as in
Novu; a syntax error, an unknown filter or a bad filter argument raises `RenderError`.
Besides the standard Liquid filters, Novu's own are available: `json`, `toSentence`,
`digest` and `pluralize`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError

_MARKUP = ("{{", "{%")
_TEMPLATE_CACHE_SIZE = 4096
_PLAIN_OUTPUT = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}\}")
_FALLBACK = object()


class RenderError(Exception):
    """A template could not be rendered; `field` names the control value (dotted path)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """The variables a step's content can use."""

    payload: Mapping[str, Any] = field(default_factory=dict)
    subscriber: Mapping[str, Any] = field(default_factory=dict)
    steps: Mapping[str, Any] = field(default_factory=dict)
    actor: Mapping[str, Any] | None = None
    tenant: Mapping[str, Any] | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    def variables(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "subscriber": self.subscriber,
            "steps": self.steps,
            "actor": self.actor or {},
            "tenant": self.tenant or {},
            "context": self.context,
        }


def _lookup(item: Any, key_path: str) -> Any:
    for key in key_path.split(".") if key_path else ():
        if isinstance(item, Mapping):
            item = item.get(key)
        elif isinstance(item, Sequence) and not isinstance(item, str) and key.isdigit():
            index = int(key)
            item = item[index] if index < len(item) else None
        else:
            return None
    return item


def _plural(word: str) -> str:
    lower = word.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if lower.endswith("y") and len(word) > 1 and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def to_sentence(
    items: Any,
    key_path: str = "",
    limit: int = 2,
    overflow_suffix: str = "other",
    words_connector: str = ", ",
    two_words_connector: str = " and ",
    last_word_connector: str = ", and ",
) -> str:
    """`["A", "B", "C", "D"]` -> "A, B, and 2 others" (Novu's `toSentence`)."""
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        return ""
    words = [str(value) if (value := _lookup(item, key_path)) is not None else "" for item in items]
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{words[0]}{two_words_connector}{words[1]}"
    limit = max(int(limit), 0)
    if limit >= len(words):
        return f"{words_connector.join(words[:-1])}{last_word_connector}{words[-1]}"
    more = len(words) - limit
    connector = two_words_connector if limit == 1 else last_word_connector
    suffix = overflow_suffix if more == 1 else _plural(overflow_suffix)
    return f"{words_connector.join(words[:limit])}{connector}{more} {suffix}"


def pluralize(count: Any, singular: str, plural: str | None = None) -> str:
    """`3 | pluralize: "item"` -> "3 items"."""
    try:
        number = float(count)
    except (TypeError, ValueError):
        number = 0.0
    shown = int(number) if number.is_integer() else number
    return f"{shown} {singular if number == 1 else (plural or _plural(singular))}"


def to_json(value: Any, indent: Any = None) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, indent=int(indent) if indent else None)


class _LiquidEnvironment(Environment):
    # Bounds so that one hostile template cannot hold a worker.
    loop_iteration_limit: ClassVar[int | None] = 100_000
    output_stream_limit: ClassVar[int | None] = 1_000_000
    local_namespace_limit: ClassVar[int | None] = 100_000

    def setup_tags_and_filters(self, *, extra: bool = False) -> None:
        super().setup_tags_and_filters(extra=extra)
        self.filters["json"] = to_json
        self.filters["toSentence"] = to_sentence
        self.filters["digest"] = to_sentence
        self.filters["pluralize"] = pluralize


_ENVIRONMENT = _LiquidEnvironment()


@lru_cache(maxsize=_TEMPLATE_CACHE_SIZE)
def _compile(source: str) -> BoundTemplate:
    return _ENVIRONMENT.from_string(source)


def _describe(error: LiquidError) -> str:
    message = getattr(error, "message", None) or (error.args[0] if error.args else type(error).__name__)
    return str(message).strip()


@lru_cache(maxsize=_TEMPLATE_CACHE_SIZE)
def _plain_outputs(source: str) -> tuple[str | tuple[str, ...], ...] | None:
    """Text and variable paths when the only markup is `{{ a.b.c }}` (no tags, no filters)."""
    if "{%" in source:
        return None
    parts: list[str | tuple[str, ...]] = []
    position = 0
    for match in _PLAIN_OUTPUT.finditer(source):
        parts += [source[position : match.start()], tuple(match.group(1).split("."))]
        position = match.end()
    parts.append(source[position:])
    if any(isinstance(part, str) and ("{{" in part or "}}" in part) for part in parts):
        return None
    return tuple(parts)


def _plain_value(variables: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The output of `{{ path }}`, or _FALLBACK where Liquid semantics (size, first...) apply."""
    value: Any = variables
    for key in path:
        if type(value) is not dict and not isinstance(value, Mapping):
            return _FALLBACK
        if key not in value:
            return ""
        value = value[key]
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    return value if isinstance(value, str | int | float) else _FALLBACK


def _render_plain(parts: tuple[str | tuple[str, ...], ...], variables: Mapping[str, Any]) -> str | None:
    rendered: list[str] = []
    for part in parts:
        if type(part) is str:
            rendered.append(part)
            continue
        value = _plain_value(variables, part)  # type: ignore[arg-type]
        if value is _FALLBACK:
            return None
        rendered.append(value if type(value) is str else str(value))
    return "".join(rendered)


def render_template(source: str, context: RenderContext) -> str:
    """Render one Liquid template. Strings without Liquid markup come back unchanged, and
    plain `{{ a.b }}` outputs of scalar values are substituted without the Liquid engine."""
    if "{{" not in source and "{%" not in source:
        return source
    return _render_parsed(source, _plain_outputs(source), context.variables())


def _render_parsed(
    source: str, parts: tuple[str | tuple[str, ...], ...] | None, variables: Mapping[str, Any]
) -> str:
    """`source` rendered, its plain outputs (`parts`, when it has nothing else) substituted directly."""
    if parts is not None:
        fast = _render_plain(parts, variables)
        if fast is not None:
            return fast
    try:
        return _compile(source).render(**variables)
    except LiquidError as error:
        raise RenderError(_describe(error)) from None
    except (RecursionError, MemoryError):
        raise RenderError("The template is too complex to render") from None


Renderer = Callable[[Mapping[str, Any]], Any]
"""Renders prepared control values with the variables of a `RenderContext`."""


def render_controls(values: Mapping[str, Any], context: RenderContext) -> dict[str, Any]:
    """Render every string in a step's control values (nested objects and lists included); a
    `RenderError` names the field."""
    rendered: dict[str, Any] = controls_renderer(values)(context.variables())
    return rendered


def controls_renderer(values: Mapping[str, Any]) -> Renderer:
    """`render_controls` prepared once for these control values: the walk of their structure,
    the check for markup and the plain-output parse happen here, not for every render."""
    return _builder(dict(values), "", top=True)


def _builder(value: Any, path: str, *, top: bool = False) -> Renderer:
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return lambda _variables: value
        return _template_builder(value, path)
    if isinstance(value, Mapping):
        items = [(key, _builder(item, key if top else f"{path}.{key}")) for key, item in value.items()]
        return lambda variables: {key: build(variables) for key, build in items}
    if isinstance(value, list):
        builders = [_builder(item, f"{path}.{index}") for index, item in enumerate(value)]
        return lambda variables: [build(variables) for build in builders]
    return lambda _variables: value


def _template_builder(source: str, path: str) -> Renderer:
    parts = _plain_outputs(source)

    def render(variables: Mapping[str, Any]) -> str:
        try:
            return _render_parsed(source, parts, variables)
        except RenderError as error:
            raise RenderError(error.message, field=path) from None

    return render


def referenced_variables(values: Any) -> list[str]:
    """Dotted paths of the variables the templates in `values` read, e.g. `payload.order.id`."""
    found: dict[str, None] = {}
    _collect_variables(values, found)
    return list(found)


def _collect_variables(value: Any, found: dict[str, None]) -> None:
    if isinstance(value, str):
        if not any(marker in value for marker in _MARKUP):
            return
        try:
            template = _compile(value)
        except LiquidError:
            return
        for path in template.global_variable_paths():
            found.setdefault(path, None)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_variables(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_variables(item, found)


def syntax_problems(values: Mapping[str, Any]) -> dict[str, str]:
    """Control values (dotted paths) whose Liquid does not parse, with the parser's message."""
    problems: dict[str, str] = {}
    for key, value in values.items():
        _collect_syntax_problems(value, key, problems)
    return problems


def _collect_syntax_problems(value: Any, path: str, problems: dict[str, str]) -> None:
    if isinstance(value, str):
        if any(marker in value for marker in _MARKUP):
            try:
                _compile(value)
            except LiquidError as error:
                problems[path] = _describe(error)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _collect_syntax_problems(item, f"{path}.{key}", problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect_syntax_problems(item, f"{path}.{index}", problems)
