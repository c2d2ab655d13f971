"""Integrations: a provider's configuration for one channel in one environment.

Revision ID: 0003_integrations
Revises: 0002_subscribers_topics
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_integrations"
down_revision = "0002_subscribers_topics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
        sa.Column("provider_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("identifier", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("credentials_public", sa.JSON(), nullable=False),
        sa.Column("credentials_sealed", sa.Text(), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name="fk_integrations_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_integrations_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("environment_id", "identifier", name="uq_integrations_environment_identifier"),
    )
    op.create_index("ix_integrations_environment_id", "integrations", ["environment_id"])
    op.create_index(
        "ix_integrations_one_primary",
        "integrations",
        ["environment_id", "channel"],
        unique=True,
        sqlite_where=sa.text("is_primary"),
        postgresql_where=sa.text("is_primary"),
    )


def downgrade() -> None:
    op.drop_index("ix_integrations_one_primary", "integrations")
    op.drop_index("ix_integrations_environment_id", "integrations")
    op.drop_table("integrations")
