"""Set-up shared by the benchmarks: rows inserted straight into the database (not measured)."""

from __future__ import annotations

from sqlalchemy import insert, select

from herald.config import Settings
from herald.db import Database
from herald.kit.ids import new_id
from herald.kit.time import utc_now
from herald.models import Environment, Subscriber, Topic, TopicSubscription

_ROWS_PER_STATEMENT = 5_000


async def seed_subscribers(settings: Settings, size: int, prefix: str, topic_key: str | None) -> None:
    """`size` subscribers of the Development environment (`{prefix}-{i}`, first name `Ann{i}`),
    members of a new topic `topic_key` if given."""
    database = Database(settings)
    try:
        async with database.session(write=True) as session:
            environment = (
                await session.execute(select(Environment).where(Environment.name == "Development"))
            ).scalar_one()
            owner = {"environment_id": environment.id, "organization_id": environment.organization_id}
            topic_id = new_id() if topic_key is not None else None
            if topic_id is not None:
                now = utc_now()
                await session.execute(
                    insert(Topic),
                    [{"id": topic_id, "key": topic_key, "created_at": now, "updated_at": now, **owner}],
                )
            for start in range(0, size, _ROWS_PER_STATEMENT):
                subscribers = [
                    {
                        "id": new_id(),
                        "subscriber_id": f"{prefix}-{i}",
                        "first_name": f"Ann{i}",
                        "channels": [],
                        **owner,
                    }
                    for i in range(start, min(size, start + _ROWS_PER_STATEMENT))
                ]
                await session.execute(insert(Subscriber), subscribers)
                if topic_id is not None:
                    await session.execute(
                        insert(TopicSubscription),
                        [
                            {"id": new_id(), "topic_id": topic_id, "subscriber_pk": s["id"], **owner}
                            for s in subscribers
                        ],
                    )
    finally:
        await database.dispose()
