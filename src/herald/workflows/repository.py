"""Queries on workflows and their steps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    ColumnElement,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from herald.db import Database
from herald.kit.ids import is_object_id
from herald.kit.repository import EnvironmentScopedRepository
from herald.kit.scope import EnvironmentScope
from herald.models import Workflow, WorkflowStep

SLUG_ID_MARKER = "_wf_"

_SORT_COLUMNS = {
    "createdAt": Workflow.created_at,
    "updatedAt": Workflow.updated_at,
    "name": Workflow.name,
    "lastTriggeredAt": Workflow.last_triggered_at,
}


@dataclass(frozen=True)
class WorkflowSearch:
    query: str | None = None
    tags: Sequence[str] = ()
    statuses: Sequence[str] = ()
    order_by: str = "createdAt"
    descending: bool = True
    offset: int = 0
    limit: int = 10


_WORKFLOW_TABLE = cast(Table, Workflow.__table__)
_STEP_TABLE = cast(Table, WorkflowStep.__table__)
_IDENTIFIED_IN_SCOPE = (
    _WORKFLOW_TABLE.c.environment_id == bindparam("environment_id"),
    _WORKFLOW_TABLE.c.organization_id == bindparam("organization_id"),
    _WORKFLOW_TABLE.c.identifier == bindparam("identifier"),
)
_WORKFLOW_BY_IDENTIFIER = select(_WORKFLOW_TABLE).where(*_IDENTIFIED_IN_SCOPE)
_VERSION_BY_IDENTIFIER = select(_WORKFLOW_TABLE.c.id, _WORKFLOW_TABLE.c.updated_at).where(
    *_IDENTIFIED_IN_SCOPE
)
_STEPS_OF_WORKFLOW = (
    select(_STEP_TABLE)
    .where(_STEP_TABLE.c.workflow_id == bindparam("workflow_id"))
    .order_by(_STEP_TABLE.c.position)
)
_MAX_CACHED_DEFINITIONS = 10_000
_WORKFLOW_DEFINITIONS = "workflow-definitions"
_LAST_TRIGGERED_RESOLUTION = timedelta(seconds=1)
_MARKED_BY_THIS_PROCESS: dict[str, datetime] = {}


class WorkflowDefinitions:
    """Workflows as triggers need them (with their steps, attached to no session), read outside
    any transaction (`Database.point_read`) through per-process caches. A workflow is used as
    cached while no configuration change has committed since it was checked
    (`Database.configuration_cache`); otherwise its committed row's id and `updatedAt` (every
    change of a workflow or its steps sets it) are read, and the whole workflow only if they
    moved. So a change or a deletion made by any process is seen at once."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._cache: dict[tuple[str, str], Workflow] = {}
        self._unchanged = database.configuration_cache(_WORKFLOW_DEFINITIONS)

    async def find(self, scope: EnvironmentScope, identifier: str) -> Workflow | None:
        key = (scope.environment_id, identifier)
        unchanged: Workflow | None = self._unchanged.get(key)
        if unchanged is not None:
            return unchanged
        token = self._unchanged.token()
        workflow = await self._checked(scope, identifier)
        if workflow is not None:
            self._unchanged.put(key, workflow, token)
        return workflow

    async def _checked(self, scope: EnvironmentScope, identifier: str) -> Workflow | None:
        key = (scope.environment_id, identifier)
        where = {
            "environment_id": scope.environment_id,
            "organization_id": scope.organization_id,
            "identifier": identifier,
        }
        version = await self.database.point_read(_VERSION_BY_IDENTIFIER, where)
        if not version:
            self._cache.pop(key, None)
            return None
        cached = self._cache.get(key)
        committed = (version[0]["id"], version[0]["updated_at"])
        if cached is not None and (cached.id, cached.updated_at) == committed:
            return cached
        found = await self.database.point_read(_WORKFLOW_BY_IDENTIFIER, where)
        if not found:
            return None
        workflow = Workflow(**found[0])
        steps = await self.database.point_read(_STEPS_OF_WORKFLOW, {"workflow_id": workflow.id})
        workflow.steps = [WorkflowStep(**row) for row in steps]
        if len(self._cache) >= _MAX_CACHED_DEFINITIONS:
            self._cache.clear()
        self._cache[key] = workflow
        return workflow


class WorkflowRepository(EnvironmentScopedRepository[Workflow]):
    model = Workflow

    async def find(self, reference: str) -> Workflow | None:
        """By identifier, database id, or slug (`<name>_wf_<id>`); the identifier wins a tie."""
        matches: list[ColumnElement[bool]] = [Workflow.identifier == reference]
        for candidate in (reference, reference.rpartition(SLUG_ID_MARKER)[2]):
            if is_object_id(candidate):
                matches.append(Workflow.id == candidate)
        statement = (
            self.select()
            .where(or_(*matches))
            .order_by(case((Workflow.identifier == reference, 0), else_=1))
            .limit(1)
        )
        workflow: Workflow | None = (await self.session.execute(statement)).scalar_one_or_none()
        return workflow

    async def mark_triggered(self, workflow_ids: Collection[str], now: datetime) -> None:
        """Set `lastTriggeredAt`, at most once a second per workflow (under load the row is hot),
        leaving `updatedAt` (the workflow's last change) as it is. A workflow this process marked
        less than a second ago is not even asked for (most group commits of triggers). It counts
        as a configuration change (`herald.kit.configuration_cache`): under load, the cached
        keys and workflows are checked again once a second."""
        due = [
            workflow_id
            for workflow_id in workflow_ids
            if (marked := _MARKED_BY_THIS_PROCESS.get(workflow_id)) is None
            or now - marked >= _LAST_TRIGGERED_RESOLUTION
        ]
        if not due:
            return
        if len(_MARKED_BY_THIS_PROCESS) >= _MAX_CACHED_DEFINITIONS:
            _MARKED_BY_THIS_PROCESS.clear()
        _MARKED_BY_THIS_PROCESS.update(dict.fromkeys(due, now))
        await self.session.execute(
            self.update()
            .where(
                Workflow.id.in_(due),
                or_(
                    Workflow.last_triggered_at.is_(None),
                    Workflow.last_triggered_at < now - _LAST_TRIGGERED_RESOLUTION,
                ),
            )
            .values(last_triggered_at=now, updated_at=Workflow.updated_at)
        )

    async def find_by_identifier(self, identifier: str) -> Workflow | None:
        statement = self.select().where(Workflow.identifier == identifier)
        workflow: Workflow | None = (await self.session.execute(statement)).scalar_one_or_none()
        return workflow

    async def identifier_taken(self, identifier: str) -> bool:
        statement = self.select(Workflow.id).where(Workflow.identifier == identifier).limit(1)
        return (await self.session.execute(statement)).first() is not None

    async def search(self, search: WorkflowSearch) -> tuple[Sequence[Workflow], int]:
        conditions: list[ColumnElement[bool]] = []
        if search.query:
            conditions.append(
                or_(
                    Workflow.name.icontains(search.query, autoescape=True),
                    Workflow.identifier.icontains(search.query, autoescape=True),
                )
            )
        if search.tags:
            conditions.append(self._has_any_tag(search.tags))
        if search.statuses:
            conditions.append(Workflow.status.in_(search.statuses))
        where = and_(True, *conditions)
        total = await self.session.scalar(self.select(func.count(Workflow.id)).where(where))
        sort = _SORT_COLUMNS[search.order_by]
        ordering = (sort.desc(), Workflow.id.desc()) if search.descending else (sort.asc(), Workflow.id.asc())
        statement = self.select().where(where).order_by(*ordering).offset(search.offset).limit(search.limit)
        rows = (await self.session.execute(statement)).scalars().all()
        return rows, int(total or 0)

    def _has_any_tag(self, tags: Sequence[str]) -> ColumnElement[bool]:
        if self.session.get_bind().dialect.name == "postgresql":
            return Workflow.tags.op("?|")(type_coerce(list(tags), ARRAY(String)))
        elements = func.json_each(Workflow.tags).table_valued("value")
        return exists(select(literal(1)).select_from(elements).where(elements.c.value.in_(list(tags))))

    def add_step(self, workflow: Workflow, step: WorkflowStep) -> WorkflowStep:
        step.environment_id = workflow.environment_id
        step.organization_id = workflow.organization_id
        workflow.steps.append(step)
        return step

    async def flush(self) -> None:
        await self.session.flush()

    async def remove(self, workflow: Workflow) -> None:
        await self.session.execute(self.delete().where(Workflow.id == workflow.id))
