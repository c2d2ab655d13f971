"""Idempotency-Key records and per-environment rate-limit service levels.

Revision ID: 0004_idempotency
Revises: 0003_integrations
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_idempotency"
down_revision = "0003_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.Text(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_records"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name="fk_idempotency_records_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "environment_id", "idempotency_key", name="uq_idempotency_records_environment_id"
        ),
    )
    op.create_index("ix_idempotency_records_expires_at", "idempotency_records", ["expires_at"])
    op.create_table(
        "rate_limit_overrides",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("service_level", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rate_limit_overrides"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name="fk_rate_limit_overrides_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("environment_id", name="uq_rate_limit_overrides_environment_id"),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_overrides")
    op.drop_index("ix_idempotency_records_expires_at", "idempotency_records")
    op.drop_table("idempotency_records")
