"""The throttle step: at most `threshold` executions per window for each subscriber (and
throttle key value); the rest stop here (`Halt`), counted on the window.

The window opens with the first execution after the previous one ended and lasts `amount`
`unit`s (fixed), or, for a dynamic throttle, what the payload value at `dynamicKey` says:
an ISO 8601 time to throttle until, or `{amount, unit}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from herald.engine.steps.base import ContinueNow, Halt, StepContext, StepOutcome
from herald.engine.steps.grouping import StepGroup, payload_value
from herald.engine.steps.throttle_repository import ThrottleRepository
from herald.engine.steps.timing import add_duration, as_utc, duration
from herald.jobs.worker import PermanentJobError
from herald.kit.time import iso


async def run_throttle_step(ctx: StepContext) -> StepOutcome:
    controls = ctx.step.control_values
    now = as_utc(ctx.now)
    threshold = _threshold(controls.get("threshold"))
    count = await ThrottleRepository(ctx.session, ctx.scope).count_execution(
        StepGroup.of(ctx, controls.get("throttleKey")),
        now=now,
        window_end=_window_end(ctx, controls, now),
        threshold=threshold,
    )
    if count.passed:
        return ContinueNow()
    return Halt(
        f"Throttled: {count.executions} of {threshold} allowed executions already ran"
        f" in the window that ends at {iso(count.window_end)}"
    )


def _threshold(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return int(value)
    return 1


def _window_end(ctx: StepContext, controls: dict[str, Any], now: datetime) -> datetime:
    if controls.get("type") == "dynamic":
        key = controls.get("dynamicKey")
        value = payload_value(ctx.payload, key) if isinstance(key, str) else None
        what = f"the payload value {key!r} of throttle step {ctx.step.step_id!r}"
    else:
        value = controls
        what = f"throttle step {ctx.step.step_id!r}"
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            raise PermanentJobError(f"{what} is not an ISO 8601 time") from None
    window = duration(value)
    if window is None:
        raise PermanentJobError(f"{what} needs a window: an amount and a unit, or an ISO 8601 time")
    return add_duration(now, *window)
