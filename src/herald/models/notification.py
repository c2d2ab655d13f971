from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class Notification(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """One trigger delivered to one subscriber: the parent of that subscriber's step jobs,
    messages and execution details (Novu's notification)."""

    environment_id_indexed_alone = False
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_environment_transaction", "environment_id", "transaction_id"),
        Index("ix_notifications_environment_subscriber", "environment_id", "subscriber_id", "id"),
        Index("ix_notifications_environment_recent", "environment_id", "id"),
        UniqueConstraint("event_id", "subscriber_id", name="uq_notifications_event_subscriber"),
    )

    event_id: Mapped[str] = mapped_column(String(24))

    transaction_id: Mapped[str] = mapped_column(String(255))
    subscriber_id: Mapped[str] = mapped_column(String(24), ForeignKey("subscribers.id", ondelete="CASCADE"))
    workflow_id: Mapped[str | None] = mapped_column(
        String(24), ForeignKey("workflows.id", ondelete="SET NULL")
    )
    workflow_identifier: Mapped[str] = mapped_column(String(255))
    workflow_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(10), default="none")
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tenant: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recipient: Mapped[dict[str, Any] | None] = mapped_column(JSON)
