"""Workflow snapshots, stored once per environment and content (`WorkflowSnapshot`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from herald.db import json_text
from herald.kit.driver_insert import insert_rows
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import WorkflowSnapshot

_SNAPSHOTS = cast(Table, WorkflowSnapshot.__table__)
_MAX_REMEMBERED = 10_000
# (environment id, id() of a snapshot object) -> (that object, its stored id). Triggers of one
# workflow version share one snapshot object (`events.service`): its text is hashed once. The
# object is kept here, so its id() is not reused while it is remembered.
_IDS_BY_OBJECT: dict[tuple[str, int], tuple[dict[str, Any], str]] = {}


def snapshot_id(environment_id: str, text: str) -> str:
    """The id of a snapshot: the SHA-256 of its environment's id and its JSON text."""
    return hashlib.sha256(f"{environment_id}\n{text}".encode()).hexdigest()


class WorkflowSnapshotRepository(EnvironmentScopedRepository[WorkflowSnapshot]):
    model = WorkflowSnapshot

    async def store(self, snapshots: Sequence[dict[str, Any]], now: datetime) -> list[str]:
        """The stored ids of these snapshots, by position; those not stored yet are inserted
        (one statement for all of them, skipping any stored meanwhile)."""
        environment_id = self.scope.environment_id
        ids: list[str] = []
        new: dict[str, dict[str, Any]] = {}
        for snapshot in snapshots:
            remembered = _IDS_BY_OBJECT.get((environment_id, id(snapshot)))
            if remembered is None:
                stored_id = snapshot_id(environment_id, json_text(snapshot))
                if len(_IDS_BY_OBJECT) >= _MAX_REMEMBERED:
                    _IDS_BY_OBJECT.clear()
                _IDS_BY_OBJECT[(environment_id, id(snapshot))] = (snapshot, stored_id)
            else:
                stored_id = remembered[1]
            ids.append(stored_id)
            new[stored_id] = snapshot
        rows = [{"id": stored_id, "workflow": snapshot} for stored_id, snapshot in new.items()]
        shared = {
            "environment_id": environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
        }
        await insert_rows(self.session, _SNAPSHOTS, rows, shared, conflict=("id",))
        return ids
