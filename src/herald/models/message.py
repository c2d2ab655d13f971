from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class Message(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """What one channel step delivered to one subscriber. In-app messages carry the Inbox
    state (seen, read, archived, snoozed); `job_id` is unique so a re-run job cannot deliver twice."""

    environment_id_indexed_alone = False
    __tablename__ = "messages"
    __table_args__ = (
        Index(
            "ix_messages_environment_subscriber_channel", "environment_id", "subscriber_id", "channel", "id"
        ),
        Index("ix_messages_environment_transaction", "environment_id", "transaction_id"),
        Index("ix_messages_environment_recent", "environment_id", "id"),
        Index("ix_messages_notification_id", "notification_id"),
    )

    notification_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("notifications.id", ondelete="CASCADE")
    )
    job_id: Mapped[str | None] = mapped_column(String(24), unique=True)
    subscriber_id: Mapped[str] = mapped_column(String(24), ForeignKey("subscribers.id", ondelete="CASCADE"))
    transaction_id: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str | None] = mapped_column(
        String(24), ForeignKey("workflows.id", ondelete="SET NULL")
    )
    workflow_identifier: Mapped[str] = mapped_column(String(255))
    step_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(10))
    provider_id: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(10), default="sent")
    error_text: Mapped[str | None] = mapped_column(Text)
    destination: Mapped[str | None] = mapped_column(String(2048))
    subject: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text, default="")
    avatar: Mapped[str | None] = mapped_column(String(2048))
    cta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(10), default="none")
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    read: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
