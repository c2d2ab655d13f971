"""The contract between the step runner and each step type's executor.

The runner (one job per step of one notification) builds a `StepContext`, calls the
executor registered for the step's type, and acts on the `StepOutcome`, all inside the
job's transaction (so a re-run after a crash repeats nothing that committed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.scope import EnvironmentScope
from herald.realtime.publisher import NullPublisher, RealtimePublisher


@dataclass(frozen=True)
class StepSnapshot:
    id: str
    step_id: str
    name: str
    type: str
    control_values: dict[str, Any]


@dataclass(frozen=True)
class WorkflowSnapshot:
    id: str | None
    identifier: str
    name: str
    critical: bool
    severity: str
    tags: list[str]


@dataclass(frozen=True)
class StepContext:
    session: AsyncSession
    scope: EnvironmentScope
    job_id: str
    notification_id: str
    event_id: str
    transaction_id: str
    subscriber_row_id: str
    subscriber: dict[str, Any]
    workflow: WorkflowSnapshot
    step: StepSnapshot
    step_index: int
    payload: dict[str, Any]
    variables: dict[str, Any] = field(repr=False)
    """The Liquid scope: payload, subscriber, steps (outputs of earlier steps), actor, tenant."""
    now: datetime
    resume: dict[str, Any] | None = None
    """Set when this run of the step was scheduled by the step's own `ContinueAt(resume=...)`."""
    realtime: RealtimePublisher = field(default_factory=NullPublisher, repr=False)
    """Where in-app deliveries are announced (after commit)."""


@dataclass(frozen=True)
class ContinueNow:
    """Run the next step at once; `outputs` become `steps.<stepId>` for later steps."""

    outputs: dict[str, Any] | None = None


@dataclass(frozen=True)
class ContinueAt:
    """Continue at `run_at`. Without `resume` the next step runs then (a delay). With `resume`
    this same step runs again then, with `StepContext.resume` set to it, and decides anew (a
    digest window closing: collect the events, then `ContinueNow(outputs=...)`).
    `outputs` become `steps.<stepId>` for later steps."""

    run_at: datetime
    outputs: dict[str, Any] | None = None
    resume: dict[str, Any] | None = None


@dataclass(frozen=True)
class Absorbed:
    """This notification's run ends here: its event was handed to another run (a digest)."""

    detail: str


@dataclass(frozen=True)
class Halt:
    """Stop this notification's workflow (throttled, for example); recorded with `detail`."""

    detail: str


StepOutcome = ContinueNow | ContinueAt | Absorbed | Halt
StepExecutor = Callable[[StepContext], Awaitable[StepOutcome]]
