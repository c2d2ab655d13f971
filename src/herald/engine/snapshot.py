"""The workflow as a trigger saw it: stored on the event, read back by every step job.

Snapshots never change once written, so the step runner keeps recently used ones in memory
(a 100,000-member topic trigger reads one snapshot, not 100,000).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from herald.engine.steps.base import StepSnapshot, WorkflowSnapshot
from herald.kit.identity_cache import IdentityCache
from herald.models import Workflow

CHANNEL_STEP_TYPES = frozenset({"in_app", "email", "sms", "push", "chat"})


@dataclass(frozen=True)
class EventSnapshot:
    """What the step runner needs from an event, parsed once."""

    event_id: str
    transaction_id: str
    workflow: WorkflowSnapshot
    steps: tuple[StepSnapshot, ...]
    channel_defaults: dict[str, bool]
    payload: dict[str, Any]
    actor: dict[str, Any] | None
    tenant: dict[str, Any] | None
    context: dict[str, Any]


def workflow_snapshot(workflow: Workflow) -> dict[str, Any]:
    """The JSON stored on the event."""
    preferences = workflow.preferences or {}
    every = (preferences.get("all") or {}).get("enabled", True)
    channels = preferences.get("channels") or {}
    return {
        "id": workflow.id,
        "identifier": workflow.identifier,
        "name": workflow.name,
        "critical": workflow.critical,
        "severity": workflow.severity,
        "tags": list(workflow.tags or []),
        "channelDefaults": {
            name: bool(value.get("enabled", every))
            for name, value in channels.items()
            if isinstance(value, dict)
        },
        "steps": [
            {
                "id": step.id,
                "stepId": step.step_id,
                "name": step.name,
                "type": step.type,
                "controlValues": step.control_values or {},
            }
            for step in workflow.steps
        ],
    }


def step_channels(snapshot: dict[str, Any]) -> list[str]:
    return list(
        dict.fromkeys(step["type"] for step in snapshot["steps"] if step["type"] in CHANNEL_STEP_TYPES)
    )


@dataclass(frozen=True)
class ParsedWorkflow:
    """The workflow part of an event snapshot: the same for every event of one workflow version."""

    workflow: WorkflowSnapshot
    steps: tuple[StepSnapshot, ...]
    channel_defaults: dict[str, bool]


def parse_workflow(workflow: dict[str, Any]) -> ParsedWorkflow:
    return ParsedWorkflow(
        workflow=WorkflowSnapshot(
            id=workflow.get("id"),
            identifier=workflow["identifier"],
            name=workflow["name"],
            critical=bool(workflow.get("critical")),
            severity=workflow.get("severity") or "none",
            tags=list(workflow.get("tags") or []),
        ),
        steps=tuple(
            StepSnapshot(
                id=step["id"],
                step_id=step["stepId"],
                name=step["name"],
                type=step["type"],
                control_values=step.get("controlValues") or {},
            )
            for step in workflow["steps"]
        ),
        channel_defaults=dict(workflow.get("channelDefaults") or {}),
    )


def event_snapshot(
    event_id: str,
    transaction_id: str,
    parsed: ParsedWorkflow,
    payload: dict[str, Any],
    actor: dict[str, Any] | None,
    tenant: dict[str, Any] | None,
    context: dict[str, Any] | None,
) -> EventSnapshot:
    return EventSnapshot(
        event_id=event_id,
        transaction_id=transaction_id,
        workflow=parsed.workflow,
        steps=parsed.steps,
        channel_defaults=parsed.channel_defaults,
        payload=payload,
        actor=actor,
        tenant=tenant,
        context=context or {},
    )


def parse_event(
    event_id: str,
    transaction_id: str,
    workflow: dict[str, Any],
    payload: dict[str, Any],
    actor: dict[str, Any] | None,
    tenant: dict[str, Any] | None,
    context: dict[str, Any] | None,
) -> EventSnapshot:
    return event_snapshot(event_id, transaction_id, parse_workflow(workflow), payload, actor, tenant, context)


class WorkflowTextCache:
    """Workflow snapshots by their stored JSON text, loaded (the dict) and parsed, and parsed
    snapshots still in memory by object: the events of one workflow version share one load and
    one parse (and one `StepSnapshot` per step, so what is prepared per step, such as its Liquid
    renderer, is prepared once). Nothing changes a snapshot once loaded."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._loaded: dict[str, dict[str, Any]] = {}
        self._objects: IdentityCache[ParsedWorkflow] = IdentityCache(size)

    def loaded(self, text: str) -> dict[str, Any]:
        found = self._loaded.get(text)
        if found is None:
            if len(self._loaded) >= self.size:
                self._loaded.clear()
            found = self._loaded[text] = json.loads(text)
        return found

    def parsed(self, text: str) -> ParsedWorkflow:
        return self.parsed_object(self.loaded(text))

    def parsed_object(self, workflow: dict[str, Any]) -> ParsedWorkflow:
        """The same for a snapshot still in memory (a trigger's: the triggers of one workflow
        version share the object), by identity."""
        return self._objects.get(workflow, lambda: parse_workflow(workflow))


class SnapshotCache:
    """A bounded LRU of parsed event snapshots, keyed by event id (they are immutable)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[str, EventSnapshot] = OrderedDict()

    def get(self, event_id: str) -> EventSnapshot | None:
        item = self._items.get(event_id)
        if item is not None:
            self._items.move_to_end(event_id)
        return item

    def put(self, snapshot: EventSnapshot) -> None:
        self._items[snapshot.event_id] = snapshot
        self._items.move_to_end(snapshot.event_id)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
