"""Structured JSON logs on stderr, with secrets scrubbed before anything is written."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

REDACTED = "[redacted]"
REQUEST_ID: ContextVar[str | None] = ContextVar("herald_request_id", default=None)
"""The id of the request being served (set by `RequestContextMiddleware`), on each of its lines."""
_SECRET_FIELD = re.compile(r"authorization|secret|password|passwd|token|api_?key|credential|master", re.I)
_SECRET_IN_TEXT = [
    (re.compile(r"\b(ApiKey|Bearer|Basic)\s+[^\s\"',;]+", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"((?:token|secret|key|password)=)[^&\s\"']+", re.I), rf"\1{REDACTED}"),
]
# What each pattern above must find to match at all: a text without it is left as it is, at the
# cost of one search instead of a substitution per pattern (every value of every log line).
_MAY_HOLD_SECRET = re.compile(r"\b(?:ApiKey|Bearer|Basic)\s|(?:token|secret|key|password)=", re.I)


def scrub_text(text: str) -> str:
    if _MAY_HOLD_SECRET.search(text) is None:
        return text
    for pattern, replacement in _SECRET_IN_TEXT:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=4096)
def _is_secret_field(name: str) -> bool:
    """Log lines use a few field names over and over: each is matched once."""
    return _SECRET_FIELD.search(name) is not None


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: REDACTED if _is_secret_field(str(key)) else _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def redact_secrets(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = REDACTED if _is_secret_field(key) else _scrub(event[key])
    return event


_LEVEL_OF_METHOD = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "exception": logging.ERROR,
}


def add_request_id(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


class _LevelCheckedLogger(structlog.stdlib.BoundLogger):
    """structlog's stdlib logger, except that a line below the logger's level is dropped before
    its event is built: `filter_by_level` drops it only after the event dict is made and by
    raising DropEvent, which cost a request ~7 us for the log line of every request at
    `warning`."""

    def _proxy_to_logger(
        self, method_name: str, event: str | None = None, *event_args: str, **event_kw: Any
    ) -> Any:
        level = _LEVEL_OF_METHOD.get(method_name)
        if level is not None and not self._logger.isEnabledFor(level):
            return None
        return super()._proxy_to_logger(method_name, event, *event_args, **event_kw)


def configure_logging(level: str = "info") -> None:
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        # `_LevelCheckedLogger` drops most lines below the level before this; `filter_by_level`
        # still drops any other (a method name it does not map) before the rest of the chain.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=_LevelCheckedLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    for noisy in ("uvicorn.access", "sqlalchemy.engine", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(max(numeric_level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
