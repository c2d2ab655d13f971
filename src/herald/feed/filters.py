"""What a subscriber's in-app feed is filtered by, parsed from each door's wire format.

The Inbox sends filters as query parameters (`read=true`, `tags[]=a`, `tags[0][]=a`,
`severity[]=high`, `data=<JSON>`) and, for counts, as a JSON list of filter objects whose
`tags` is a list, `{"or": [...]}` or `{"and": [{"or": [...]}, ...]}`. Both end up as one
`FeedFilter`: tags are groups that must all match, each group matching when the message
carries any of its tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.errors import BadRequestError

SEVERITIES = ("high", "medium", "low", "none")
Scalar = str | int | float | bool
_TAG_GROUP = re.compile(r"^tags\[(\d+)\]\[\]$")
_MAX_TAGS = 100
_MAX_DATA_KEYS = 20
_MAX_FILTERS = 30


@dataclass(frozen=True)
class FeedFilter:
    read: bool | None = None
    seen: bool | None = None
    archived: bool | None = None
    snoozed: bool | None = None
    tag_groups: tuple[tuple[str, ...], ...] = ()
    data: Mapping[tuple[str, ...], Scalar | tuple[Scalar, ...]] = field(default_factory=dict)
    severity: tuple[str, ...] = ()
    created_gte: datetime | None = None
    created_lte: datetime | None = None
    message_ids: tuple[str, ...] | None = None
    payload: Mapping[tuple[str, ...], Scalar | tuple[Scalar, ...]] = field(default_factory=dict)
    """Matched against the trigger payload (the legacy v1 feed's `payload` filter)."""


UNREAD = FeedFilter(read=False, archived=False, snoozed=False)
UNSEEN = FeedFilter(seen=False, archived=False, snoozed=False)


def parse_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequestError(f"{name} must be a boolean value")


def parse_tags(value: Any) -> tuple[tuple[str, ...], ...]:
    """`["a", "b"]` or `{"or": [...]}`: one group; `{"and": [{"or": [...]}, ...]}`: several."""
    if value is None:
        return ()
    if isinstance(value, Mapping) and "and" in value:
        groups = value["and"]
        if not isinstance(groups, list):
            raise BadRequestError("tags.and must be a list")
        return tuple(group for item in groups if (group := _tag_group(item)))
    group = _tag_group(value)
    return (group,) if group else ()


def _tag_group(value: Any) -> tuple[str, ...]:
    if isinstance(value, Mapping) and "or" in value:
        value = value["or"]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise BadRequestError("tags must be a list of strings")
    if len(value) > _MAX_TAGS:
        raise BadRequestError(f"tags accepts at most {_MAX_TAGS} values")
    return tuple(value)


def parse_data(value: Any) -> dict[tuple[str, ...], Scalar | tuple[Scalar, ...]]:
    """`data` filter: a JSON object (or its text); nested objects name nested keys, a list
    matches any of its values."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequestError("Invalid JSON format for data parameter") from None
    if not isinstance(value, Mapping):
        raise BadRequestError("data must be a JSON object")
    paths: dict[tuple[str, ...], Scalar | tuple[Scalar, ...]] = {}
    _flatten(value, (), paths)
    if len(paths) > _MAX_DATA_KEYS:
        raise BadRequestError(f"data accepts at most {_MAX_DATA_KEYS} keys")
    return paths


def _flatten(value: Mapping[str, Any], prefix: tuple[str, ...], into: dict[Any, Any]) -> None:
    for key, item in value.items():
        if not key or '"' in key or "\\" in key:
            raise BadRequestError("data keys must be non-empty and free of quotes and backslashes")
        path = (*prefix, str(key))
        if isinstance(item, Mapping):
            _flatten(item, path, into)
        elif isinstance(item, list) and item and all(_is_scalar(element) for element in item):
            into[path] = tuple(item)
        elif _is_scalar(item):
            into[path] = item
        else:
            raise BadRequestError("data values must be strings, numbers, booleans or lists of them")


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def parse_severity(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or any(item not in SEVERITIES for item in values):
        raise BadRequestError(f"severity must be one of: {', '.join(SEVERITIES)}")
    return tuple(values)


def parse_timestamp(name: str, value: Any) -> datetime | None:
    """Milliseconds since the epoch, as @novu/js sends `createdGte` / `createdLte`."""
    if value is None or value == "":
        return None
    try:
        milliseconds = float(value)
    except (TypeError, ValueError):
        raise BadRequestError(f"{name} must be a timestamp in milliseconds") from None
    try:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise BadRequestError(f"{name} is out of range") from None


def filter_from_object(raw: Mapping[str, Any]) -> FeedFilter:
    """A filter object as the count endpoint and the bulk actions receive it."""
    result = FeedFilter(
        read=parse_bool("read", raw.get("read")),
        seen=parse_bool("seen", raw.get("seen")),
        archived=parse_bool("archived", raw.get("archived")),
        snoozed=parse_bool("snoozed", raw.get("snoozed")),
        tag_groups=parse_tags(raw.get("tags")),
        data=parse_data(raw.get("data")),
        severity=parse_severity(raw.get("severity")),
        created_gte=parse_timestamp("createdGte", raw.get("createdGte")),
        created_lte=parse_timestamp("createdLte", raw.get("createdLte")),
    )
    if result.read is False and result.archived is True:
        raise BadRequestError("Filtering for unread and archived notifications is not supported.")
    return result


def filter_from_query(params: Any) -> tuple[FeedFilter, dict[str, Any]]:
    """The list filter from a query string (a Starlette `QueryParams`), and the echo of it
    that the list answer carries as `filter`."""
    plain_tags = params.getlist("tags[]") or params.getlist("tags")
    groups: dict[int, list[str]] = {}
    for key, value in params.multi_items():
        match = _TAG_GROUP.match(key)
        if match:
            groups.setdefault(int(match.group(1)), []).append(value)
    tags: Any = {"and": [{"or": groups[index]} for index in sorted(groups)]} if groups else plain_tags or None
    severity = params.getlist("severity[]") or params.getlist("severity") or None
    raw = {
        "tags": tags,
        "read": params.get("read"),
        "archived": params.get("archived"),
        "snoozed": params.get("snoozed"),
        "seen": params.get("seen"),
        "data": params.get("data"),
        "severity": severity,
        "createdGte": params.get("createdGte"),
        "createdLte": params.get("createdLte"),
    }
    parsed = filter_from_object(raw)
    echo: dict[str, Any] = {
        "tags": plain_tags or (tags if groups else None),
        "read": parsed.read,
        "archived": parsed.archived,
        "snoozed": parsed.snoozed,
        "seen": parsed.seen,
        "data": json.loads(raw["data"]) if parsed.data else None,
        "severity": severity,
    }
    return parsed, {key: value for key, value in echo.items() if value is not None}


def filter_list(text: str) -> list[dict[str, Any]]:
    """The count endpoints' `filters`: a JSON list of filter objects (each is echoed back)."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise BadRequestError("filters must be a JSON list of filter objects") from None
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise BadRequestError("filters must be a JSON list of filter objects")
    if len(raw) > _MAX_FILTERS:
        raise BadRequestError(f"filters accepts at most {_MAX_FILTERS} filters")
    return raw
