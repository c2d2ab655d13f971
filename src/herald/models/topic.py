from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class Topic(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("environment_id", "key", name="uq_topics_environment_key"),)

    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(100))
