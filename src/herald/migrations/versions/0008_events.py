"""Trigger events: one row per accepted trigger, with the workflow snapshot its runs use.

Revision ID: 0008_events
Revises: 0007_notifications_messages
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_events"
down_revision = "0007_notifications_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("workflow_id", sa.String(24), nullable=True),
        sa.Column("workflow_identifier", sa.String(255), nullable=False),
        sa.Column("workflow", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("actor", sa.JSON(), nullable=True),
        sa.Column("tenant", sa.JSON(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name="fk_events_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_events_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["workflows.id"], name="fk_events_workflow_id_workflows", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("environment_id", "transaction_id", name="uq_events_environment_transaction"),
    )
    op.create_index("ix_events_environment_id", "events", ["environment_id"])


def downgrade() -> None:
    op.drop_index("ix_events_environment_id", table_name="events")
    op.drop_table("events")
