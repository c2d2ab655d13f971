"""Expanding accepted events: each event's recipients become notifications and first step jobs,
and its topics (or, for a broadcast, the whole environment) fan-out jobs.

An event is expanded in the transaction that accepts it, or, when the intake defers that work
(a large group of triggers: see `events.intake`), by the worker through an expansion job stored
with the event: the job carries what the event row does not keep, the recipients and the
actor as the request gave them, and runs like any other job (leased, retried, canceled with
its transaction). Either way the same code runs, so a deferred event ends as an inline one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.dispatch import EventRun, FirstSteps, fanout_job, start_runs
from herald.engine.snapshot import WorkflowTextCache
from herald.events.repository import EventRepository, EventStatus
from herald.events.schemas import ActorField, RecipientsField, SubscriberPayloadDto, TopicPayloadDto
from herald.jobs.repository import JobRepository, enqueued_pending_jobs
from herald.jobs.schemas import BatchResult, LeasedJob, NewJob
from herald.jobs.wakeup import JobWakeUp
from herald.jobs.worker import Clock, PermanentJobError
from herald.kit.scope import EnvironmentScope
from herald.subscribers import service as subscribers
from herald.subscribers.repository import SubscriberRepository
from herald.subscribers.schemas import PROFILE_FIELDS, CreateSubscriberRequestDto, SubscriberResponseDto
from herald.topics.repository import TopicRepository

EXPAND_JOB = "events.expand"
EVENTS_PER_JOB = 100
Recipient = str | TopicPayloadDto | SubscriberPayloadDto
Actor = str | SubscriberPayloadDto
_RECIPIENTS: TypeAdapter[Any] = TypeAdapter(RecipientsField)
_ACTOR: TypeAdapter[Any] = TypeAdapter(ActorField)
_AS_GIVEN: dict[str, Any] = {"mode": "json", "by_alias": True, "exclude_unset": True}
"""Recipients and actors dumped as the request gave them: a subscriber object's absent
fields stay absent, so that its upsert keeps them."""
_ACTOR_FIELDS = (*PROFILE_FIELDS, "data")


@dataclass
class AcceptedEvent:
    """An event to expand: its row's values (`run`; the actor is resolved here) and what the
    request asked for. `recipients` None is a broadcast."""

    run: EventRun
    recipients: list[Recipient] | None
    actor: Actor | None
    actor_pk: str | None = None
    subscriber_pks: list[str] = field(default_factory=list)


class DeferredEvent(NamedTuple):
    """A stored event that an expansion job will expand: what its row does not keep."""

    event_id: str
    transaction_id: str
    recipients: list[Recipient] | None
    actor: Actor | None


def expansion_jobs(events: Sequence[DeferredEvent]) -> list[NewJob]:
    """The jobs that expand `events` later, up to `EVENTS_PER_JOB` each. A job of one event
    carries its transactionId, so that a cancel cancels the job itself; the events of a larger
    one are each skipped once canceled."""
    jobs: list[NewJob] = []
    for start in range(0, len(events), EVENTS_PER_JOB):
        part = events[start : start + EVENTS_PER_JOB]
        transaction_id = part[0].transaction_id if len(part) == 1 else None
        entries = [_job_entry(event) for event in part]
        jobs.append(NewJob(EXPAND_JOB, {"events": entries}, transaction_id=transaction_id))
    return jobs


def _job_entry(event: DeferredEvent) -> dict[str, Any]:
    entry: dict[str, Any] = {"event": event.event_id}
    recipients = event.recipients
    if recipients is not None:
        ids_only = all(type(recipient) is str for recipient in recipients)
        entry["to"] = list(recipients) if ids_only else _RECIPIENTS.dump_python(recipients, **_AS_GIVEN)
    if event.actor is not None:
        entry["actor"] = _ACTOR.dump_python(event.actor, **_AS_GIVEN)
    return entry


class EventExpansion:
    """The expansion of a batch of accepted events, in the caller's transaction."""

    def __init__(
        self,
        session: AsyncSession,
        scope: EnvironmentScope,
        now: datetime,
        fanout_chunk: int,
        first_steps: FirstSteps | None = None,
    ) -> None:
        self.session = session
        self.scope = scope
        self.now = now
        self.fanout_chunk = fanout_chunk
        self.first_steps = first_steps

    async def expand(self, events: Sequence[AcceptedEvent]) -> None:
        """Actors (stored on their events), then notifications and first jobs for direct
        recipients, and fan-out jobs. What an earlier, rolled-back attempt resolved is
        forgotten first."""
        actors: dict[str, dict[str, Any]] = {}
        for event in events:
            event.actor_pk, event.subscriber_pks = None, []
            if event.actor is not None:
                actor = await self._resolve_actor(event)
                event.run = replace(event.run, actor=actor)
                actors[event.run.event_id] = actor
        if actors:
            await EventRepository(self.session, self.scope).set_actors(actors, self.now)
        await self._resolve_recipients(events)
        runs = [(event.run, event.subscriber_pks) for event in events]
        await start_runs(self.session, self.scope, runs, self.now, self.first_steps)
        fanouts: list[NewJob] = []
        for event in events:
            fanouts.extend(await self._fanout_jobs(event))
        if fanouts:
            await JobRepository(self.session, self.scope).enqueue(fanouts, self.now)

    async def _resolve_actor(self, event: AcceptedEvent) -> dict[str, Any]:
        """The actor's template variables; a subscriber object is upserted, an unknown
        subscriberId is kept as given."""
        if isinstance(event.actor, SubscriberPayloadDto):
            upserted = await self._upsert(event.actor)
            event.actor_pk = upserted.id
            return _actor_variables(upserted)
        actor_id = event.actor or ""
        row = await SubscriberRepository(self.session, self.scope).by_subscriber_id(actor_id)
        event.actor_pk = row.id if row else None
        return _actor_variables(subscribers.to_response(row)) if row else {"subscriberId": actor_id}

    async def _resolve_recipients(self, events: Sequence[AcceptedEvent]) -> None:
        """Direct recipients to subscriber row ids: known ids in one lookup; unknown ids and
        subscriber objects are created (objects update the fields they carry)."""
        wanted = [
            recipient
            for event in events
            for recipient in event.recipients or ()
            if isinstance(recipient, str)
        ]
        known = await SubscriberRepository(self.session, self.scope).internal_ids(wanted)
        for event in events:
            for recipient in event.recipients or ():
                if isinstance(recipient, TopicPayloadDto):
                    continue
                if isinstance(recipient, str) and recipient in known:
                    event.subscriber_pks.append(known[recipient])
                    continue
                upserted = await self._upsert(
                    recipient
                    if isinstance(recipient, SubscriberPayloadDto)
                    else SubscriberPayloadDto(subscriber_id=recipient)
                )
                known[upserted.subscriber_id] = upserted.id
                event.subscriber_pks.append(upserted.id)

    async def _upsert(self, subscriber: SubscriberPayloadDto) -> SubscriberResponseDto:
        """Create the subscriber, or update the fields given (absent ones are kept), then set the
        credentials of its `channels`."""
        given = subscriber.model_dump(by_alias=True, exclude_unset=True, exclude={"channels"})
        fields = CreateSubscriberRequestDto.model_validate(given)
        upserted, _ = await subscribers.upsert_subscriber(self.session, self.scope, fields, nulls_clear=False)
        for channel in subscriber.channels or ():
            upserted = await subscribers.update_credentials(
                self.session, self.scope, upserted.subscriber_id, channel, append=False
            )
        return upserted

    async def _fanout_jobs(self, event: AcceptedEvent) -> list[NewJob]:
        run = event.run
        if event.recipients is None:
            excluded = [event.actor_pk] if event.actor_pk else []
            return [
                fanout_job(
                    run.event_id,
                    run.transaction_id,
                    topic_id=None,
                    excluded=excluded,
                    chunk=self.fanout_chunk,
                )
            ]
        jobs: list[NewJob] = []
        for recipient in event.recipients:
            if not isinstance(recipient, TopicPayloadDto):
                continue
            topic = await TopicRepository(self.session, self.scope).by_key(recipient.topic_key)
            if topic is None:
                continue
            excluded = list(
                (
                    await SubscriberRepository(self.session, self.scope).internal_ids(recipient.exclude or [])
                ).values()
            )
            if event.actor_pk:
                excluded.append(event.actor_pk)
            jobs.append(
                fanout_job(
                    run.event_id,
                    run.transaction_id,
                    topic_id=topic.id,
                    excluded=excluded,
                    chunk=self.fanout_chunk,
                )
            )
        return jobs


class ExpansionJobs:
    """The worker's handlers of expansion jobs: a leased batch expands in one transaction per
    environment (a single job alone when the batch fell back)."""

    def __init__(
        self, fanout_chunk: int, first_steps: FirstSteps | None, wakeup: JobWakeUp | None, clock: Clock
    ) -> None:
        self.fanout_chunk = fanout_chunk
        self.first_steps = first_steps
        self.wakeup = wakeup
        self.clock = clock
        self.workflows = WorkflowTextCache()

    async def run_one(self, session: AsyncSession, job: LeasedJob) -> None:
        await self.run_batch(session, [job])

    async def run_batch(self, session: AsyncSession, jobs: list[LeasedJob]) -> BatchResult:
        by_scope: dict[EnvironmentScope, list[LeasedJob]] = {}
        for job in jobs:
            by_scope.setdefault(EnvironmentScope(job.environment_id, job.organization_id), []).append(job)
        now = self.clock()
        for scope, group in by_scope.items():
            events = await self._accepted_events(session, scope, group)
            await EventExpansion(session, scope, now, self.fanout_chunk, self.first_steps).expand(events)
        if self.wakeup is not None and enqueued_pending_jobs(session):
            self.wakeup.notify_after_commit(session)
        return BatchResult()

    async def _accepted_events(
        self, session: AsyncSession, scope: EnvironmentScope, jobs: Sequence[LeasedJob]
    ) -> list[AcceptedEvent]:
        """The events of `jobs` still to expand (a canceled or deleted one is not), marked
        expanded."""
        entries = [(job, entry) for job in jobs for entry in job.args["events"]]
        repository = EventRepository(session, scope)
        rows = {row.id: row for row in await repository.rows([entry["event"] for _, entry in entries])}
        events: list[AcceptedEvent] = []
        for job, entry in entries:
            row = rows.get(entry["event"])
            if row is None or row.status == EventStatus.CANCELED:
                continue
            try:
                recipients = _RECIPIENTS.validate_python(entry["to"]) if "to" in entry else None
                actor = _ACTOR.validate_python(entry["actor"]) if "actor" in entry else None
            except ValidationError as error:
                raise PermanentJobError(
                    f"Expansion job {job.id} carries invalid recipients: {error}"
                ) from None
            run = EventRun(
                event_id=row.id,
                transaction_id=row.transaction_id,
                workflow=self.workflows.loaded(row.workflow),
                payload=row.payload,
                overrides=row.overrides or {},
                actor=None,
                tenant=row.tenant,
                context=row.context,
            )
            events.append(AcceptedEvent(run, _as_list(recipients), actor))
        await repository.mark_expanded([event.run.event_id for event in events], self.clock())
        return events


def _as_list(recipients: Recipient | list[Recipient] | None) -> list[Recipient] | None:
    if recipients is None or isinstance(recipients, list):
        return recipients
    return [recipients]


def _actor_variables(subscriber: SubscriberResponseDto) -> dict[str, Any]:
    dumped = subscriber.model_dump(by_alias=True)
    return {name: dumped.get(name) for name in _ACTOR_FIELDS}
