"""Subscribers, their preferences, topics and topic subscriptions.

Revision ID: 0002_subscribers_topics
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_subscribers_topics"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _environment_owned(table: str) -> list[sa.Column | sa.ForeignKeyConstraint]:  # type: ignore[type-arg]
    return [
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
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
        "subscribers",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("subscriber_id", sa.String(255), nullable=False),
        sa.Column("first_name", sa.String(255), nullable=True),
        sa.Column("last_name", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("avatar", sa.String(2048), nullable=True),
        sa.Column("locale", sa.String(64), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("is_online", sa.Boolean(), nullable=True),
        sa.Column("last_online_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        *_environment_owned("subscribers"),
        sa.PrimaryKeyConstraint("id", name="pk_subscribers"),
        sa.UniqueConstraint("environment_id", "subscriber_id", name="uq_subscribers_environment_subscriber"),
    )
    op.create_index("ix_subscribers_environment_id", "subscribers", ["environment_id"])
    op.create_index("ix_subscribers_environment_email", "subscribers", ["environment_id", "email"])
    op.create_index("ix_subscribers_environment_phone", "subscribers", ["environment_id", "phone"])

    op.create_table(
        "subscriber_preferences",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("subscriber_pk", sa.String(24), nullable=False),
        sa.Column("workflow_identifier", sa.String(255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=True),
        *_timestamps(),
        *_environment_owned("subscriber_preferences"),
        sa.PrimaryKeyConstraint("id", name="pk_subscriber_preferences"),
        sa.ForeignKeyConstraint(
            ["subscriber_pk"],
            ["subscribers.id"],
            name="fk_subscriber_preferences_subscriber_pk_subscribers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "subscriber_pk", "workflow_identifier", name="uq_subscriber_preferences_subscriber_workflow"
        ),
    )
    op.create_index("ix_subscriber_preferences_environment_id", "subscriber_preferences", ["environment_id"])

    op.create_table(
        "topics",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        *_timestamps(),
        *_environment_owned("topics"),
        sa.PrimaryKeyConstraint("id", name="pk_topics"),
        sa.UniqueConstraint("environment_id", "key", name="uq_topics_environment_key"),
    )
    op.create_index("ix_topics_environment_id", "topics", ["environment_id"])

    op.create_table(
        "topic_subscriptions",
        sa.Column("id", sa.String(24), nullable=False),
        sa.Column("topic_id", sa.String(24), nullable=False),
        sa.Column("subscriber_pk", sa.String(24), nullable=False),
        *_timestamps(),
        *_environment_owned("topic_subscriptions"),
        sa.PrimaryKeyConstraint("id", name="pk_topic_subscriptions"),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name="fk_topic_subscriptions_topic_id_topics", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_pk"],
            ["subscribers.id"],
            name="fk_topic_subscriptions_subscriber_pk_subscribers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("topic_id", "subscriber_pk", name="uq_topic_subscriptions_topic_subscriber"),
    )
    op.create_index("ix_topic_subscriptions_environment_id", "topic_subscriptions", ["environment_id"])
    op.create_index("ix_topic_subscriptions_topic_id_id", "topic_subscriptions", ["topic_id", "id"])
    op.create_index("ix_topic_subscriptions_subscriber_pk", "topic_subscriptions", ["subscriber_pk"])


def downgrade() -> None:
    op.drop_table("topic_subscriptions")
    op.drop_table("topics")
    op.drop_table("subscriber_preferences")
    op.drop_table("subscribers")
