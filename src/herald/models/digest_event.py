from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class DigestEvent(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """One trigger event collected into a digest window (`created_at` is its time)."""

    __tablename__ = "digest_events"
    __table_args__ = (
        UniqueConstraint("digest_id", "notification_id", name="uq_digest_events_digest_notification"),
        Index("ix_digest_events_notification_id", "notification_id"),
    )

    digest_id: Mapped[str] = mapped_column(String(24), ForeignKey("digests.id", ondelete="CASCADE"))
    notification_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("notifications.id", ondelete="CASCADE")
    )
    transaction_id: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
