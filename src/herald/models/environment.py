from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, IdMixin, TimestampMixin


class Environment(IdMixin, TimestampMixin, Base):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_environments_org_name"),)

    organization_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[str] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))
    color: Mapped[str | None] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(
        String(24), ForeignKey("environments.id", ondelete="SET NULL")
    )
