"""The digest step over a real database: windows, look-back, cron in the subscriber's zone,
digest keys, and exactly one digest per window when events race."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from herald.config import Settings
from herald.engine.steps.base import Absorbed, ContinueAt, ContinueNow, StepOutcome, StepSnapshot
from herald.engine.steps.digest import resume_digest, run_digest_step, withdraw_digested_events
from herald.jobs.worker import PermanentJobError
from herald.models import Digest
from tests.engine.step_support import T0, StepWorld, Trigger, run_concurrently, run_step, step

FIVE_MINUTES = {"type": "regular", "amount": 5, "unit": "minutes"}


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[StepWorld]:
    async with StepWorld.open(settings) as opened:
        yield opened


async def digest(world: StepWorld, snapshot: StepSnapshot, trigger: Trigger, now: datetime) -> StepOutcome:
    return await run_step(world.database, world.scope, run_digest_step, snapshot, trigger, now)


async def resume(world: StepWorld, outcome: StepOutcome) -> dict[str, Any]:
    assert isinstance(outcome, ContinueAt) and outcome.resume is not None
    async with world.database.session(write=True) as session:
        return await resume_digest(session, world.scope, outcome.resume)


def payloads(outputs: dict[str, Any]) -> list[dict[str, Any]]:
    assert outputs["eventCount"] == len(outputs["events"])
    return [event["payload"] for event in outputs["events"]]


async def test_regular_window_collects_events_until_resumed(world: StepWorld) -> None:
    subscriber = await world.subscriber("ada")
    first, second, third, later = await world.triggers(subscriber, [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}])
    snapshot = step("digest", FIVE_MINUTES)

    opened = await digest(world, snapshot, first, T0)
    assert isinstance(opened, ContinueAt)
    assert opened.run_at == T0 + timedelta(minutes=5)
    assert isinstance(await digest(world, snapshot, second, T0 + timedelta(minutes=1)), Absorbed)
    assert isinstance(await digest(world, snapshot, third, T0 + timedelta(minutes=2)), Absorbed)

    outputs = await resume(world, opened)
    assert payloads(outputs) == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert [event["id"] for event in outputs["events"]] == [
        first.notification_id,
        second.notification_id,
        third.notification_id,
    ]
    assert outputs["events"][1]["time"] == "2026-01-15T12:01:00.000Z"
    assert await resume(world, opened) == outputs  # a repeated resume returns the same events

    # The window is closed: an event that arrives before its nominal end opens a new one.
    reopened = await digest(world, snapshot, later, T0 + timedelta(minutes=3))
    assert isinstance(reopened, ContinueAt)
    assert reopened.run_at == T0 + timedelta(minutes=8)
    assert reopened.resume != opened.resume
    assert payloads(await resume(world, reopened)) == [{"n": 4}]


async def test_events_after_the_window_end_open_a_new_window(world: StepWorld) -> None:
    """A window whose run has not resumed yet takes no events past its end; it still delivers its own."""
    subscriber = await world.subscriber("ada")
    first, late = await world.triggers(subscriber, [{"n": 1}, {"n": 2}])
    snapshot = step("digest", FIVE_MINUTES)

    opened = await digest(world, snapshot, first, T0)
    after_end = await digest(world, snapshot, late, T0 + timedelta(minutes=6))
    assert isinstance(after_end, ContinueAt)
    assert after_end.run_at == T0 + timedelta(minutes=11)
    assert payloads(await resume(world, opened)) == [{"n": 1}]
    assert payloads(await resume(world, after_end)) == [{"n": 2}]


@pytest.mark.parametrize("digest_key", ["{{ payload.projectId }}", "projectId", "payload.projectId"])
async def test_digest_key_groups_events(world: StepWorld, digest_key: str) -> None:
    ada, bob = await world.subscriber("ada"), await world.subscriber("bob")
    snapshot = step("digest", {**FIVE_MINUTES, "digestKey": digest_key})
    a1, b1, a2 = await world.triggers(
        ada, [{"projectId": "a", "n": 1}, {"projectId": "b", "n": 2}, {"projectId": "a", "n": 3}]
    )
    [bob_a] = await world.triggers(bob, [{"projectId": "a", "n": 4}])

    project_a = await digest(world, snapshot, a1, T0)
    project_b = await digest(world, snapshot, b1, T0)
    assert isinstance(await digest(world, snapshot, a2, T0 + timedelta(seconds=30)), Absorbed)
    other_subscriber = await digest(world, snapshot, bob_a, T0)

    assert payloads(await resume(world, project_a)) == [
        {"projectId": "a", "n": 1},
        {"projectId": "a", "n": 3},
    ]
    assert payloads(await resume(world, project_b)) == [{"projectId": "b", "n": 2}]
    assert payloads(await resume(world, other_subscriber)) == [{"projectId": "a", "n": 4}]


async def test_backoff_sends_the_first_event_at_once_then_digests(world: StepWorld) -> None:
    subscriber = await world.subscriber("ada")
    first, second, third, quiet = await world.triggers(subscriber, [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}])
    snapshot = step("digest", {**FIVE_MINUTES, "lookBackWindow": {"amount": 10, "unit": "minutes"}})

    at_once = await digest(world, snapshot, first, T0)
    assert isinstance(at_once, ContinueNow) and at_once.outputs is not None
    assert payloads(at_once.outputs) == [{"n": 1}]

    opened = await digest(world, snapshot, second, T0 + timedelta(minutes=2))
    assert isinstance(opened, ContinueAt)
    assert opened.run_at == T0 + timedelta(minutes=7)
    assert isinstance(await digest(world, snapshot, third, T0 + timedelta(minutes=3)), Absorbed)
    assert payloads(await resume(world, opened)) == [{"n": 2}, {"n": 3}]

    # Nothing within the last ten minutes: out at once again.
    again = await digest(world, snapshot, quiet, T0 + timedelta(minutes=14))
    assert isinstance(again, ContinueNow) and again.outputs is not None
    assert payloads(again.outputs) == [{"n": 4}]


@pytest.mark.parametrize(
    ("timezone", "now", "expected"),
    [
        # 22:00 on Jan 14 in New York: the next 09:00 there is the same UTC day, 14:00Z.
        (
            "America/New_York",
            datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
            datetime(2026, 1, 15, 14, 0, tzinfo=UTC),
        ),
        # 10:00 on Jan 15 in New York: 09:00 has passed, so Jan 16 at 14:00Z.
        (
            "America/New_York",
            datetime(2026, 1, 15, 15, 0, tzinfo=UTC),
            datetime(2026, 1, 16, 14, 0, tzinfo=UTC),
        ),
        # Summer time: 09:00 EDT is 13:00Z.
        ("America/New_York", datetime(2026, 7, 1, 3, 0, tzinfo=UTC), datetime(2026, 7, 1, 13, 0, tzinfo=UTC)),
        (None, datetime(2026, 1, 15, 3, 0, tzinfo=UTC), datetime(2026, 1, 15, 9, 0, tzinfo=UTC)),
        ("Not/AZone", datetime(2026, 1, 15, 3, 0, tzinfo=UTC), datetime(2026, 1, 15, 9, 0, tzinfo=UTC)),
    ],
)
async def test_timed_digest_ends_at_the_next_cron_time_in_the_subscribers_zone(
    world: StepWorld, timezone: str | None, now: datetime, expected: datetime
) -> None:
    subscriber = await world.subscriber("ada", timezone=timezone)
    first, second = await world.triggers(subscriber, [{"n": 1}, {"n": 2}])
    snapshot = step("digest", {"type": "timed", "cron": "0 9 * * *"})

    opened = await digest(world, snapshot, first, now)
    assert isinstance(opened, ContinueAt)
    assert opened.run_at == expected
    assert isinstance(await digest(world, snapshot, second, now + timedelta(hours=1)), Absorbed)
    assert payloads(await resume(world, opened)) == [{"n": 1}, {"n": 2}]


async def test_racing_events_make_exactly_one_digest(world: StepWorld, settings: Settings) -> None:
    subscriber = await world.subscriber("ada")
    racers = await world.triggers(subscriber, [{"n": n} for n in range(40)])
    snapshot = step("digest", FIVE_MINUTES)

    outcomes = await run_concurrently(settings, world.scope, run_digest_step, snapshot, racers, T0)

    assert Counter(type(outcome).__name__ for outcome in outcomes) == {"ContinueAt": 1, "Absorbed": 39}
    [opened] = [outcome for outcome in outcomes if isinstance(outcome, ContinueAt)]
    outputs = await resume(world, opened)
    assert sorted(event["id"] for event in outputs["events"]) == sorted(t.notification_id for t in racers)
    async with world.database.session(write=False) as session:
        assert (await session.execute(select(func.count()).select_from(Digest))).scalar_one() == 1


async def test_racing_backoff_events_send_one_at_once(world: StepWorld, settings: Settings) -> None:
    subscriber = await world.subscriber("ada")
    racers = await world.triggers(subscriber, [{"n": n} for n in range(20)])
    snapshot = step("digest", {**FIVE_MINUTES, "lookBackWindow": {"amount": 1, "unit": "hours"}})

    outcomes = await run_concurrently(settings, world.scope, run_digest_step, snapshot, racers, T0)

    kinds = Counter(type(outcome).__name__ for outcome in outcomes)
    assert kinds == {"ContinueNow": 1, "ContinueAt": 1, "Absorbed": 18}
    [opened] = [outcome for outcome in outcomes if isinstance(outcome, ContinueAt)]
    assert (await resume(world, opened))["eventCount"] == 19


async def test_a_cancelled_transaction_leaves_the_open_window(world: StepWorld) -> None:
    subscriber = await world.subscriber("ada")
    first, cancelled, third = await world.triggers(subscriber, [{"n": 1}, {"n": 2}, {"n": 3}])
    snapshot = step("digest", FIVE_MINUTES)
    opened = await digest(world, snapshot, first, T0)
    for trigger in (cancelled, third):
        assert isinstance(await digest(world, snapshot, trigger, T0 + timedelta(minutes=1)), Absorbed)

    async def withdraw(transaction_id: str) -> int:
        async with world.database.session(write=True) as session:
            return await withdraw_digested_events(session, world.scope, transaction_id)

    assert await withdraw(cancelled.transaction_id) == 1
    assert await withdraw(cancelled.transaction_id) == 0
    assert payloads(await resume(world, opened)) == [{"n": 1}, {"n": 3}]
    # A closed window keeps what it delivered.
    assert await withdraw(third.transaction_id) == 0
    assert payloads(await resume(world, opened)) == [{"n": 1}, {"n": 3}]


async def test_resume_of_an_unknown_digest_fails_permanently(world: StepWorld) -> None:
    with pytest.raises(PermanentJobError):
        await resume(world, ContinueAt(T0, resume={"digest_id": "0" * 24}))
