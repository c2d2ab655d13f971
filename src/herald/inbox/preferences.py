"""The Inbox's preferences page: the subscriber's global switches and one entry per active
workflow, resolved as `herald.preferences` resolves them for delivery. Critical workflows are
listed (with `criticality=critical` or `all`) but cannot be switched off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import BadRequestError, NotFoundError
from herald.inbox.repository import InboxWorkflowRepository
from herald.inbox.schemas import (
    BulkInboxPreferenceItemDto,
    InboxPreferenceDto,
    InboxPreferenceWorkflowDto,
    UpdateInboxPreferenceDto,
)
from herald.kit.scope import EnvironmentScope
from herald.models import GLOBAL_PREFERENCE, SubscriberPreference, Workflow
from herald.preferences.repository import PreferenceRepository
from herald.preferences.schemas import CHANNELS, PatchPreferenceChannelsDto, SubscriberPreferenceChannels
from herald.preferences.service import resolve_channels
from herald.workflows.repository import WorkflowRepository

Criticality = Literal["critical", "nonCritical", "all"]


async def list_preferences(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_pk: str,
    *,
    criticality: Criticality = "nonCritical",
    tags: Sequence[str] = (),
    severity: Sequence[str] = (),
) -> list[InboxPreferenceDto]:
    rows = {
        row.workflow_identifier: row
        for row in await PreferenceRepository(session, scope).of_subscriber(subscriber_pk)
    }
    global_row = rows.get(GLOBAL_PREFERENCE)
    answer = [_global(global_row)]
    for workflow in await InboxWorkflowRepository(session, scope).listable():
        if criticality == "critical" and not workflow.critical:
            continue
        if criticality == "nonCritical" and workflow.critical:
            continue
        if tags and not set(tags) & set(workflow.tags or []):
            continue
        if severity and workflow.severity not in severity:
            continue
        answer.append(_for_workflow(workflow, global_row, rows.get(workflow.identifier)))
    return answer


async def global_preference(
    session: AsyncSession, scope: EnvironmentScope, subscriber_pk: str
) -> InboxPreferenceDto:
    return _global(await PreferenceRepository(session, scope).find(subscriber_pk, GLOBAL_PREFERENCE))


async def update_global(
    session: AsyncSession, scope: EnvironmentScope, subscriber_pk: str, request: UpdateInboxPreferenceDto
) -> InboxPreferenceDto:
    row = await PreferenceRepository(session, scope).find_or_add(subscriber_pk, GLOBAL_PREFERENCE)
    row.channels = {**row.channels, **request.given()}
    if request.schedule is not None:
        row.schedule = request.schedule
    await session.flush()
    return _global(row)


async def update_workflow(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_pk: str,
    workflow_reference: str,
    channels: PatchPreferenceChannelsDto,
) -> InboxPreferenceDto:
    workflow = await _workflow(session, scope, workflow_reference)
    repository = PreferenceRepository(session, scope)
    row = await repository.find_or_add(subscriber_pk, workflow.identifier)
    row.channels = {**row.channels, **channels.given()}
    await session.flush()
    return _for_workflow(workflow, await repository.find(subscriber_pk, GLOBAL_PREFERENCE), row)


async def bulk_update(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_pk: str,
    items: Sequence[BulkInboxPreferenceItemDto],
) -> list[InboxPreferenceDto]:
    return [await update_workflow(session, scope, subscriber_pk, item.workflow_id, item) for item in items]


async def _workflow(session: AsyncSession, scope: EnvironmentScope, reference: str) -> Workflow:
    workflow = await WorkflowRepository(session, scope).find(reference)
    if workflow is None:
        raise NotFoundError(f"Workflow with id: {reference} is not found")
    if workflow.critical:
        raise BadRequestError(f"Workflow with id: {reference} is critical, its preferences cannot be changed")
    return workflow


def _switches(row: SubscriberPreference | None) -> dict[str, bool]:
    return dict(row.channels) if row is not None else {}


def _channels(resolved: Mapping[str, bool]) -> SubscriberPreferenceChannels:
    return SubscriberPreferenceChannels.model_validate(dict(resolved))


def _global(row: SubscriberPreference | None) -> InboxPreferenceDto:
    channels = resolve_channels(_switches(row), {})
    return InboxPreferenceDto(
        level="global",
        enabled=any(channels.values()),
        channels=_channels(channels),
        schedule=row.schedule if row is not None and row.schedule else None,
    )


def _workflow_defaults(workflow: Workflow) -> dict[str, bool]:
    stored = (workflow.preferences or {}).get("channels") or {}
    return {
        channel: bool(value.get("enabled", True)) for channel, value in stored.items() if channel in CHANNELS
    }


def _for_workflow(
    workflow: Workflow, global_row: SubscriberPreference | None, row: SubscriberPreference | None
) -> InboxPreferenceDto:
    if workflow.critical:
        channels = {channel: True for channel in CHANNELS} | _workflow_defaults(workflow)
    else:
        channels = resolve_channels(_switches(global_row), _switches(row), _workflow_defaults(workflow))
    return InboxPreferenceDto(
        level="template",
        enabled=any(channels.values()),
        channels=_channels(channels),
        overrides=[{"channel": channel, "source": "subscriber"} for channel in _switches(row)],
        workflow=InboxPreferenceWorkflowDto(
            id=workflow.id,
            identifier=workflow.identifier,
            name=workflow.name,
            critical=workflow.critical,
            tags=list(workflow.tags or []),
            severity=workflow.severity,
        ),
    )
