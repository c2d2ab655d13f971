"""Step control values per step type: validation, defaults, content issues and JSON Schemas.

Known controls are checked (types, enumerations, ranges, JSONLogic `skip` rules, cron
expressions); unknown keys are dropped, except in custom steps, whose controls are free.
Channel content may be incomplete (Novu saves drafts and reports `issues`), but timing
controls of delay, digest and throttle steps must be usable: bad ones are a 422.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from croniter import croniter
from pydantic import BaseModel, Field, ValidationError, field_serializer, field_validator

from herald.engine.conditions import ConditionError, check_rule
from herald.engine.render import syntax_problems
from herald.errors import FieldValidationError
from herald.kit.schemas import NovuModel

StepType = Literal["in_app", "email", "sms", "push", "chat", "delay", "digest", "throttle", "custom"]
TimeUnit = Literal["seconds", "minutes", "hours", "days", "weeks", "months"]
CHANNEL_STEP_TYPES = ("in_app", "email", "sms", "push", "chat")


class _Controls(NovuModel):
    skip: dict[str, Any] | None = Field(
        default=None, description="JSONLogic conditions under which the step runs (empty: always)."
    )

    @field_validator("skip")
    @classmethod
    def _known_operators(cls, rule: dict[str, Any] | None) -> dict[str, Any] | None:
        if rule:
            try:
                check_rule(rule)
            except ConditionError as error:
                raise ValueError(str(error)) from None
        return rule


class Redirect(NovuModel):
    url: str = Field(max_length=2048)
    target: Literal["_self", "_blank", "_parent", "_top", "_unfencedTop"] | None = None


class Action(NovuModel):
    label: str | None = Field(default=None, max_length=512)
    redirect: Redirect | None = None


class InAppControls(_Controls):
    subject: str | None = None
    body: str | None = None
    avatar: str | None = None
    primary_action: Action | None = None
    secondary_action: Action | None = None
    redirect: Redirect | None = None
    data: dict[str, Any] | None = None
    disable_output_sanitization: bool | None = None


class EmailFrom(NovuModel):
    email: str | None = None
    name: str | None = None


class EmailControls(_Controls):
    subject: str | None = None
    body: str | None = None
    editor_type: Literal["block", "html"] | None = None
    layout_id: str | None = None
    from_: EmailFrom | None = Field(default=None, alias="from")
    reply_to: str | None = None
    preheader: str | None = None
    use_provider_defaults: bool | None = None
    disable_output_sanitization: bool | None = None


class SmsControls(_Controls):
    body: str | None = None


class ChatControls(_Controls):
    body: str | None = None


class PushControls(_Controls):
    subject: str | None = None
    body: str | None = None


class _Timed(_Controls):
    amount: float | None = Field(default=None, ge=1)
    unit: TimeUnit | None = None
    cron: str | None = Field(default=None, min_length=1)

    @field_serializer("amount")
    def _whole_amount(self, amount: float | None) -> float | int | None:
        return int(amount) if amount is not None and amount.is_integer() else amount

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, expression: str | None) -> str | None:
        if expression is not None and not croniter.is_valid(expression):
            raise ValueError(f'"{expression}" is not a valid cron expression')
        return expression


class DelayControls(_Timed):
    type: Literal["regular", "timed", "dynamic"] = "regular"
    dynamic_key: str | None = Field(
        default=None,
        min_length=1,
        description="Payload path holding the delay: an ISO 8601 time to wait until, or {amount, unit}.",
    )


class LookBackWindow(NovuModel):
    amount: float = Field(ge=1)
    unit: TimeUnit

    @field_serializer("amount")
    def _whole_amount(self, amount: float) -> float | int:
        return int(amount) if amount.is_integer() else amount


class DigestControls(_Timed):
    type: Literal["regular", "timed"] | None = None
    look_back_window: LookBackWindow | None = None
    digest_key: str | None = None


class ThrottleControls(_Controls):
    type: Literal["fixed", "dynamic"] = "fixed"
    amount: float | None = Field(default=None, ge=1)
    unit: Literal["minutes", "hours", "days"] | None = None
    dynamic_key: str | None = Field(default=None, min_length=1)
    threshold: int = Field(default=1, ge=1)
    throttle_key: str | None = None

    @field_serializer("amount")
    def _whole_amount(self, amount: float | None) -> float | int | None:
        return int(amount) if amount is not None and amount.is_integer() else amount


class CustomControls(NovuModel):
    custom: dict[str, Any] | None = None


_MODELS: dict[str, type[BaseModel]] = {
    "in_app": InAppControls,
    "email": EmailControls,
    "sms": SmsControls,
    "push": PushControls,
    "chat": ChatControls,
    "delay": DelayControls,
    "digest": DigestControls,
    "throttle": ThrottleControls,
    "custom": CustomControls,
}

# Applied when a timing step is created without any control values.
DEFAULT_CONTROLS: dict[str, dict[str, Any]] = {
    "delay": {"type": "regular", "amount": 30, "unit": "seconds"},
    "digest": {"type": "regular", "amount": 30, "unit": "seconds"},
    "throttle": {"type": "fixed", "amount": 1, "unit": "hours", "threshold": 1},
}

# Content a channel step cannot be sent without.
_REQUIRED_CONTENT: dict[str, tuple[str, ...]] = {
    "in_app": ("body",),
    "email": ("subject",),
    "sms": ("body",),
    "push": ("subject", "body"),
    "chat": ("body",),
}


def validate_controls(step_type: str, raw: dict[str, Any] | None, field: str) -> dict[str, Any]:
    """The control values to store for a step, or a 422 naming `field.<control>`."""
    if not raw:
        return dict(DEFAULT_CONTROLS.get(step_type, {}))
    if step_type == "custom":
        return dict(raw)
    try:
        model = _MODELS[step_type].model_validate(raw)
    except ValidationError as error:
        raise _field_errors(error, field) from None
    values = model.model_dump(by_alias=True, exclude_none=True)
    problems = _timing_problems(step_type, values)
    if problems:
        raise FieldValidationError(
            {f"{field}.{name}": message for name, message in problems.items()},
            {f"{field}.{name}": values.get(name) for name in problems if values.get(name) is not None},
        )
    return values


def _timing_problems(step_type: str, values: dict[str, Any]) -> dict[str, str]:
    """Cross-field rules of delay, digest and throttle controls (normalizes `values`)."""
    problems: dict[str, str] = {}
    kind = values.get("type")
    if step_type == "delay" and kind == "dynamic":
        if "dynamicKey" not in values:
            problems["dynamicKey"] = "dynamicKey is required for a dynamic delay"
        values["type"] = kind = "regular"  # the SDKs know only regular and timed
    if step_type == "digest" and kind is None:
        values["type"] = kind = "timed" if "cron" in values else "regular"
    if step_type in ("delay", "digest"):
        if kind == "timed":
            if "cron" not in values:
                problems["cron"] = f"cron is required for a timed {step_type}"
        elif "dynamicKey" not in values:
            problems.update(_amount_and_unit(values, step_type))
    if step_type == "throttle":
        if kind == "fixed":
            problems.update(_amount_and_unit(values, "fixed throttle"))
        elif "dynamicKey" not in values:
            problems["dynamicKey"] = "dynamicKey is required for a dynamic throttle"
    return problems


def _amount_and_unit(values: dict[str, Any], what: str) -> dict[str, str]:
    return {name: f"{name} is required for a {what}" for name in ("amount", "unit") if name not in values}


def _field_errors(error: ValidationError, field: str) -> FieldValidationError:
    messages: dict[str, str] = {}
    echoed: dict[str, Any] = {}
    for problem in error.errors():
        name = ".".join([field, *(str(part) for part in problem["loc"])])
        messages.setdefault(name, problem["msg"].removeprefix("Value error, "))
        value = problem.get("input")
        if isinstance(value, str | int | float | bool) and problem["type"] != "missing":
            echoed.setdefault(name, value)
    return FieldValidationError(messages, echoed)


def content_issues(step_type: str, values: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Novu's `issues.controls`: missing content of channel steps and Liquid that won't parse."""
    issues: dict[str, list[dict[str, str]]] = {}
    for name in _REQUIRED_CONTENT.get(step_type, ()):
        if not str(values.get(name) or "").strip():
            issues[name] = [{"issueType": "MISSING_VALUE", "message": f"{name.capitalize()} is required"}]
    renderable = {key: value for key, value in values.items() if key != "skip"}
    for path, message in syntax_problems(renderable).items():
        issues.setdefault(path, []).append(
            {"issueType": "ILLEGAL_VARIABLE_IN_CONTROL_VALUE", "message": f"Invalid Liquid: {message}"}
        )
    return issues


def response_values(step_type: str, values: dict[str, Any]) -> dict[str, Any]:
    """Control values as the SDKs parse them (an email step always carries a subject)."""
    if step_type == "email" and "subject" not in values:
        return {"subject": "", **values}
    return values


@cache
def control_schema(step_type: str) -> dict[str, Any]:
    """The JSON Schema of a step type's controls (`controls.dataSchema`)."""
    return _MODELS[step_type].model_json_schema(by_alias=True)
