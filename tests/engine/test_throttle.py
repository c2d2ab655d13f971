"""The throttle step over a real database: threshold per window, keys, dynamic windows, and
exactly `threshold` executions let through when they race."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from herald.config import Settings
from herald.engine.steps.base import ContinueNow, Halt, StepOutcome, StepSnapshot
from herald.engine.steps.throttle import run_throttle_step
from herald.jobs.worker import PermanentJobError
from herald.models import ThrottleWindow
from tests.engine.step_support import T0, StepWorld, Trigger, run_concurrently, run_step, step

TWO_PER_HOUR = {"type": "fixed", "amount": 1, "unit": "hours", "threshold": 2}


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[StepWorld]:
    async with StepWorld.open(settings) as opened:
        yield opened


async def throttle(world: StepWorld, snapshot: StepSnapshot, trigger: Trigger, now: datetime) -> StepOutcome:
    return await run_step(world.database, world.scope, run_throttle_step, snapshot, trigger, now)


async def passed(
    world: StepWorld, snapshot: StepSnapshot, subscriber: dict[str, Any], *moments: datetime, **payload: Any
) -> list[bool]:
    results = []
    for moment in moments:
        outcome = await throttle(world, snapshot, await world.trigger(subscriber, payload), moment)
        assert isinstance(outcome, ContinueNow | Halt)
        results.append(isinstance(outcome, ContinueNow))
    return results


async def windows(world: StepWorld) -> list[ThrottleWindow]:
    async with world.database.session(write=False) as session:
        return list(
            (await session.execute(select(ThrottleWindow).order_by(ThrottleWindow.throttle_key))).scalars()
        )


def minutes(count: float) -> datetime:
    return T0 + timedelta(minutes=count)


async def test_at_most_threshold_executions_per_window(world: StepWorld) -> None:
    ada, bob = await world.subscriber("ada"), await world.subscriber("bob")
    snapshot = step("throttle", TWO_PER_HOUR)

    assert await passed(world, snapshot, ada, T0, minutes(10), minutes(20), minutes(59)) == [
        True,
        True,
        False,
        False,
    ]
    assert await passed(world, snapshot, bob, minutes(30)) == [True]
    # The window opened at T0 ended at T0 + 1h: the next execution opens a new one.
    assert await passed(world, snapshot, ada, minutes(60), minutes(61), minutes(62)) == [True, True, False]

    [window, _bob] = sorted(await windows(world), key=lambda row: row.subscriber_id != ada["_id"])
    assert (window.executions, window.throttled) == (2, 1)


async def test_halt_says_why(world: StepWorld) -> None:
    ada = await world.subscriber("ada")
    snapshot = step("throttle", {"type": "fixed", "amount": 30, "unit": "minutes"})
    first, second = await world.triggers(ada, [{}, {}])
    assert isinstance(await throttle(world, snapshot, first, T0), ContinueNow)
    halted = await throttle(world, snapshot, second, minutes(1))
    assert halted == Halt(
        "Throttled: 1 of 1 allowed executions already ran in the window that ends at 2026-01-15T12:30:00.000Z"
    )


@pytest.mark.parametrize("throttle_key", ["{{ payload.alertType }}", "alertType"])
async def test_throttle_key_counts_each_value_apart(world: StepWorld, throttle_key: str) -> None:
    ada = await world.subscriber("ada")
    snapshot = step("throttle", {**TWO_PER_HOUR, "threshold": 1, "throttleKey": throttle_key})

    assert await passed(world, snapshot, ada, T0, minutes(1), alertType="cpu") == [True, False]
    assert await passed(world, snapshot, ada, minutes(2), minutes(3), alertType="disk") == [True, False]
    assert [(row.throttle_key, row.executions, row.throttled) for row in await windows(world)] == [
        ("cpu", 1, 1),
        ("disk", 1, 1),
    ]


async def test_dynamic_window_until_a_time_from_the_payload(world: StepWorld) -> None:
    ada = await world.subscriber("ada")
    snapshot = step("throttle", {"type": "dynamic", "dynamicKey": "payload.throttleUntil", "threshold": 1})
    until = "2026-01-15T18:00:00Z"

    assert await passed(world, snapshot, ada, T0, minutes(120), minutes(359), throttleUntil=until) == [
        True,
        False,
        False,
    ]
    assert await passed(world, snapshot, ada, minutes(361), throttleUntil="2026-01-16T00:00:00Z") == [True]


async def test_dynamic_window_as_a_duration_from_the_payload(world: StepWorld) -> None:
    ada = await world.subscriber("ada")
    snapshot = step("throttle", {"type": "dynamic", "dynamicKey": "window", "threshold": 2})
    window = {"amount": 2, "unit": "days"}

    outcomes = await passed(
        world, snapshot, ada, T0, minutes(60 * 24), minutes(60 * 47), minutes(60 * 48), window=window
    )
    assert outcomes == [True, True, False, True]


@pytest.mark.parametrize("payload", [{}, {"window": "soon"}, {"window": {"amount": 2, "unit": "fortnights"}}])
async def test_a_dynamic_window_the_payload_does_not_give_fails_the_step(
    world: StepWorld, payload: dict[str, Any]
) -> None:
    ada = await world.subscriber("ada")
    snapshot = step("throttle", {"type": "dynamic", "dynamicKey": "window"})
    with pytest.raises(PermanentJobError, match="window"):
        await throttle(world, snapshot, await world.trigger(ada, payload), T0)


async def test_racing_executions_let_exactly_threshold_through(world: StepWorld, settings: Settings) -> None:
    ada = await world.subscriber("ada")
    racers = await world.triggers(ada, [{"n": n} for n in range(30)])
    snapshot = step("throttle", {**TWO_PER_HOUR, "threshold": 3})

    outcomes = await run_concurrently(settings, world.scope, run_throttle_step, snapshot, racers, T0)

    assert Counter(type(outcome).__name__ for outcome in outcomes) == {"ContinueNow": 3, "Halt": 27}
    [window] = await windows(world)
    assert (window.executions, window.throttled) == (3, 27)
