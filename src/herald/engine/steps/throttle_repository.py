"""Throttle windows: one row per group, counted by a single upsert so that concurrent
executions of a group are serialized by the row itself (PostgreSQL and SQLite alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, literal
from sqlalchemy.dialects import postgresql, sqlite

from herald.engine.steps.grouping import StepGroup
from herald.kit.ids import new_id
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import ThrottleWindow

_GROUP_COLUMNS = ("subscriber_id", "workflow_identifier", "step_id", "throttle_key")


@dataclass(frozen=True, slots=True)
class ThrottleCount:
    passed: bool
    executions: int
    window_end: datetime


class ThrottleRepository(EnvironmentScopedRepository[ThrottleWindow]):
    model = ThrottleWindow

    async def count_execution(
        self, group: StepGroup, *, now: datetime, window_end: datetime, threshold: int
    ) -> ThrottleCount:
        """Let one execution through if the group's window has room (or has ended, in which
        case a new window from `now` to `window_end` begins), else count it as throttled."""
        table = ThrottleWindow
        moment = literal(now, table.window_start.type)
        expired = table.window_end <= moment
        passes = expired | (table.executions < threshold)
        insert: Any = (
            postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        statement = (
            insert(table)
            .values(
                id=new_id(),
                environment_id=self.scope.environment_id,
                organization_id=self.scope.organization_id,
                subscriber_id=group.subscriber_id,
                workflow_identifier=group.workflow_identifier,
                step_id=group.step_id,
                throttle_key=group.key,
                window_start=now,
                window_end=window_end,
                executions=1,
                throttled=0,
                last_passed=True,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_update(
                index_elements=list(_GROUP_COLUMNS),
                set_={
                    "window_start": case((expired, moment), else_=table.window_start),
                    "window_end": case(
                        (expired, literal(window_end, table.window_end.type)), else_=table.window_end
                    ),
                    "executions": case(
                        (expired, 1),
                        (table.executions < threshold, table.executions + 1),
                        else_=table.executions,
                    ),
                    "throttled": case((expired, 0), (passes, table.throttled), else_=table.throttled + 1),
                    "last_passed": passes,
                    "updated_at": moment,
                },
            )
            .returning(table.last_passed, table.executions, table.window_end)
        )
        row = (await self.session.execute(statement)).one()
        return ThrottleCount(
            passed=bool(row.last_passed), executions=int(row.executions), window_end=row.window_end
        )
