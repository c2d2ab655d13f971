"""Subscriber preferences: global and per-workflow channel switches, and their resolution.

Workflows are keyed by their identifier. A channel is enabled for a subscriber on a workflow
by the first of these that decides it: the subscriber's switch for that workflow, the
subscriber's global switch, the workflow's own default, and otherwise yes. Critical
workflows ignore preferences; the caller (the engine) checks that before asking.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso
from herald.models import GLOBAL_PREFERENCE, SubscriberPreference
from herald.preferences.repository import PreferenceRepository
from herald.preferences.schemas import (
    CHANNELS,
    BulkUpdateSubscriberPreferenceItemDto,
    GetPreferencesResponseDto,
    GetSubscriberPreferencesDto,
    PatchSubscriberPreferencesDto,
    PreferenceWorkflowDto,
    ScheduleDto,
    SubscriberGlobalPreferenceDto,
    SubscriberPreferenceChannels,
    SubscriberPreferenceOverrideDto,
    SubscriberPreferencesWorkflowInfoDto,
    SubscriberWorkflowPreferenceDto,
)
from herald.subscribers import service as subscribers


def resolve_channels(
    global_switches: Mapping[str, bool],
    workflow_switches: Mapping[str, bool],
    workflow_defaults: Mapping[str, bool] | None = None,
) -> dict[str, bool]:
    """Every channel's resolved switch (see the module docstring for the order)."""
    return {
        channel: channel_switch(global_switches, workflow_switches, workflow_defaults, channel)
        for channel in CHANNELS
    }


def channel_switch(
    global_switches: Mapping[str, bool],
    workflow_switches: Mapping[str, bool],
    workflow_defaults: Mapping[str, bool] | None,
    channel: str,
) -> bool:
    """One channel's resolved switch (the delivery engine asks for one channel at a time)."""
    if channel in workflow_switches:
        return workflow_switches[channel]
    if channel in global_switches:
        return global_switches[channel]
    return (workflow_defaults or {}).get(channel, True)


async def channel_enabled(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_pk: str,
    workflow_identifier: str,
    channel: str,
    workflow_defaults: Mapping[str, bool] | None = None,
) -> bool:
    """Whether `channel` is enabled for the subscriber (internal id) on the workflow."""
    global_row, workflow_row = await PreferenceRepository(session, scope).find_for_workflow(
        subscriber_pk, workflow_identifier
    )
    return channel_switch(_switches(global_row), _switches(workflow_row), workflow_defaults, channel)


async def get_preferences(
    session: AsyncSession, scope: EnvironmentScope, subscriber_id: str
) -> GetSubscriberPreferencesDto:
    subscriber = await subscribers.find(session, scope, subscriber_id)
    rows = await PreferenceRepository(session, scope).of_subscriber(subscriber.id)
    global_row = next((row for row in rows if row.workflow_identifier == GLOBAL_PREFERENCE), None)
    global_channels = resolve_channels(_switches(global_row), {})
    return GetSubscriberPreferencesDto(
        global_=SubscriberGlobalPreferenceDto(
            enabled=any(global_channels.values()),
            channels=_channels(global_channels),
            schedule=ScheduleDto.model_validate(global_row.schedule)
            if global_row and global_row.schedule
            else None,
        ),
        workflows=[
            _workflow_preference(row, _switches(global_row))
            for row in rows
            if row.workflow_identifier != GLOBAL_PREFERENCE
        ],
    )


async def update_preferences(
    session: AsyncSession, scope: EnvironmentScope, subscriber_id: str, request: PatchSubscriberPreferencesDto
) -> GetSubscriberPreferencesDto:
    """Set global switches (and the schedule), or one workflow's switches with `workflowId`."""
    subscriber = await subscribers.find(session, scope, subscriber_id)
    repository = PreferenceRepository(session, scope)
    row = await repository.find_or_add(subscriber.id, request.workflow_id or GLOBAL_PREFERENCE)
    if request.channels is not None:
        row.channels = {**row.channels, **request.channels.given()}
    if request.schedule is not None and request.workflow_id is None:
        row.schedule = request.schedule.model_dump(by_alias=True, exclude_none=True)
    await session.flush()
    return await get_preferences(session, scope, subscriber_id)


async def bulk_update_preferences(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_id: str,
    items: list[BulkUpdateSubscriberPreferenceItemDto],
) -> list[GetPreferencesResponseDto]:
    subscriber = await subscribers.find(session, scope, subscriber_id)
    repository = PreferenceRepository(session, scope)
    global_row = await repository.find(subscriber.id, GLOBAL_PREFERENCE)
    updated: dict[str, SubscriberPreference] = {}
    for item in items:
        row = await repository.find_or_add(subscriber.id, item.workflow_id)
        row.channels = {**row.channels, **item.channels.given()}
        updated[item.workflow_id] = row
    await session.flush()
    answers = []
    for identifier, row in updated.items():
        channels = resolve_channels(_switches(global_row), row.channels)
        answers.append(
            GetPreferencesResponseDto(
                level="template",
                enabled=any(channels.values()),
                channels=_channels(channels),
                workflow=PreferenceWorkflowDto(
                    id=identifier, identifier=identifier, name=identifier, critical=False, severity="none"
                ),
            )
        )
    return answers


def _switches(row: SubscriberPreference | None) -> dict[str, bool]:
    return dict(row.channels) if row is not None else {}


def _channels(resolved: Mapping[str, bool]) -> SubscriberPreferenceChannels:
    return SubscriberPreferenceChannels.model_validate(dict(resolved))


def _workflow_preference(
    row: SubscriberPreference, global_switches: Mapping[str, bool]
) -> SubscriberWorkflowPreferenceDto:
    channels = resolve_channels(global_switches, row.channels)
    identifier = row.workflow_identifier
    return SubscriberWorkflowPreferenceDto(
        enabled=any(channels.values()),
        channels=_channels(channels),
        overrides=[
            SubscriberPreferenceOverrideDto(channel=channel, source="subscriber")
            for channel in CHANNELS
            if channel in row.channels
        ],
        workflow=SubscriberPreferencesWorkflowInfoDto(
            slug=identifier, identifier=identifier, name=identifier
        ),
        updated_at=iso(row.updated_at),
    )
