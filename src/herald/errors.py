"""Errors in Novu's wire shape, and the handlers that write every error response.

Every error body carries `statusCode`, `timestamp`, `path` (with the query), `message` and
`error` (the reason phrase), as NestJS writes them. Validation failures add `errors`.
"""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from herald.kit.time import iso_now

log = structlog.get_logger("herald.errors")

_MAX_ECHOED_VALUE_CHARS = 200
# Values under these request fields may be secrets: their validation errors never echo them.
_NEVER_ECHOED_FIELDS = frozenset({"credentials"})


class HeraldError(Exception):
    """An expected failure with an HTTP status and a message safe to show the caller."""

    def __init__(
        self,
        status_code: int,
        message: Any,
        *,
        errors: Any = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message if isinstance(message, str) else HTTPStatus(status_code).phrase)
        self.status_code = status_code
        self.message = message
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers


class NotFoundError(HeraldError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class BadRequestError(HeraldError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class FieldValidationError(HeraldError):
    """A 422 naming the offending fields, as Novu's ValidationErrorDto."""

    def __init__(self, field_messages: dict[str, str], values: dict[str, Any] | None = None) -> None:
        values = values or {}
        errors = {
            field: {"messages": [message], **({"value": values[field]} if field in values else {})}
            for field, message in field_messages.items()
        }
        super().__init__(422, "Validation Error", errors=errors)


def request_path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def error_body(scope: Scope, status_code: int, message: Any, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "statusCode": status_code,
        "timestamp": iso_now(),
        "path": request_path(scope),
        "message": message,
        "error": HTTPStatus(status_code).phrase,
    }
    body.update({key: value for key, value in fields.items() if value is not None})
    return body


def error_response(
    scope: Scope, status_code: int, message: Any, headers: dict[str, str] | None = None, **fields: Any
) -> JSONResponse:
    return JSONResponse(error_body(scope, status_code, message, **fields), status_code, headers=headers)


def herald_error_response(scope: Scope, exc: HeraldError) -> JSONResponse:
    return error_response(scope, exc.status_code, exc.message, exc.headers, errors=exc.errors, **exc.extra)


async def _herald_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HeraldError)
    return herald_error_response(request.scope, exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message: Any = exc.detail
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase:
        message = f"Cannot {request.method} {request.url.path}"
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(request.scope, exc.status_code, message, headers)


RouteMethods = list[tuple[re.Pattern[str], frozenset[str]]]


def index_route_methods(routers: list[APIRouter]) -> RouteMethods:
    """Path patterns and their methods, so a 405 can list every method the path allows."""
    return [
        (route.path_regex, frozenset(route.methods or ()))
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def _allowed_methods(request: Request) -> list[str]:
    index: RouteMethods = getattr(request.app.state, "route_methods", [])
    allowed = {method for pattern, methods in index if pattern.match(request.url.path) for method in methods}
    return sorted(allowed)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return error_response(request.scope, 400, "Request body is not valid JSON")
    return error_response(request.scope, 422, "Validation Error", errors=_field_errors(problems))


def unexpected_error_response(scope: Scope, exc: BaseException) -> JSONResponse:
    """The 500 answer: a generic message and an `errorId` that finds the logged traceback."""
    error_id = uuid.uuid4().hex
    log.error(
        "unhandled_exception",
        error_id=error_id,
        method=scope.get("method"),
        path=scope.get("path"),
        exception_type=type(exc).__name__,
        exc_info=exc,
    )
    return error_response(scope, 500, "Internal server error", errorId=error_id)


def _field_errors(problems: Any) -> dict[str, dict[str, Any]]:
    errors: dict[str, dict[str, Any]] = {}
    for problem in problems:
        location = [str(part) for part in problem.get("loc", ())]
        if location and location[0] in {"body", "query", "path", "header", "cookie"}:
            location = location[1:]
        field = ".".join(location) or "body"
        entry = errors.setdefault(field, {"messages": []})
        entry["messages"].append(problem.get("msg", "Invalid value"))
        if (
            problem.get("type") != "missing"
            and "value" not in entry
            and _NEVER_ECHOED_FIELDS.isdisjoint(location)
        ):
            echoed = _echoable(problem.get("input"))
            if echoed is not None:
                entry["value"] = echoed
    return errors


def _echoable(value: Any) -> Any:
    """Short scalars are echoed back as Novu does; large or nested input is not."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= _MAX_ECHOED_VALUE_CHARS:
        return value
    return None


# PostgreSQL refuses NUL characters in text (22021) and `\u0000` in JSON documents (22P05).
_UNSTORABLE_TEXT_STATES = frozenset({"22021", "22P05"})


def database_error_response(scope: Scope, exc: DBAPIError) -> JSONResponse:
    """Text the database cannot store is the caller's error (400); anything else stays a 500."""
    if getattr(exc.orig, "sqlstate", None) in _UNSTORABLE_TEXT_STATES:
        return error_response(scope, 400, "Text values must not contain NUL (\\u0000) characters")
    return unexpected_error_response(scope, exc)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    return database_error_response(request.scope, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HeraldError, _herald_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
