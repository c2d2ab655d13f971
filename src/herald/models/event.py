from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin


class Event(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """One accepted trigger: what was asked (payload, actor, tenant...) and the snapshot of the
    workflow and its steps as they were then (`WorkflowSnapshot`, shared by the events that saw
    the same), so that later edits never change a run in flight. `transaction_id` is unique per
    environment: a reused one is never processed again."""

    environment_id_indexed_alone = False
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("environment_id", "transaction_id", name="uq_events_environment_transaction"),
    )

    transaction_id: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str | None] = mapped_column(
        String(24), ForeignKey("workflows.id", ondelete="SET NULL")
    )
    workflow_identifier: Mapped[str] = mapped_column(String(255))
    workflow_snapshot_id: Mapped[str] = mapped_column(String(64))
    """The `WorkflowSnapshot`. No foreign key: a constraint would cost every insert a lookup,
    and a snapshot goes only with its environment, whose events go with it."""
    status: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tenant: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
