"""Digest windows, their events, and throttle windows.

Revision ID: 0009_digests_throttles
Revises: 0007_notifications_messages
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009_digests_throttles"
down_revision = "0007_notifications_messages"
branch_labels = None
depends_on = None

_KEY = ["subscriber_id", "workflow_identifier", "step_id"]


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


def _references(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _keyed(table: str) -> list[Any]:
    return [
        sa.Column("subscriber_id", sa.String(24), nullable=False),
        sa.Column("workflow_identifier", sa.String(255), nullable=False),
        sa.Column("step_id", sa.String(255), nullable=False),
        _references(table, "subscriber_id", "subscribers"),
    ]


def upgrade() -> None:
    op.create_table(
        "digests",
        *_owned("digests"),
        *_keyed("digests"),
        sa.Column("digest_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_digests_environment_id", "digests", ["environment_id"])
    op.create_index(
        "uq_digests_open_key",
        "digests",
        [*_KEY, "digest_key"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_digests_key_last_event_at", "digests", [*_KEY, "digest_key", "last_event_at"])

    op.create_table(
        "digest_events",
        *_owned("digest_events"),
        sa.Column("digest_id", sa.String(24), nullable=False),
        sa.Column("notification_id", sa.String(24), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _references("digest_events", "digest_id", "digests"),
        _references("digest_events", "notification_id", "notifications"),
        sa.UniqueConstraint("digest_id", "notification_id", name="uq_digest_events_digest_notification"),
    )
    op.create_index("ix_digest_events_environment_id", "digest_events", ["environment_id"])
    op.create_index("ix_digest_events_notification_id", "digest_events", ["notification_id"])

    op.create_table(
        "throttle_windows",
        *_owned("throttle_windows"),
        *_keyed("throttle_windows"),
        sa.Column("throttle_key", sa.String(255), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("executions", sa.Integer(), nullable=False),
        sa.Column("throttled", sa.Integer(), nullable=False),
        sa.Column("last_passed", sa.Boolean(), nullable=False),
        sa.UniqueConstraint(*_KEY, "throttle_key", name="uq_throttle_windows_key"),
    )
    op.create_index("ix_throttle_windows_environment_id", "throttle_windows", ["environment_id"])


def downgrade() -> None:
    op.drop_table("throttle_windows")
    op.drop_table("digest_events")
    op.drop_table("digests")
