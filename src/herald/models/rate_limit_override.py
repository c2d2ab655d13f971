from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, IdMixin, TimestampMixin


class RateLimitOverride(IdMixin, TimestampMixin, Base):
    """An environment's own rate-limit service level, replacing `HERALD_RATE_LIMIT_LEVEL` for it."""

    __tablename__ = "rate_limit_overrides"

    environment_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("environments.id", ondelete="CASCADE"), unique=True
    )
    service_level: Mapped[str] = mapped_column(String(20))
