from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, IdMixin, TimestampMixin


class ApiKey(IdMixin, TimestampMixin, Base):
    """An environment's secret key: found by its SHA-256 hash, kept sealed for display and HMAC."""

    __tablename__ = "api_keys"

    environment_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("environments.id", ondelete="CASCADE"), unique=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_sealed: Mapped[str] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"ApiKey(id={self.id!r}, environment_id={self.environment_id!r})"
