"""Queries on digest windows and their events. Every change to one group's windows happens
under that group's lock (`lock`), so deciding to open or join a window cannot interleave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from herald.engine.steps.grouping import StepGroup
from herald.engine.steps.timing import as_utc
from herald.kit.ids import new_id
from herald.kit.locks import lock_name
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Digest, DigestEvent
from herald.models.digest import DIGEST_CLOSED, DIGEST_OPEN


class DigestRepository(EnvironmentScopedRepository[Digest]):
    model = Digest

    async def lock(self, group: StepGroup) -> None:
        await lock_name(self.session, *group.lock_parts("digest"))

    def _of_group(self, group: StepGroup) -> Any:
        return (
            (Digest.subscriber_id == group.subscriber_id)
            & (Digest.workflow_identifier == group.workflow_identifier)
            & (Digest.step_id == group.step_id)
            & (Digest.digest_key == group.key)
        )

    async def open_window(self, group: StepGroup) -> Digest | None:
        statement = self.select().where(self._of_group(group), Digest.status == DIGEST_OPEN)
        row: Digest | None = (await self.session.execute(statement)).scalar_one_or_none()
        return row

    async def open_windows_holding(self, transaction_id: str) -> Sequence[Digest]:
        holding = select(DigestEvent.digest_id).where(DigestEvent.transaction_id == transaction_id)
        statement = self.select().where(Digest.status == DIGEST_OPEN, Digest.id.in_(holding))
        windows: Sequence[Digest] = (await self.session.execute(statement)).scalars().all()
        return windows

    async def last_event_at(self, group: StepGroup) -> datetime | None:
        statement = self.select(func.max(Digest.last_event_at)).where(self._of_group(group))
        latest: datetime | None = (await self.session.execute(statement)).scalar_one_or_none()
        return latest

    async def create(self, group: StepGroup, *, status: str, window_end: datetime, now: datetime) -> Digest:
        digest = Digest(
            id=new_id(),
            subscriber_id=group.subscriber_id,
            workflow_identifier=group.workflow_identifier,
            step_id=group.step_id,
            digest_key=group.key,
            status=status,
            window_end=window_end,
            last_event_at=now,
            closed_at=None if status == DIGEST_OPEN else now,
            created_at=now,
            updated_at=now,
        )
        self.add(digest)
        await self.session.flush()
        return digest

    async def close(self, digest_id: str, now: datetime) -> None:
        await self.session.execute(
            self.update()
            .where(Digest.id == digest_id, Digest.status == DIGEST_OPEN)
            .values(status=DIGEST_CLOSED, closed_at=now, updated_at=now)
        )


class DigestEventRepository(EnvironmentScopedRepository[DigestEvent]):
    model = DigestEvent

    async def attach(
        self,
        digest: Digest,
        *,
        notification_id: str,
        transaction_id: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> DigestEvent:
        event = self.add(
            DigestEvent(
                digest_id=digest.id,
                notification_id=notification_id,
                transaction_id=transaction_id,
                payload=payload,
                created_at=now,
                updated_at=now,
            )
        )
        digest.last_event_at = max(as_utc(digest.last_event_at), now)
        await self.session.flush()
        return event

    async def remove_from_open_windows(self, transaction_id: str, digest_ids: Sequence[str]) -> int:
        still_open = select(Digest.id).where(Digest.id.in_(digest_ids), Digest.status == DIGEST_OPEN)
        result = await self.session.execute(
            self.delete().where(
                DigestEvent.transaction_id == transaction_id, DigestEvent.digest_id.in_(still_open)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def first_not_of(self, digest_id: str, transaction_id: str) -> DigestEvent | None:
        """The digest's oldest event of another transaction."""
        statement = (
            self.select()
            .where(DigestEvent.digest_id == digest_id, DigestEvent.transaction_id != transaction_id)
            .order_by(DigestEvent.created_at, DigestEvent.id)
            .limit(1)
        )
        event: DigestEvent | None = (await self.session.execute(statement)).scalars().first()
        return event

    async def of_digest(self, digest_id: str) -> Sequence[DigestEvent]:
        statement = (
            self.select()
            .where(DigestEvent.digest_id == digest_id)
            .order_by(DigestEvent.created_at, DigestEvent.id)
        )
        events: Sequence[DigestEvent] = (await self.session.execute(statement)).scalars().all()
        return events
