"""The digest step: collect a subscriber's events into one window and deliver them together.

- regular: the first event of a group (subscriber, workflow, step, digestKey value) opens a
  window of `amount` `unit`s; its run waits for the window's end (`ContinueAt`) while later
  events join the window and end their own runs (`Absorbed`).
- backoff (regular with `lookBackWindow`): an event with no predecessor in the look-back
  window goes out at once, alone; otherwise it opens or joins a window as above.
- timed: the window ends at the next time the `cron` expression names, in the subscriber's
  time zone.

The waiting run calls `resume_digest` at the window's end: the window closes (later events
open a new one) and its events become the step's outputs, `steps.<stepId>.events` and
`steps.<stepId>.eventCount`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.repository import NotificationRepository
from herald.engine.steps.base import Absorbed, ContinueAt, ContinueNow, StepContext, StepOutcome
from herald.engine.steps.digest_repository import DigestEventRepository, DigestRepository
from herald.engine.steps.grouping import StepGroup
from herald.engine.steps.timing import add_duration, as_utc, duration, next_cron_time
from herald.jobs.repository import JobRepository
from herald.jobs.worker import PermanentJobError
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso, utc_now
from herald.models import Digest, DigestEvent
from herald.models.digest import DIGEST_CLOSED, DIGEST_OPEN


async def run_digest_step(ctx: StepContext) -> StepOutcome:
    """Open, join or (when the runner resumes it at the window's end) close a digest window."""
    if ctx.resume is not None:
        return ContinueNow(outputs=await resume_digest(ctx.session, ctx.scope, ctx.resume))
    controls = ctx.step.control_values
    now = as_utc(ctx.now)
    group = StepGroup.of(ctx, controls.get("digestKey"))
    digests = DigestRepository(ctx.session, ctx.scope)
    await digests.lock(group)

    current = await digests.open_window(group)
    if current is not None and as_utc(current.window_end) > now:
        await _attach(ctx, current, now)
        return Absorbed(f"Digested into the window {current.id} that ends at {iso(current.window_end)}")
    if current is not None:
        # Its end passed without its run resuming yet: it takes no more events, but its run
        # still delivers the ones it holds.
        await digests.close(current.id, now)

    timed = controls.get("type") == "timed"
    if not timed and await _goes_out_at_once(digests, group, controls, now):
        sent = await digests.create(group, status=DIGEST_CLOSED, window_end=now, now=now)
        return ContinueNow(outputs=digest_outputs([await _attach(ctx, sent, now)]))

    window_end = _window_end(ctx, controls, now, timed=timed)
    opened = await digests.create(group, status=DIGEST_OPEN, window_end=window_end, now=now)
    await _attach(ctx, opened, now)
    return ContinueAt(window_end, resume={"digest_id": opened.id})


async def resume_digest(
    session: AsyncSession, scope: EnvironmentScope, resume: dict[str, Any]
) -> dict[str, Any]:
    """Close the window named in `resume` and return its events as the digest step's outputs.
    Calling it again returns the same events."""
    digest_id = resume.get("digest_id")
    digests = DigestRepository(session, scope)
    digest = await digests.get(digest_id) if isinstance(digest_id, str) else None
    if digest is None:
        raise PermanentJobError(f"Digest {digest_id!r} does not exist")
    await digests.lock(_group_of(digest))
    await digests.close(digest.id, utc_now())
    return digest_outputs(await DigestEventRepository(session, scope).of_digest(digest.id))


async def hand_over_windows(
    session: AsyncSession, scope: EnvironmentScope, transaction_id: str, now: datetime
) -> int:
    """Before a transaction is cancelled: a window still open whose delivery waits on this
    transaction's run (it opened the window) and that holds other transactions' events is
    handed to the oldest of those. That event's run, which ended when it joined the window, is
    reopened, and the waiting job becomes its own: at the window's end it delivers the digest
    (without the cancelled events, see `withdraw_digested_events`). Returns how many were handed
    over."""
    digests, events = DigestRepository(session, scope), DigestEventRepository(session, scope)
    jobs = JobRepository(session, scope)
    handed = 0
    for job in await jobs.pending_of_transaction(transaction_id):
        digest_id = (job.args.get("resume") or {}).get("digest_id")
        digest = await digests.get(digest_id) if isinstance(digest_id, str) else None
        if digest is None or digest.status != DIGEST_OPEN:
            continue
        await digests.lock(_group_of(digest))
        heir = await events.first_not_of(digest.id, transaction_id)
        if heir is None:
            continue
        event_id = await NotificationRepository(session, scope).reopen(heir.notification_id, now)
        if event_id is None:
            continue
        job.transaction_id, job.notification_id = heir.transaction_id, heir.notification_id
        job.args = {**job.args, "event": event_id, "steps": {}}
        handed += 1
    await session.flush()
    return handed


async def withdraw_digested_events(
    session: AsyncSession, scope: EnvironmentScope, transaction_id: str
) -> int:
    """Take a cancelled transaction's events out of the windows still open, so that their
    digests go out without them; returns how many were taken out. (A window the transaction
    opened is first handed to another of its events: `hand_over_windows`.)"""
    digests = DigestRepository(session, scope)
    windows = sorted(await digests.open_windows_holding(transaction_id), key=lambda window: window.id)
    for window in windows:
        await digests.lock(_group_of(window))
    return await DigestEventRepository(session, scope).remove_from_open_windows(
        transaction_id, [window.id for window in windows]
    )


def digest_outputs(events: Sequence[DigestEvent]) -> dict[str, Any]:
    """Novu's digest variables: the events oldest first, and how many there are."""
    return {
        "events": [
            {"id": event.notification_id, "time": iso(event.created_at), "payload": event.payload}
            for event in events
        ],
        "eventCount": len(events),
    }


def _group_of(digest: Digest) -> StepGroup:
    return StepGroup(digest.subscriber_id, digest.workflow_identifier, digest.step_id, digest.digest_key)


async def _attach(ctx: StepContext, digest: Digest, now: datetime) -> DigestEvent:
    return await DigestEventRepository(ctx.session, ctx.scope).attach(
        digest,
        notification_id=ctx.notification_id,
        transaction_id=ctx.transaction_id,
        payload=ctx.payload,
        now=now,
    )


async def _goes_out_at_once(
    digests: DigestRepository, group: StepGroup, controls: dict[str, Any], now: datetime
) -> bool:
    """Backoff: with a look-back window, an event the group saw no other event within."""
    look_back = controls.get("lookBackWindow")
    if not isinstance(look_back, dict):
        return False
    amount, unit = _duration(look_back, "The lookBackWindow")
    latest = await digests.last_event_at(group)
    return latest is None or as_utc(latest) <= add_duration(now, -amount, unit)


def _window_end(ctx: StepContext, controls: dict[str, Any], now: datetime, *, timed: bool) -> datetime:
    if timed:
        cron = controls.get("cron")
        if not isinstance(cron, str) or not cron:
            raise PermanentJobError(f"Timed digest step {ctx.step.step_id!r} has no cron expression")
        return next_cron_time(cron, now, ctx.subscriber.get("timezone"))
    return add_duration(now, *_duration(controls, f"Digest step {ctx.step.step_id!r}"))


def _duration(values: Any, what: str) -> tuple[float, str]:
    window = duration(values)
    if window is None:
        raise PermanentJobError(f"{what} needs an amount and a unit")
    return window
