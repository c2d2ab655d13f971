from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class Subscriber(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """A recipient, known to the caller by its own `subscriber_id` (Novu's subscriberId)."""

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("environment_id", "subscriber_id", name="uq_subscribers_environment_subscriber"),
        Index("ix_subscribers_environment_email", "environment_id", "email"),
        Index("ix_subscribers_environment_phone", "environment_id", "phone"),
    )

    subscriber_id: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    avatar: Mapped[str | None] = mapped_column(String(2048))
    locale: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_online: Mapped[bool | None] = mapped_column(Boolean)
    last_online_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
