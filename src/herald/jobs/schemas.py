"""What the queue hands to a handler, and how an enqueue is described."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: str
    args: dict[str, Any]
    run_at: datetime | None = None
    transaction_id: str | None = None
    notification_id: str | None = None
    max_attempts: int = 5


@dataclass(frozen=True, slots=True)
class LeasedJob:
    id: str
    environment_id: str
    organization_id: str
    kind: str
    args: dict[str, Any] = field(repr=False)
    attempts: int
    max_attempts: int
    transaction_id: str | None
    notification_id: str | None
    lease_owner: str


class JobStatus:
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass
class BatchResult:
    """What a batch handler answers: the jobs that failed (their effects left out), and those
    it handed back to run one per transaction. Every other job of the batch is done."""

    failed: dict[str, Exception] = field(default_factory=dict)
    deferred: list[LeasedJob] = field(default_factory=list)
