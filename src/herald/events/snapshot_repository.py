"""Workflow snapshots, stored once per environment and content (`WorkflowSnapshot`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any, cast

from sqlalchemy import Table

from herald.db import json_text
from herald.kit.driver_insert import insert_rows
from herald.kit.identity_cache import IdentityCache
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import WorkflowSnapshot

_SNAPSHOTS = cast(Table, WorkflowSnapshot.__table__)
# Triggers of one workflow version share one snapshot object (`events.service`): its text is
# serialized and hashed once per environment.
_IDS: IdentityCache[str] = IdentityCache(10_000)


def snapshot_id(environment_id: str, text: str) -> str:
    """The id of a snapshot: the SHA-256 of its environment's id and its JSON text."""
    return hashlib.sha256(f"{environment_id}\n{text}".encode()).hexdigest()


def _stored_id(environment_id: str, snapshot: dict[str, Any]) -> str:
    return snapshot_id(environment_id, json_text(snapshot))


class WorkflowSnapshotRepository(EnvironmentScopedRepository[WorkflowSnapshot]):
    model = WorkflowSnapshot

    async def store(self, snapshots: Sequence[dict[str, Any]], now: datetime) -> list[str]:
        """The stored ids of these snapshots, by position; those not stored yet are inserted
        (one statement for all of them, skipping any stored meanwhile)."""
        environment_id = self.scope.environment_id
        ids: list[str] = []
        distinct: dict[str, dict[str, Any]] = {}
        by_identity: dict[int, str] = {}  # the triggers of a bulk share their snapshot object
        for snapshot in snapshots:
            stored_id = by_identity.get(id(snapshot))
            if stored_id is None:
                derive = partial(_stored_id, environment_id, snapshot)
                stored_id = by_identity[id(snapshot)] = _IDS.get(snapshot, derive, environment_id)
                distinct[stored_id] = snapshot
            ids.append(stored_id)
        rows = [{"id": stored_id, "workflow": snapshot} for stored_id, snapshot in distinct.items()]
        shared = {
            "environment_id": environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
        }
        await insert_rows(self.session, _SNAPSHOTS, rows, shared, conflict=("id",))
        return ids
