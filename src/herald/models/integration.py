from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class Integration(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """A provider's configuration for one channel in one environment.

    Credentials are split by `herald.integrations.credentials`: fields that are safe to show
    (sender address, region, flags such as `hmac`) stay readable in `credentials_public`;
    every other field is sealed together with the master key into `credentials_sealed`.
    """

    __tablename__ = "integrations"
    # At most one primary integration per environment and channel, enforced by the database.
    __table_args__ = (
        UniqueConstraint("environment_id", "identifier", name="uq_integrations_environment_identifier"),
        Index(
            "ix_integrations_one_primary",
            "environment_id",
            "channel",
            unique=True,
            sqlite_where=text("is_primary"),
            postgresql_where=text("is_primary"),
        ),
    )

    provider_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean)
    is_primary: Mapped[bool] = mapped_column(Boolean)
    credentials_public: Mapped[dict[str, Any]] = mapped_column(JSON)
    credentials_sealed: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    def __repr__(self) -> str:
        return (
            f"Integration(id={self.id!r}, provider_id={self.provider_id!r}, channel={self.channel!r}, "
            f"identifier={self.identifier!r})"
        )
