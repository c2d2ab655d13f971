"""Workflows and their ordered steps.

Revision ID: 0005_workflows
Revises: 0004_idempotency
"""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_workflows"
down_revision = "0004_idempotency"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _owned_by_environment(table: str) -> list[sa.Column[Any] | sa.ForeignKeyConstraint]:
    return [
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name=f"fk_{table}_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=f"fk_{table}_organization_id_organizations",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("identifier", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", _JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("validate_payload", sa.Boolean(), nullable=False),
        sa.Column("payload_schema", _JSON, nullable=True),
        sa.Column("is_translation_enabled", sa.Boolean(), nullable=False),
        sa.Column("preferences", _JSON, nullable=False),
        sa.Column("user_preferences", _JSON, nullable=True),
        sa.Column("last_triggered_at", sa.DateTime(timezone=True), nullable=True),
        *_owned_by_environment("workflows"),
        sa.PrimaryKeyConstraint("id", name="pk_workflows"),
        sa.UniqueConstraint("environment_id", "identifier", name="uq_workflows_environment_identifier"),
    )
    op.create_index("ix_workflows_environment_id", "workflows", ["environment_id"])
    op.create_table(
        "workflow_steps",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("workflow_id", sa.String(24), nullable=False),
        sa.Column("step_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("control_values", _JSON, nullable=False),
        *_owned_by_environment("workflow_steps"),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_steps"),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name="fk_workflow_steps_workflow_id_workflows",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("workflow_id", "step_id", name="uq_workflow_steps_workflow_step_id"),
    )
    op.create_index("ix_workflow_steps_environment_id", "workflow_steps", ["environment_id"])


def downgrade() -> None:
    op.drop_index("ix_workflow_steps_environment_id", "workflow_steps")
    op.drop_table("workflow_steps")
    op.drop_index("ix_workflows_environment_id", "workflows")
    op.drop_table("workflows")
