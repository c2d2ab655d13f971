"""The custom step: its code runs in the developer's own Novu Framework bridge, which Herald
does not call; the step passes through with an execution detail saying so."""

from __future__ import annotations

from herald.engine.details import DetailStatus, record_detail
from herald.engine.steps.base import ContinueNow, StepContext, StepOutcome


async def run_custom_step(ctx: StepContext) -> StepOutcome:
    record_detail(
        ctx,
        DetailStatus.SUCCESS,
        "Custom step passed through: Herald runs no custom step code on the server",
        raw={"reason": "no_bridge"},
    )
    return ContinueNow()
