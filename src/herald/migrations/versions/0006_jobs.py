"""The job queue table.

Revision ID: 0006_jobs
Revises: 0005_workflows
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_jobs"
down_revision = "0005_workflows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.String(255), nullable=True),
        sa.Column("notification_id", sa.String(24), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name="fk_jobs_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_jobs_organization_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_jobs_environment_id", "jobs", ["environment_id"])
    op.create_index("ix_jobs_status_run_at", "jobs", ["status", "run_at"])
    op.create_index("ix_jobs_environment_id_transaction_id", "jobs", ["environment_id", "transaction_id"])
    op.create_index("ix_jobs_notification_id", "jobs", ["notification_id"])


def downgrade() -> None:
    op.drop_table("jobs")
