"""Indexes for the activity feed and the messages list: an environment's newest rows first.

Revision ID: 0010_activity
Revises: 0009_digests_throttles
"""

from alembic import op

revision = "0010_activity"
down_revision = "0009_digests_throttles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notifications_environment_recent", "notifications", ["environment_id", "id"])
    op.create_index("ix_messages_environment_recent", "messages", ["environment_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_messages_environment_recent", table_name="messages")
    op.drop_index("ix_notifications_environment_recent", table_name="notifications")
