"""Base repositories whose every query is filtered to the caller's environment or organization.

A domain repository subclasses one of these and builds its queries from `self.select()`,
`self.update()` and `self.delete()`, so the scope filter cannot be left out.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Delete, Select, Update, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.scope import EnvironmentScope

ModelT = TypeVar("ModelT")


class _ScopedRepository(Generic[ModelT]):
    model: ClassVar[type[Any]]
    scope_column: ClassVar[str]

    def __init__(self, session: AsyncSession, scope: EnvironmentScope) -> None:
        self.session = session
        self.scope = scope

    @property
    def _scope_value(self) -> str:
        raise NotImplementedError

    def _scope_filter(self) -> Any:
        return getattr(self.model, self.scope_column) == self._scope_value

    def select(self, *entities: Any) -> Select[Any]:
        return select(*(entities or (self.model,))).where(self._scope_filter())

    def update(self) -> Update:
        return update(self.model).where(self._scope_filter())

    def delete(self) -> Delete:
        return delete(self.model).where(self._scope_filter())

    async def get(self, id_: str) -> ModelT | None:
        result = await self.session.execute(self.select().where(self.model.id == id_))
        row: ModelT | None = result.scalar_one_or_none()
        return row


class EnvironmentScopedRepository(_ScopedRepository[ModelT]):
    """For tables with `environment_id` and `organization_id` (EnvironmentOwnedMixin)."""

    scope_column = "environment_id"

    @property
    def _scope_value(self) -> str:
        return self.scope.environment_id

    def add(self, row: ModelT) -> ModelT:
        row.environment_id = self.scope.environment_id  # type: ignore[attr-defined]
        row.organization_id = self.scope.organization_id  # type: ignore[attr-defined]
        self.session.add(row)
        return row


class OrganizationScopedRepository(_ScopedRepository[ModelT]):
    """For organization-wide tables such as environments themselves."""

    scope_column = "organization_id"

    @property
    def _scope_value(self) -> str:
        return self.scope.organization_id

    def add(self, row: ModelT) -> ModelT:
        row.organization_id = self.scope.organization_id  # type: ignore[attr-defined]
        self.session.add(row)
        return row
