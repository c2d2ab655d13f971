"""Which executor runs which step type. Other step types (digest, throttle) add themselves here."""

from __future__ import annotations

from herald.engine.steps.base import StepExecutor
from herald.engine.steps.channels import CHANNEL_SPECS, channel_step
from herald.engine.steps.custom import run_custom_step
from herald.engine.steps.delay import run_delay_step
from herald.engine.steps.in_app import run_in_app_step

STEP_EXECUTORS: dict[str, StepExecutor] = {
    "in_app": run_in_app_step,
    **{name: channel_step(spec) for name, spec in CHANNEL_SPECS.items()},
    "delay": run_delay_step,
    "custom": run_custom_step,
}
