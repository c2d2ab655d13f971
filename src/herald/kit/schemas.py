"""Base models for Novu's DTOs, the `{data: ...}` envelope, and the documented error shapes."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class NovuModel(BaseModel):
    """camelCase on the wire; unknown request fields are accepted and ignored, as Novu does."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
        extra="ignore",
    )


class Envelope(BaseModel, Generic[T]):
    """Novu wraps every non-paginated success body as `{"data": ...}`."""

    data: T


class ErrorDto(NovuModel):
    status_code: int = Field(examples=[404])
    timestamp: str = Field(examples=["2024-12-12T13:00:00.000Z"])
    path: str = Field(examples=["/v1/environments/0123456789abcdef01234567"])
    message: Any = Field(default=None, examples=["Environment not found"])
    error: str | None = Field(default=None, examples=["Not Found"])
    error_id: str | None = Field(default=None, description="Only on 500: finds the log line.")


class ConstraintValidation(NovuModel):
    messages: list[str]
    value: Any = None


class ValidationErrorDto(ErrorDto):
    errors: dict[str, ConstraintValidation]


def _error(description: str, model: type[BaseModel] = ErrorDto) -> dict[str, Any]:
    return {"description": description, "model": model}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Bad Request: the body is not valid JSON or breaks a rule"),
    401: _error("Unauthorized: missing, malformed or unknown secret key"),
    403: _error("Forbidden: the secret key may not touch this resource"),
    404: _error("Not Found"),
    409: _error("Conflict: the resource exists (failIfExists), or its Idempotency-Key is still running"),
    413: _error("Payload Too Large"),
    422: _error("Unprocessable Entity: request validation failed", ValidationErrorDto),
    429: _error("Too Many Requests: see the RateLimit-* and Retry-After headers"),
    500: _error("Internal Server Error: look up errorId in the logs"),
}
