from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from herald.kit.time import utc_now
from herald.models.base import Base, EnvironmentOwnedMixin


class WorkflowSnapshot(EnvironmentOwnedMixin, Base):
    """A workflow and its steps as triggers saw them, stored once for every event that saw the
    same (an event row carrying its own copy made most of a bulk trigger's writes). Its id is
    the SHA-256 of the environment id and the snapshot's JSON text, so storing it again is a
    no-op. Never changed; gone with its environment."""

    __tablename__ = "workflow_snapshots"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow: Mapped[dict[str, Any]] = mapped_column(JSON)
    """identifier, name, critical, severity, tags, channel defaults, steps."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
