"""Triggers: one trigger, a bulk of them, or a broadcast, become an event row with a snapshot
of the workflow, stored in the caller's (request's) transaction with its expansion (for each
recipient a notification and its first step job; fan-out jobs for topics and broadcasts, see
`events.expansion`) or with the job that expands it later. A transactionId already used in the
environment is never processed again. Cancel stops everything of a transaction that is still
pending.

The work is done for a whole batch at once (a single trigger is a batch of one), so that a
bulk of 100 events costs a handful of statements, not hundreds. It has two phases: `check`
(read-only: the workflow, its payload schema) and `store` (the writes), so that the writes of
many concurrent requests can share one transaction (`events.intake`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.dispatch import EventRun
from herald.engine.payload_schema import validate_payload
from herald.engine.repository import NotificationRepository
from herald.engine.snapshot import workflow_snapshot
from herald.engine.steps.digest import hand_over_windows, withdraw_digested_events
from herald.errors import FieldValidationError, HeraldError
from herald.events.expansion import AcceptedEvent, DeferredEvent, EventExpansion, Recipient, expansion_jobs
from herald.events.repository import EventRepository, EventStatus
from herald.events.schemas import (
    TenantPayloadDto,
    TriggerAnswer,
    TriggerEventRequestDto,
    TriggerEventToAllRequestDto,
    TriggerStatus,
)
from herald.events.snapshot_repository import WorkflowSnapshotRepository
from herald.jobs.repository import JobRepository
from herald.kit.ids import time_ordered_uuids
from herald.kit.scope import EnvironmentScope
from herald.models import Workflow
from herald.workflows.repository import WorkflowDefinitions, WorkflowRepository

TriggerRequest = TriggerEventRequestDto | TriggerEventToAllRequestDto
_BULK_EVENTS: TypeAdapter[list[TriggerEventRequestDto]] = TypeAdapter(list[TriggerEventRequestDto])


@dataclass
class PreparedTrigger:
    """One trigger that passed its checks, on its way to the database."""

    request: TriggerRequest
    transaction_id: str
    snapshot: dict[str, Any]
    """The workflow's, as stored on the event (its `id` and `identifier` among them)."""
    tenant: dict[str, Any] | None


Checked = PreparedTrigger | TriggerAnswer
"""A trigger after its checks: ready to store, or already answered (refused, inactive, ...)."""


class _Verdict(NamedTuple):
    """What the checks of a request need of one of its workflows, read once from the ORM object."""

    refusal: TriggerStatus | None
    """The answer of every trigger of an inactive workflow, or one without steps."""
    payload_schema: dict[str, Any] | None
    """The schema its payloads must fit, when the workflow validates them."""
    snapshot: dict[str, Any]


_VERDICTS: WeakKeyDictionary[Workflow, _Verdict] = WeakKeyDictionary()
"""The verdict of each workflow version `WorkflowDefinitions` holds: made once, not per
request (the events of one version share its snapshot; nothing changes it)."""


def _verdict(workflow: Workflow) -> _Verdict:
    verdict = _VERDICTS.get(workflow)
    if verdict is not None:
        return verdict
    refusal: TriggerStatus | None = None
    if not workflow.active:
        refusal = "trigger_not_active"
    elif not workflow.steps:
        refusal = "no_workflow_steps_defined"
    schema = workflow.payload_schema if workflow.validate_payload and workflow.payload_schema else None
    verdict = _VERDICTS[workflow] = _Verdict(refusal, schema, workflow_snapshot(workflow))
    return verdict


def _tenant(tenant: str | TenantPayloadDto | None) -> dict[str, Any] | None:
    if tenant is None:
        return None
    if isinstance(tenant, str):
        return {"identifier": tenant}
    return tenant.model_dump(by_alias=True, exclude_none=True)


class TriggerChecks:
    """The read-only phase: each workflow is read once per request, as committed now."""

    def __init__(self, definitions: WorkflowDefinitions, scope: EnvironmentScope) -> None:
        self.definitions = definitions
        self.scope = scope
        self._verdicts: dict[str, _Verdict | None] = {}
        self._expected = 1
        self._transaction_ids: list[str] = []

    def expect(self, count: int) -> None:
        """`count` triggers are to be checked: the transactionIds of those that come without one
        are made together (a bulk's share one time)."""
        self._expected = max(1, count)

    async def check(self, request: TriggerRequest) -> Checked:
        """The workflow must exist (422), be active and have steps, and the payload must fit
        the workflow's schema (400)."""
        name = request.name
        if name not in self._verdicts:
            workflow = await self.definitions.find(self.scope, name)
            self._verdicts[name] = None if workflow is None else _verdict(workflow)
        verdict = self._verdicts[name]
        if verdict is None:
            message = f'Workflow with identifier "{name}" was not found'
            raise FieldValidationError({"name": message}, {"name": name})
        transaction_id = request.transaction_id or self._new_transaction_id()
        if verdict.refusal is not None:
            return TriggerAnswer(verdict.refusal, transaction_id)
        if verdict.payload_schema is not None:
            validate_payload(verdict.payload_schema, request.payload)
        return PreparedTrigger(request, transaction_id, verdict.snapshot, _tenant(request.tenant))

    def _new_transaction_id(self) -> str:
        if not self._transaction_ids:
            self._transaction_ids = time_ordered_uuids(self._expected)
        return self._transaction_ids.pop()


class TriggerBatch(EventExpansion):
    """The writing phase, in the caller's transaction: the events, then their expansion, at
    once or (`defer`) by the worker."""

    async def store(self, prepared: Sequence[PreparedTrigger], *, defer: bool = False) -> list[TriggerAnswer]:
        """Events (a reused transactionId is not stored again), then their expansion: in this
        transaction, or with `defer` by the worker, through expansion jobs."""
        snapshot_ids = await WorkflowSnapshotRepository(self.session, self.scope).store(
            [item.snapshot for item in prepared], self.now
        )
        inserted = await EventRepository(self.session, self.scope).insert_unless_used(
            [
                {
                    "transaction_id": item.transaction_id,
                    "workflow_id": item.snapshot["id"],
                    "workflow_identifier": item.snapshot["identifier"],
                    "workflow_snapshot_id": snapshot_id,
                    "payload": item.request.payload,
                    "overrides": item.request.overrides,
                    "actor": None,
                    "tenant": item.tenant,
                    "context": item.request.context,
                }
                for item, snapshot_id in zip(prepared, snapshot_ids, strict=True)
            ],
            self.now,
            EventStatus.PENDING if defer else EventStatus.PROCESSING,
        )
        if inserted:
            await WorkflowRepository(self.session, self.scope).mark_triggered(
                {prepared[position].snapshot["id"] for position in inserted}, self.now
            )
        if defer:
            # Only what the event rows do not keep: no EventRun per event (a tenth of a bulk).
            deferred = [_deferred(prepared[position], event_id) for position, event_id in inserted.items()]
            await JobRepository(self.session, self.scope).enqueue(expansion_jobs(deferred), self.now)
        else:
            await self.expand(
                [_accepted(prepared[position], event_id) for position, event_id in inserted.items()]
            )
        return [
            TriggerAnswer("processed", item.transaction_id)
            if position in inserted
            else _duplicate(item.transaction_id)
            for position, item in enumerate(prepared)
        ]


def _accepted(item: PreparedTrigger, event_id: str) -> AcceptedEvent:
    request = item.request
    run = EventRun(
        event_id=event_id,
        transaction_id=item.transaction_id,
        workflow=item.snapshot,
        payload=request.payload,
        overrides=request.overrides,
        actor=None,
        tenant=item.tenant,
        context=request.context,
    )
    return AcceptedEvent(run, _recipients(request), request.actor)


def _deferred(item: PreparedTrigger, event_id: str) -> DeferredEvent:
    request = item.request
    return DeferredEvent(event_id, item.transaction_id, _recipients(request), request.actor)


def _recipients(request: TriggerRequest) -> list[Recipient] | None:
    """Whom the trigger names; None for a broadcast."""
    if not isinstance(request, TriggerEventRequestDto):
        return None
    return list(request.to) if isinstance(request.to, list) else [request.to]


async def check_trigger(checks: TriggerChecks, request: TriggerRequest) -> list[Checked]:
    """One trigger (or broadcast) checked; errors raise (422 unknown workflow, 400 bad payload)."""
    return [await checks.check(request)]


async def check_bulk(checks: TriggerChecks, events: list[dict[str, Any]]) -> list[Checked]:
    """Up to 100 triggers checked, each on its own: a bad one gets `status: "error"`. They are
    validated in one call first (a third cheaper per event than one by one); if any is invalid,
    one by one, so that each gets its own answer."""
    checked: list[Checked] = []
    checks.expect(len(events))
    try:
        requests: list[TriggerEventRequestDto] | None = _BULK_EVENTS.validate_python(events)
    except ValidationError:
        requests = None
    for position, body in enumerate(events):
        try:
            request = TriggerEventRequestDto.model_validate(body) if requests is None else requests[position]
            checked.append(await checks.check(request))
        except ValidationError as error:
            checked.append(_failed(body, [_validation_message(item) for item in error.errors()]))
        except HeraldError as error:
            checked.append(_failed(body, _error_messages(error)))
    return checked


def to_store(checked: Sequence[Checked]) -> list[PreparedTrigger]:
    return [item for item in checked if isinstance(item, PreparedTrigger)]


def answers(checked: Sequence[Checked], stored: Sequence[TriggerAnswer]) -> list[TriggerAnswer]:
    """The response of each checked trigger, in order: its refusal, or what storing it gave."""
    results = iter(stored)
    return [item if isinstance(item, TriggerAnswer) else next(results) for item in checked]


async def cancel_transaction(
    session: AsyncSession, scope: EnvironmentScope, transaction_id: str, now: datetime
) -> bool:
    """Cancel what is still pending of a transaction (delayed and waiting jobs, fan-out not yet
    done, notifications not yet settled); True when something was canceled."""
    await hand_over_windows(session, scope, transaction_id, now)
    await withdraw_digested_events(session, scope, transaction_id)
    jobs = await JobRepository(session, scope).cancel_pending(transaction_id, now)
    notifications = await NotificationRepository(session, scope).cancel_pending(transaction_id, now)
    unexpanded = await EventRepository(session, scope).cancel(transaction_id, now)
    return bool(jobs or notifications or unexpanded)


def _duplicate(transaction_id: str) -> TriggerAnswer:
    return TriggerAnswer(
        "error",
        transaction_id,
        [
            f"Duplicate transactionId: {transaction_id} was already used in this environment; "
            "the trigger was not processed again"
        ],
    )


def _failed(body: Any, errors: list[str]) -> TriggerAnswer:
    transaction_id = body.get("transactionId") if isinstance(body, dict) else None
    return TriggerAnswer(
        "error", transaction_id if isinstance(transaction_id, str) else None, errors, acknowledged=False
    )


def _validation_message(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()))
    return f"{location}: {error.get('msg')}" if location else str(error.get("msg"))


def _error_messages(error: HeraldError) -> list[str]:
    if isinstance(error.errors, dict):
        return [message for item in error.errors.values() for message in item.get("messages", [])]
    if isinstance(error.errors, list):
        return [
            f"{item.get('field')}: {item.get('message')}" for item in error.errors if isinstance(item, dict)
        ]
    return [str(error.message)]
