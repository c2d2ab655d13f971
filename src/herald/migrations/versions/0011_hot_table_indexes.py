"""The tables every trigger writes to lose their lone environment_id indexes: composite indexes
leading with environment_id serve the same lookups, and each index costs every insert.

Revision ID: 0011_hot_table_indexes
Revises: 0010_activity
"""

from alembic import op

revision = "0011_hot_table_indexes"
down_revision = "0010_activity"
branch_labels = None
depends_on = None

_TABLES = ("events", "notifications", "jobs", "messages")


def upgrade() -> None:
    for table in _TABLES:
        op.drop_index(f"ix_{table}_environment_id", table_name=table)


def downgrade() -> None:
    for table in _TABLES:
        op.create_index(f"ix_{table}_environment_id", table, ["environment_id"])
