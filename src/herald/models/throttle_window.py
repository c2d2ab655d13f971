from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class ThrottleWindow(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """The current throttle window of one throttle step for one subscriber and throttle key:
    how many executions it let through and how many it stopped."""

    __tablename__ = "throttle_windows"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_id",
            "workflow_identifier",
            "step_id",
            "throttle_key",
            name="uq_throttle_windows_key",
        ),
    )

    subscriber_id: Mapped[str] = mapped_column(String(24), ForeignKey("subscribers.id", ondelete="CASCADE"))
    workflow_identifier: Mapped[str] = mapped_column(String(255))
    step_id: Mapped[str] = mapped_column(String(255))
    throttle_key: Mapped[str] = mapped_column(String(255))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    executions: Mapped[int] = mapped_column(Integer)
    throttled: Mapped[int] = mapped_column(Integer, default=0)
    last_passed: Mapped[bool] = mapped_column(Boolean)
