"""The delay step: the next step runs later. It is only a future job, so it survives restarts.

Control values (as the workflows API accepts them):
- `{"type": "regular", "amount": 5, "unit": "minutes"}`: a fixed duration;
- `{"type": "timed", "cron": "0 9 * * 1"}`: the next time the cron expression matches, in the
  subscriber's timezone (UTC when it has none);
- `{"type": "dynamic", "dynamicKey": "payload.sendAt"}`: the value at that path (`payload.`
  may be left out), either an ISO 8601 time to wait until or `{"amount", "unit"}`.
A time already past continues at once.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, croniter

from herald.engine.details import DetailStatus, record_detail
from herald.engine.render import RenderContext
from herald.engine.steps.base import ContinueAt, StepContext, StepOutcome
from herald.engine.steps.rendering import render_context, rendered_controls
from herald.jobs.worker import PermanentJobError
from herald.kit.time import iso

UNITS = ("seconds", "minutes", "hours", "days", "weeks", "months")


class DelayError(PermanentJobError):
    """The delay's control values cannot give a time."""


def add_amount(start: datetime, amount: Any, unit: Any) -> datetime:
    try:
        number = float(amount)
    except (TypeError, ValueError):
        raise DelayError(f"delay amount {amount!r} is not a number") from None
    if number < 0:
        raise DelayError("delay amount must not be negative")
    if unit == "months":
        whole = int(number)
        month_index = start.month - 1 + whole
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day) + timedelta(days=30 * (number - whole))
    if unit not in UNITS:
        raise DelayError(f"delay unit {unit!r} is not one of {', '.join(UNITS)}")
    return start + timedelta(**{unit: number})


def parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise DelayError(f"{value!r} is not an ISO 8601 timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def _lookup(context: RenderContext, path: str) -> Any:
    value: Any = context.variables()
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None and not path.startswith(("payload.", "subscriber.", "steps.", "actor.", "tenant.")):
        return _lookup(context, f"payload.{path}")
    return value


def _next_cron(expression: Any, now: datetime, timezone: str | None) -> datetime:
    try:
        zone = ZoneInfo(timezone) if timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    try:
        following: datetime = croniter(str(expression), now.astimezone(zone)).get_next(datetime)
    except (CroniterBadCronError, ValueError, KeyError) as error:
        raise DelayError(f"cron expression {expression!r} is not valid: {error}") from None
    return following


def delay_until(ctx: StepContext) -> datetime:
    controls = rendered_controls(ctx, ("type", "amount", "unit", "cron", "dynamicKey"))
    path = controls.get("dynamicKey")
    if path:
        value = _lookup(render_context(ctx), str(path))
        if value is None:
            raise DelayError(f"the delay path {path!r} has no value")
        if isinstance(value, dict):
            return add_amount(ctx.now, value.get("amount"), value.get("unit"))
        return parse_instant(value)
    if controls.get("type") == "timed" or controls.get("cron"):
        return _next_cron(controls.get("cron"), ctx.now, ctx.subscriber.get("timezone"))
    return add_amount(ctx.now, controls.get("amount", 0), controls.get("unit", "seconds"))


async def run_delay_step(ctx: StepContext) -> StepOutcome:
    run_at = max(delay_until(ctx), ctx.now)
    record_detail(ctx, DetailStatus.SUCCESS, f"Delayed until {iso(run_at)}", raw={"until": iso(run_at)})
    return ContinueAt(run_at=run_at, outputs={"until": iso(run_at)})
