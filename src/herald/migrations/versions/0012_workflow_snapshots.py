"""Workflow snapshots stored once (`workflow_snapshots`) for all the events that saw the same,
instead of a copy on every event row.

Revision ID: 0012_workflow_snapshots
Revises: 0011_hot_table_indexes
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0012_workflow_snapshots"
down_revision = "0011_hot_table_indexes"
branch_labels = None
depends_on = None

_SNAPSHOTS = sa.table(
    "workflow_snapshots",
    sa.column("id", sa.String),
    sa.column("environment_id", sa.String),
    sa.column("organization_id", sa.String),
    sa.column("workflow", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)

_EVENTS = sa.table(
    "events",
    sa.column("environment_id", sa.String),
    sa.column("organization_id", sa.String),
    sa.column("workflow", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "workflow_snapshots",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(24), nullable=False),
        sa.Column("organization_id", sa.String(24), nullable=False),
        sa.Column("workflow", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workflow_snapshots"),
        sa.ForeignKeyConstraint(
            ["environment_id"],
            ["environments.id"],
            name="fk_workflow_snapshots_environment_id_environments",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_workflow_snapshots_organization_id_organizations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_workflow_snapshots_environment_id", "workflow_snapshots", ["environment_id"])
    op.add_column("events", sa.Column("workflow_snapshot_id", sa.String(64), nullable=True))
    _move_snapshots_out_of_events()
    with op.batch_alter_table("events") as events:
        events.drop_column("workflow")
        events.alter_column("workflow_snapshot_id", existing_type=sa.String(64), nullable=False)


def _move_snapshots_out_of_events() -> None:
    connection = op.get_bind()
    text_of_workflow = sa.cast(_EVENTS.c.workflow, sa.Text)
    distinct = connection.execute(
        sa.select(
            _EVENTS.c.environment_id,
            _EVENTS.c.organization_id,
            text_of_workflow,
            sa.func.min(_EVENTS.c.created_at, type_=sa.DateTime(timezone=True)),
        ).group_by(_EVENTS.c.environment_id, _EVENTS.c.organization_id, text_of_workflow)
    ).all()
    for environment_id, organization_id, text, created_at in distinct:
        workflow = json.loads(text)
        # `events.snapshot_repository.snapshot_id`, written out: a migration must not change
        # with the application's code.
        stored_id = hashlib.sha256(f"{environment_id}\n{text}".encode()).hexdigest()
        connection.execute(
            _SNAPSHOTS.insert().values(
                id=stored_id,
                environment_id=environment_id,
                organization_id=organization_id,
                workflow=workflow,
                created_at=created_at,
            )
        )
        connection.execute(
            sa.text(
                "UPDATE events SET workflow_snapshot_id = :id"
                " WHERE environment_id = :environment_id AND CAST(workflow AS TEXT) = :text"
            ),
            {"id": stored_id, "environment_id": environment_id, "text": text},
        )


def downgrade() -> None:
    op.add_column("events", sa.Column("workflow", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE events SET workflow = (SELECT workflow FROM workflow_snapshots"
        " WHERE workflow_snapshots.id = events.workflow_snapshot_id)"
    )
    with op.batch_alter_table("events") as events:
        events.drop_column("workflow_snapshot_id")
        events.alter_column("workflow", existing_type=sa.JSON(), nullable=False)
    op.drop_index("ix_workflow_snapshots_environment_id", table_name="workflow_snapshots")
    op.drop_table("workflow_snapshots")
