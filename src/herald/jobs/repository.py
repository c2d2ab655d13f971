"""Queue queries. Enqueue and cancel act for a caller's environment; leasing and settling act
for the whole installation (a worker serves every environment)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence, Set
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.jobs.schemas import JobStatus, LeasedJob, NewJob
from herald.kit.driver_insert import insert_rows
from herald.kit.driver_query import DriverQuery
from herald.kit.ids import new_ids
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Job

NOTIFY_CHANNEL = "herald_jobs"
_JOBS = cast(Table, Job.__table__)
"""The queue's statements are Core: no ORM bookkeeping for rows no session holds."""


_PENDING = {"status": JobStatus.PENDING, "attempts": 0, "finished_at": None}
_ENQUEUED_PENDING = "herald_enqueued_pending_jobs"


def enqueued_pending_jobs(session: AsyncSession) -> bool:
    """Whether the session's work enqueued a job for a worker to run (not one stored already
    run): only then does a worker need waking once it commits."""
    return bool(session.info.get(_ENQUEUED_PENDING))


def _done_at(now: datetime) -> dict[str, Any]:
    return {"status": JobStatus.COMPLETED, "attempts": 1, "finished_at": now}


class JobRepository(EnvironmentScopedRepository[Job]):
    model = Job

    async def enqueue(
        self, jobs: list[NewJob], now: datetime, ids: list[str] | None = None, done: Set[str] = frozenset()
    ) -> list[str]:
        """Insert the jobs (one multi-row statement); returns their ids, made here unless given.
        Those whose id is in `done` already ran in this transaction: they are stored completed."""
        if not jobs:
            return []
        ids = ids or new_ids(len(jobs))
        shared = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "lease_owner": None,
            "leased_until": None,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        }
        rows = [
            {
                "id": job_id,
                "kind": job.kind,
                "args": job.args,
                "run_at": job.run_at or now,
                "max_attempts": job.max_attempts,
                "transaction_id": job.transaction_id,
                "notification_id": job.notification_id,
                **(_done_at(now) if job_id in done else _PENDING),
            }
            for job_id, job in zip(ids, jobs, strict=True)
        ]
        # Straight to the driver: no per-row SQLAlchemy work for thousands of fan-out jobs.
        await insert_rows(self.session, _JOBS, rows, shared)
        if len(done) == len(jobs):
            return ids
        self.session.info[_ENQUEUED_PENDING] = True
        if self.session.get_bind().dialect.name == "postgresql":
            # Delivered to LISTENers when this transaction commits, never before.
            await self.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        return ids

    async def pending_of_transaction(self, transaction_id: str) -> Sequence[Job]:
        statement = self.select().where(Job.transaction_id == transaction_id, Job.status == JobStatus.PENDING)
        jobs: Sequence[Job] = (await self.session.execute(statement)).scalars().all()
        return jobs

    async def cancel_pending(self, transaction_id: str, now: datetime) -> int:
        result = await self.session.execute(
            self.update()
            .where(Job.transaction_id == transaction_id, Job.status == JobStatus.PENDING)
            .values(status=JobStatus.CANCELED, finished_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class JobLeaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lease_due(self, worker: str, limit: int, now: datetime, lease: timedelta) -> list[LeasedJob]:
        """Take up to `limit` due jobs: running ones whose lease ran out first, then pending
        ones in `run_at` order.

        Each lease gets its own token, so a job re-leased after its lease expired (even by the
        same worker) can no longer be settled through the stale lease. The two kinds are taken
        by two statements, so that each walks the (status, run_at) index instead of sorting
        the whole table. They run on the driver connection (see `herald.kit.driver_query`)."""
        owner = f"{worker}/{uuid.uuid4().hex[:16]}"
        until = now + lease
        expired = await self._leased(
            await _LEASE_EXPIRED.rows(self.session, owner, until, now, JobStatus.RUNNING, now, limit), owner
        )
        if len(expired) >= limit:
            return expired
        pending = await _LEASE_PENDING.rows(
            self.session, owner, until, now, JobStatus.PENDING, now, limit - len(expired)
        )
        return expired + await self._leased(pending, owner)

    async def _leased(self, rows: list[Any], owner: str) -> list[LeasedJob]:
        return [
            LeasedJob(
                id=row[0],
                environment_id=row[1],
                organization_id=row[2],
                kind=row[3],
                args=json.loads(row[4]) if isinstance(row[4], str) else row[4],
                attempts=row[5],
                max_attempts=row[6],
                transaction_id=row[7],
                notification_id=row[8],
                lease_owner=owner,
            )
            for row in rows
        ]

    async def lease_again(
        self, worker: str, job_ids: list[str], now: datetime, lease: timedelta
    ) -> list[LeasedJob]:
        """Lease these jobs, those of them still due and not held by another worker."""
        owner = f"{worker}/{uuid.uuid4().hex[:16]}"
        columns = _JOBS.c
        due = and_(
            columns.id.in_(job_ids),
            or_(
                and_(columns.status == JobStatus.PENDING, columns.run_at <= now),
                and_(columns.status == JobStatus.RUNNING, columns.leased_until < now),
            ),
        )
        return await self._take(due, len(job_ids), owner, now, lease)

    async def _take(
        self, due: ColumnElement[bool], limit: int, owner: str, now: datetime, lease: timedelta
    ) -> list[LeasedJob]:
        columns = _JOBS.c
        candidates = select(columns.id).where(due).order_by(columns.run_at).limit(limit)
        if self.session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(_JOBS)
            .where(columns.id.in_(candidates.scalar_subquery()))
            .values(
                status=JobStatus.RUNNING,
                lease_owner=owner,
                leased_until=now + lease,
                attempts=columns.attempts + 1,
                updated_at=now,
            )
            .returning(
                columns.id,
                columns.environment_id,
                columns.organization_id,
                columns.kind,
                columns.args,
                columns.attempts,
                columns.max_attempts,
                columns.transaction_id,
                columns.notification_id,
            )
        )
        rows = (await self.session.execute(statement)).all()
        leased = [
            LeasedJob(
                id=row.id,
                environment_id=row.environment_id,
                organization_id=row.organization_id,
                kind=row.kind,
                args=row.args,
                attempts=row.attempts,
                max_attempts=row.max_attempts,
                transaction_id=row.transaction_id,
                notification_id=row.notification_id,
                lease_owner=owner,
            )
            for row in rows
        ]
        return leased

    async def complete(self, job: LeasedJob, now: datetime) -> bool:
        """Mark done, only if this worker still holds the lease."""
        return await self._settle(job, status=JobStatus.COMPLETED, finished_at=now, leased_until=None)

    async def complete_many(self, jobs: list[LeasedJob], now: datetime) -> bool:
        """Mark every job done in one statement per lease; True only if this worker still
        held every one of those leases (otherwise the caller must roll back)."""
        by_owner: dict[str, list[str]] = {}
        for job in jobs:
            by_owner.setdefault(job.lease_owner, []).append(job.id)
        for owner, ids in by_owner.items():
            changed = await _COMPLETE.execute(self.session, now, now, ids, owner)
            if changed != len(ids):
                return False
        return True

    async def retry_later(self, job: LeasedJob, run_at: datetime, error: str) -> bool:
        return await self._settle(
            job,
            status=JobStatus.PENDING,
            run_at=run_at,
            last_error=error,
            lease_owner=None,
            leased_until=None,
        )

    async def fail(self, job: LeasedJob, now: datetime, error: str) -> bool:
        return await self._settle(
            job, status=JobStatus.FAILED, finished_at=now, last_error=error, leased_until=None
        )

    async def next_run_at(self) -> datetime | None:
        statement = select(Job.run_at).where(Job.status == JobStatus.PENDING).order_by(Job.run_at).limit(1)
        next_pending: datetime | None = (await self.session.execute(statement)).scalar_one_or_none()
        return next_pending

    async def _settle(self, job: LeasedJob, **values: object) -> bool:
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == JobStatus.RUNNING, Job.lease_owner == job.lease_owner)
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _lease(due: str) -> DriverQuery:
    """Lease the first due jobs (parameters: owner, leased until, now, then those of `due`,
    then the limit), returning what `LeasedJob` holds."""
    return DriverQuery(
        "UPDATE jobs SET status = 'running', lease_owner = ?, leased_until = ?,"
        " attempts = attempts + 1, updated_at = ?"
        f" WHERE id IN (SELECT id FROM jobs WHERE {due} ORDER BY run_at LIMIT ? {{skip_locked}})"
        " RETURNING id, environment_id, organization_id, kind, args, attempts, max_attempts,"
        " transaction_id, notification_id",
        types={1: _JOBS.c.leased_until.type, 2: _JOBS.c.updated_at.type, 4: _JOBS.c.run_at.type},
    )


_LEASE_EXPIRED = _lease("status = ? AND leased_until < ?")
_LEASE_PENDING = _lease("status = ? AND run_at <= ?")
_COMPLETE = DriverQuery(
    "UPDATE jobs SET status = 'completed', finished_at = ?, leased_until = NULL, updated_at = ?"
    " WHERE id {ids} AND status = 'running' AND lease_owner = ?",
    types={0: _JOBS.c.finished_at.type, 1: _JOBS.c.updated_at.type},
)
