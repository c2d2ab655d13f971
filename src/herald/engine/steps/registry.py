"""Which executor runs which step type."""

from __future__ import annotations

from herald.engine.steps.base import StepExecutor
from herald.engine.steps.channels import CHANNEL_SPECS, channel_step
from herald.engine.steps.custom import run_custom_step
from herald.engine.steps.delay import run_delay_step
from herald.engine.steps.digest import run_digest_step
from herald.engine.steps.in_app import run_in_app_step
from herald.engine.steps.throttle import run_throttle_step

STEP_EXECUTORS: dict[str, StepExecutor] = {
    "in_app": run_in_app_step,
    **{name: channel_step(spec) for name, spec in CHANNEL_SPECS.items()},
    "delay": run_delay_step,
    "custom": run_custom_step,
    "digest": run_digest_step,
    "throttle": run_throttle_step,
}
