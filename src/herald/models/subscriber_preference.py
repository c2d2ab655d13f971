from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin

GLOBAL_PREFERENCE = ""


class SubscriberPreference(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """A subscriber's channel switches: global (workflow_identifier "") or for one workflow.

    `channels` holds only the switches the subscriber set ({"email": false, ...}); a channel
    left out falls back to the next level when preferences are resolved.
    """

    __tablename__ = "subscriber_preferences"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_pk", "workflow_identifier", name="uq_subscriber_preferences_subscriber_workflow"
        ),
    )

    subscriber_pk: Mapped[str] = mapped_column(String(24), ForeignKey("subscribers.id", ondelete="CASCADE"))
    workflow_identifier: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    channels: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
