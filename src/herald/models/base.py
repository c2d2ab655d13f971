"""Declarative base, shared columns, and the mixin every environment-owned table uses."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import DateTime, ForeignKey, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from herald.kit.ids import new_id
from herald.kit.time import utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)


class EnvironmentOwnedMixin:
    """A row that belongs to one environment; repositories filter on this column."""

    environment_id_indexed_alone: ClassVar[bool] = True
    """Whether `environment_id` has an index of its own. The tables every trigger writes to
    (events, notifications, jobs, messages) say no: composite indexes leading with it serve its
    lookups (and the cascade from a deleted environment), and every index costs each insert."""

    @declared_attr
    def environment_id(cls) -> Mapped[str]:
        return mapped_column(
            String(24),
            ForeignKey("environments.id", ondelete="CASCADE"),
            index=cls.environment_id_indexed_alone,
        )

    @declared_attr
    def organization_id(cls) -> Mapped[str]:
        return mapped_column(String(24), ForeignKey("organizations.id", ondelete="CASCADE"))
