"""Accepting triggers: check them, then store them, with group commit.

The checks (workflow, payload schema) only read. The writes of concurrent requests are
queued and stored together: one write transaction takes everything queued while the previous
one ran, so under load a transaction carries many requests' triggers at the cost of one
(on SQLite, one writer at a time, this is what lets trigger throughput grow with
concurrency). Each request is answered only after the transaction holding its triggers has
committed, so an acknowledged trigger is durable, exactly as with a transaction of its own.
If a shared transaction fails, its requests are stored again one by one, so that one bad
request gets its own error and the others succeed.

While the server is busy (at least `busy_at` triggers waiting for a group commit: queued, or in
the one being made; or, under sustained load, so as `CROWDED_COMMITS_TO_LINGER` commits began
within the last `busy_linger_seconds`), a trigger is stored as its event and a job that expands
it (`events.expansion`), not expanded in the request: requests are answered at the rate the
server can store events, and the worker expands them as it can (on SQLite, the in-process
worker yields to the requests meanwhile: `busy` is its `Foreground`). Whether triggers came at
all within the last second (`active`) tells that worker to keep its batches short.

The linger: under sustained load the count of waiting triggers swings with every commit (under
wrk -c32 every other commit begins crowded, some 7 ms apart), and the worker ran a full batch in
each dip, taking a fifth of the event loop's time instead of its tenth (py-spy,
bench/results/triggers.txt). At a moderate rate a stall of the event loop (the machine's other
work) crowds a commit or a few, and lingering then cost what it spared: triggers deferred for
the linger, and the worker's batch of them after it crowded the intake again (at 500 triggers/s
under CPU contention, p50 0.1-0.3 s and p99 0.5-1.2 s from trigger to message). So crowding is
counted as each commit begins, over the triggers still waiting (counted as each trigger arrived,
one stall had counted twice; counted off as each request resumed after its commit, the next
commit, begun before they did, had counted them again), four such commits within 0.5 s make the
linger, and the worker keeps its batches short while triggers come (`jobs.worker`). At 500
triggers/s beside two CPU-bound processes no trigger was deferred in nine runs; with a linger of
0.1 s instead the worker took more of wrk's dips, and single triggers' drain was shorter by a
sixth and their rate lower in some pairs.

Otherwise the transaction expands its triggers itself (notifications, first in-app messages),
which is the quickest way from a trigger to its message. Triggers still in their checks do not
count: on a database that answers slowly (PostgreSQL) many are in flight at a moderate rate,
and no commit has a queue. On PostgreSQL the server is never busy unless configured so: with
the worker in the same process, expanding later cost single triggers 40% more CPU than
expanding in the request.

A request whose own transaction is already open (it claimed an `Idempotency-Key`, which must
commit with the work) stores its triggers in that transaction instead.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import Database
from herald.engine.dispatch import FirstSteps
from herald.events.schemas import TriggerAnswer
from herald.events.service import Checked, PreparedTrigger, TriggerBatch, TriggerChecks, answers, to_store
from herald.jobs.repository import enqueued_pending_jobs
from herald.jobs.wakeup import JobWakeUp
from herald.kit.scope import EnvironmentScope
from herald.kit.time import utc_now
from herald.workflows.repository import WorkflowDefinitions

Check = Callable[[TriggerChecks], Awaitable[list[Checked]]]
SQLITE_BUSY_AT = 16
"""The default `busy_at` on SQLite; PostgreSQL's is None (see `Settings.busy_at_triggers_waiting`)."""
BUSY_LINGER_SECONDS = 0.5
CROWDED_COMMITS_TO_LINGER = 4
"""How many commits must begin crowded within `busy_linger_seconds` for the intake to linger."""
ACTIVE_SECONDS = 1.0
"""How long after a request's triggers the intake counts as active (see `Foreground.active`)."""
Stored = list[TriggerAnswer]


@dataclass
class _Waiting:
    scope: EnvironmentScope
    triggers: list[PreparedTrigger]
    stored: asyncio.Future[Stored]


class TriggerIntake:
    def __init__(
        self,
        database: Database,
        wakeup: JobWakeUp,
        fanout_chunk: int,
        first_steps: FirstSteps | None = None,
        max_requests_per_commit: int = 200,
        busy_at: int | None = SQLITE_BUSY_AT,
        busy_linger_seconds: float = BUSY_LINGER_SECONDS,
    ) -> None:
        self.database = database
        self.definitions = WorkflowDefinitions(database)
        self.wakeup = wakeup
        self.fanout_chunk = fanout_chunk
        self.first_steps = first_steps
        self.max_requests_per_commit = max_requests_per_commit
        self.busy_at = busy_at
        self.busy_linger_seconds = busy_linger_seconds
        self._waiting = 0
        self._busy_until = 0.0
        self._crowded_commits: deque[float] = deque(maxlen=CROWDED_COMMITS_TO_LINGER)
        """When the last commits that began crowded began."""
        self._last_request_at = float("-inf")
        self._queue: list[_Waiting] = []
        self._committer: asyncio.Task[None] | None = None

    def busy(self) -> bool:
        """Whether at least `busy_at` triggers wait for a group commit, or did as the last
        `CROWDED_COMMITS_TO_LINGER` commits began, all within a linger that has not yet passed
        (never, without `busy_at`)."""
        if self.busy_at is None:
            return False
        return self._waiting >= self.busy_at or time.monotonic() < self._busy_until

    def active(self) -> bool:
        """Whether triggers came within the last `ACTIVE_SECONDS`."""
        return time.monotonic() - self._last_request_at < ACTIVE_SECONDS

    async def accept(self, session: AsyncSession | None, scope: EnvironmentScope, check: Check) -> Stored:
        """The answers to one request's triggers, once they are stored (or refused). `session`
        is the request's own, if it has one."""
        self._last_request_at = time.monotonic()
        checked = await check(TriggerChecks(self.definitions, scope))
        triggers = to_store(checked)
        if not triggers:
            return answers(checked, [])
        if session is not None and session.in_transaction():
            stored = await self._batch(session, scope, utc_now()).store(triggers, defer=self.busy())
            if enqueued_pending_jobs(session):
                self.wakeup.notify_after_commit(session)
            return answers(checked, stored)
        return answers(checked, await self._store_in_group(scope, triggers))

    async def _store_in_group(self, scope: EnvironmentScope, triggers: list[PreparedTrigger]) -> Stored:
        waiting = _Waiting(scope, triggers, asyncio.get_running_loop().create_future())
        self._queue.append(waiting)
        self._waiting += len(triggers)
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_queued())
        # A request canceled meanwhile (its client went away) cancels only this future: its
        # triggers stay in the queue, or in the commit in flight, and are stored.
        return await waiting.stored

    def _note_crowding(self) -> None:
        """As a group commit begins: if at least `busy_at` triggers wait, and so they did as
        each of the last `CROWDED_COMMITS_TO_LINGER` commits began within the linger, the intake
        stays busy for the linger."""
        if self.busy_at is None or self._waiting < self.busy_at:
            return
        now = time.monotonic()
        crowded = self._crowded_commits
        crowded.append(now)
        if len(crowded) == CROWDED_COMMITS_TO_LINGER and now - crowded[0] < self.busy_linger_seconds:
            self._busy_until = now + self.busy_linger_seconds

    async def _commit_queued(self) -> None:
        try:
            while self._queue:
                group = self._queue[: self.max_requests_per_commit]
                del self._queue[: self.max_requests_per_commit]
                self._note_crowding()
                try:
                    await self._commit(group)
                finally:
                    # Counted off here, not as each request resumes: the next commit begins
                    # before they do, and would count them as crowding it.
                    self._waiting -= sum(len(waiting.triggers) for waiting in group)
        finally:
            self._committer = None

    async def _commit(self, group: list[_Waiting]) -> None:
        try:
            results, wake_worker = await self._store(group)
        except Exception as error:
            if len(group) == 1:
                _settle(group[0], error)
                return
            for waiting in group:
                await self._commit([waiting])
            return
        except BaseException as error:
            for waiting in group:
                _settle(waiting, error)
            raise
        for waiting, result in zip(group, results, strict=True):
            _settle(waiting, result)
        if wake_worker:
            self.wakeup.notify()

    async def _store(self, group: list[_Waiting]) -> tuple[list[Stored], bool]:
        """One transaction for the whole group: one `TriggerBatch.store` per environment. Also
        whether it left jobs for a worker (first steps that did not run at once, fan-outs)."""
        by_scope: dict[EnvironmentScope, list[_Waiting]] = {}
        for waiting in group:
            by_scope.setdefault(waiting.scope, []).append(waiting)
        results: dict[int, Stored] = {}
        now, defer = utc_now(), self.busy()
        async with self.database.session(write=True) as session:
            for scope, members in by_scope.items():
                batch = self._batch(session, scope, now)
                triggers = [t for member in members for t in member.triggers]
                stored = iter(await batch.store(triggers, defer=defer))
                for member in members:
                    results[id(member)] = [next(stored) for _ in member.triggers]
        return [results[id(waiting)] for waiting in group], enqueued_pending_jobs(session)

    def _batch(self, session: AsyncSession, scope: EnvironmentScope, now: datetime) -> TriggerBatch:
        return TriggerBatch(session, scope, now, self.fanout_chunk, self.first_steps)


def _settle(waiting: _Waiting, outcome: Stored | BaseException) -> None:
    if waiting.stored.done():
        return
    if isinstance(outcome, BaseException):
        waiting.stored.set_exception(outcome)
    else:
        waiting.stored.set_result(outcome)
