"""Notifications, messages and execution details: what the engine writes.

Revision ID: 0007_notifications_messages
Revises: 0006_jobs
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007_notifications_messages"
down_revision = "0006_jobs"
branch_labels = None
depends_on = None


def _owned(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
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


def _references(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "notifications",
        *_owned("notifications"),
        sa.Column("event_id", sa.String(24), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("subscriber_id", sa.String(24), nullable=False),
        sa.Column("workflow_id", sa.String(24), nullable=True),
        sa.Column("workflow_identifier", sa.String(255), nullable=False),
        sa.Column("workflow_name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("actor", sa.JSON(), nullable=True),
        sa.Column("tenant", sa.JSON(), nullable=True),
        sa.Column("recipient", sa.JSON(), nullable=True),
        _references("notifications", "subscriber_id", "subscribers", "CASCADE"),
        _references("notifications", "workflow_id", "workflows", "SET NULL"),
        sa.UniqueConstraint("event_id", "subscriber_id", name="uq_notifications_event_subscriber"),
    )
    op.create_index("ix_notifications_environment_id", "notifications", ["environment_id"])
    op.create_index(
        "ix_notifications_environment_transaction", "notifications", ["environment_id", "transaction_id"]
    )
    op.create_index(
        "ix_notifications_environment_subscriber", "notifications", ["environment_id", "subscriber_id", "id"]
    )

    op.create_table(
        "messages",
        *_owned("messages"),
        sa.Column("notification_id", sa.String(24), nullable=False),
        sa.Column("job_id", sa.String(24), nullable=True),
        sa.Column("subscriber_id", sa.String(24), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("workflow_id", sa.String(24), nullable=True),
        sa.Column("workflow_identifier", sa.String(255), nullable=False),
        sa.Column("step_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("provider_id", sa.String(50), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error_text", sa.Text(), nullable=True),
        sa.Column("destination", sa.String(2048), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("avatar", sa.String(2048), nullable=True),
        sa.Column("cta", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("seen", sa.Boolean(), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        _references("messages", "notification_id", "notifications", "CASCADE"),
        _references("messages", "subscriber_id", "subscribers", "CASCADE"),
        _references("messages", "workflow_id", "workflows", "SET NULL"),
        sa.UniqueConstraint("job_id", name="uq_messages_job_id"),
    )
    op.create_index("ix_messages_environment_id", "messages", ["environment_id"])
    op.create_index(
        "ix_messages_environment_subscriber_channel",
        "messages",
        ["environment_id", "subscriber_id", "channel", "id"],
    )
    op.create_index("ix_messages_environment_transaction", "messages", ["environment_id", "transaction_id"])
    op.create_index("ix_messages_notification_id", "messages", ["notification_id"])

    op.create_table(
        "execution_details",
        *_owned("execution_details"),
        sa.Column("notification_id", sa.String(24), nullable=False),
        sa.Column("job_id", sa.String(24), nullable=True),
        sa.Column("step_id", sa.String(255), nullable=True),
        sa.Column("channel", sa.String(10), nullable=True),
        sa.Column("provider_id", sa.String(50), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=True),
        _references("execution_details", "notification_id", "notifications", "CASCADE"),
    )
    op.create_index("ix_execution_details_environment_id", "execution_details", ["environment_id"])
    op.create_index("ix_execution_details_notification_id", "execution_details", ["notification_id"])


def downgrade() -> None:
    op.drop_table("execution_details")
    op.drop_table("messages")
    op.drop_table("notifications")
