from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from herald.models.base import Base, EnvironmentOwnedMixin, IdMixin, TimestampMixin
from herald.models.types import JsonDocument


class Workflow(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """A workflow (Novu's notification template): identified per environment by `identifier`."""

    __tablename__ = "workflows"
    __table_args__ = (
        UniqueConstraint("environment_id", "identifier", name="uq_workflows_environment_identifier"),
    )

    identifier: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    severity: Mapped[str] = mapped_column(String(10), default="none")
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")
    origin: Mapped[str] = mapped_column(String(20), default="novu-cloud")
    validate_payload: Mapped[bool] = mapped_column(Boolean, default=False)
    payload_schema: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    is_translation_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    preferences: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    user_preferences: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    last_triggered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    steps: Mapped[list[WorkflowStep]] = relationship(
        back_populates="workflow",
        order_by="WorkflowStep.position",
        cascade="all, delete-orphan",
        lazy="selectin",
        passive_deletes=True,
    )


class WorkflowStep(IdMixin, TimestampMixin, EnvironmentOwnedMixin, Base):
    """One step of a workflow, in order; `step_id` is unique within its workflow."""

    __tablename__ = "workflow_steps"
    __table_args__ = (UniqueConstraint("workflow_id", "step_id", name="uq_workflow_steps_workflow_step_id"),)

    workflow_id: Mapped[str] = mapped_column(String(24), ForeignKey("workflows.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    control_values: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)

    workflow: Mapped[Workflow] = relationship(back_populates="steps")
