"""Accepting triggers under concurrency (group commit), and what a trigger reads and marks on
its workflow."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text

from herald.auth.service import authenticate
from herald.db import Database
from herald.errors import FieldValidationError
from herald.events.intake import CROWDED_COMMITS_TO_LINGER, Check, TriggerIntake
from herald.events.schemas import TriggerEventRequestDto
from herald.events.service import Checked, TriggerChecks, check_trigger
from herald.jobs.wakeup import JobWakeUp
from herald.models import Message, Notification
from tests.engine.helpers import Rows, create_workflow, in_app, step
from tests.support import RunningServer, start_server

POISON = "tx-poisoned"


async def _fire(server: RunningServer, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(
        base_url=server.url, headers=server.headers(), limits=limits, timeout=60
    ) as client:
        return list(await asyncio.gather(*(client.post("/v1/events/trigger", json=b) for b in bodies)))


async def _poison_event_inserts(server: RunningServer) -> None:
    """A real database fault for one transactionId: its event INSERT aborts."""
    database = Database(server.settings)
    try:
        async with database.session(write=True) as session:
            if database.is_sqlite:
                await session.execute(
                    text(
                        "CREATE TRIGGER poison BEFORE INSERT ON events "
                        f"WHEN NEW.transaction_id = '{POISON}' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                    )
                )
            else:
                await session.execute(
                    text(
                        "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        f"IF NEW.transaction_id = '{POISON}' THEN RAISE EXCEPTION 'poisoned'; END IF; "
                        "RETURN NEW; END $$"
                    )
                )
                await session.execute(
                    text(
                        "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()"
                    )
                )
    finally:
        await database.dispose()


def test_concurrent_triggers_are_each_stored_once_and_answered(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "burst", [in_app(body="{{ payload.n }}")])
    bodies: list[dict[str, object]] = [
        {"name": "burst", "to": f"s{n % 7}", "payload": {"n": n}, "transactionId": f"burst-{n}"}
        for n in range(60)
    ]
    bodies += [{"name": "burst", "to": "s1", "transactionId": "burst-3"}]  # a reused transactionId
    bodies += [{"name": "missing", "to": "s1", "transactionId": "burst-missing"}]
    responses = asyncio.run(_fire(server, bodies))

    statuses = [(r.status_code, r.json().get("data", {}).get("status")) for r in responses]
    assert [statuses[n] for n in range(60) if n != 3] == [(201, "processed")] * 59
    # Two concurrent triggers with one transactionId: whichever is stored first is processed.
    assert sorted([statuses[3], statuses[60]]) == [(201, "error"), (201, "processed")]
    assert responses[61].status_code == 422
    rows = Rows(server.settings)
    for n in range(60):
        rows.settled(f"burst-{n}")
    assert len(rows.notifications(Notification.transaction_id.like("burst-%"))) == 60
    contents = sorted(m.content for m in rows.messages(Message.transaction_id.like("burst-%")))
    assert len(contents) == 60
    assert set(contents) - {"", "3"} == {str(n) for n in range(60) if n != 3}


def test_a_request_canceled_while_its_triggers_wait_for_the_commit_still_stores_them(
    server: RunningServer,
) -> None:
    """The client went away (its request task is canceled) after its trigger was queued for a
    group commit: the trigger is stored all the same, as a server that acknowledged nothing yet
    may do, and the intake goes on answering others."""
    with server.client() as client:
        create_workflow(client, "left", [in_app()])

    async def scenario() -> None:
        database = Database(server.settings)
        try:
            # Busy from one waiting trigger: the wait below can see it queued.
            intake = TriggerIntake(database, JobWakeUp(), fanout_chunk=100, busy_at=1)
            scope = await authenticate(database, server.headers()["Authorization"])

            def trigger(transaction_id: str) -> Check:
                body = TriggerEventRequestDto.model_validate(
                    {"name": "left", "to": "a", "transactionId": transaction_id}
                )
                return lambda checks: check_trigger(checks, body)

            canceled = asyncio.create_task(intake.accept(None, scope, trigger("tx-left")))
            while not intake.busy():  # until the trigger is queued for a commit
                await asyncio.sleep(0)
            canceled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await canceled
            [answer] = await intake.accept(None, scope, trigger("tx-stayed"))
            assert answer.status == "processed"
        finally:
            await database.dispose()

    asyncio.run(scenario())
    rows = Rows(server.settings)
    assert {event.transaction_id for event in rows.events()} >= {"tx-left", "tx-stayed"}
    rows.settled("tx-left")


def test_a_failed_trigger_write_does_not_fail_the_others_committed_with_it(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "shared", [in_app()])
    asyncio.run(_poison_event_inserts(server))
    bodies: list[dict[str, object]] = [
        {"name": "shared", "to": "a", "transactionId": f"shared-{n}"} for n in range(30)
    ]
    bodies.insert(15, {"name": "shared", "to": "a", "transactionId": POISON})
    responses = asyncio.run(_fire(server, bodies))

    poisoned = responses.pop(15)
    assert poisoned.status_code == 500
    assert set(poisoned.json()) >= {"statusCode", "message", "errorId"}
    assert [r.status_code for r in responses] == [201] * 30
    rows = Rows(server.settings)
    for n in range(30):
        rows.settled(f"shared-{n}")
    assert len(rows.notifications(Notification.transaction_id.like("shared-%"))) == 30
    assert rows.notifications(Notification.transaction_id == POISON) == []


def test_a_trigger_sees_a_workflow_changed_by_another_process_at_once(server: RunningServer) -> None:
    other = start_server(server.settings)
    try:
        with server.client() as client:
            workflow = create_workflow(client, "changing", [in_app(body="first")])
            assert (
                client.post(
                    "/v1/events/trigger", json={"name": "changing", "to": "a", "transactionId": "v1"}
                ).status_code
                == 201
            )
            Rows(server.settings).settled("v1")
            with other.client() as elsewhere:
                changed = {"name": "Changing", "workflowId": "changing", "steps": [in_app(body="second")]}
                assert elsewhere.put(f"/v2/workflows/{workflow['_id']}", json=changed).status_code == 200
            assert (
                client.post(
                    "/v1/events/trigger", json={"name": "changing", "to": "a", "transactionId": "v2"}
                ).status_code
                == 201
            )
            rows = Rows(server.settings)
            rows.settled("v2")
            [message] = rows.messages(Message.transaction_id == "v2")
            assert message.content == "second"
            with other.client() as elsewhere:
                assert elsewhere.delete(f"/v2/workflows/{workflow['_id']}").status_code == 204
            gone = client.post("/v1/events/trigger", json={"name": "changing", "to": "a"})
            assert gone.status_code == 422
    finally:
        other.stop()


def test_a_crowded_commit_counts_once_and_committed_triggers_no_longer_wait(server: RunningServer) -> None:
    """Crowding is counted as each commit begins, over the triggers still waiting: three that
    arrive together make one crowded commit, not one crowding per arrival, and a trigger that
    arrives while they commit makes the next commit alone, however late their requests resume.
    Counted otherwise, a moderate rate lingered as busy (deferring its triggers) after one stall."""
    with server.client() as client:
        create_workflow(client, "together", [in_app()])

    async def scenario() -> None:
        database = Database(server.settings)
        try:
            intake = TriggerIntake(database, JobWakeUp(), fanout_chunk=100, busy_at=2, busy_linger_seconds=60)
            assert not intake.active()  # no trigger came yet
            scope = await authenticate(database, server.headers()["Authorization"])
            checked = []
            for number in range(4):
                body = TriggerEventRequestDto.model_validate(
                    {"name": "together", "to": "a", "transactionId": f"tx-together-{number}"}
                )
                checked.append(await check_trigger(TriggerChecks(intake.definitions, scope), body))

            def at_once(number: int) -> Check:
                async def check(_checks: TriggerChecks) -> list[Checked]:
                    return checked[number]

                return check

            async def after_the_others_queued(_checks: TriggerChecks) -> list[Checked]:
                await asyncio.sleep(0)  # the first commit takes the three others meanwhile
                return checked[3]

            answers = await asyncio.gather(
                *(intake.accept(None, scope, at_once(number)) for number in range(3)),
                intake.accept(None, scope, after_the_others_queued),
            )
            assert [answer.status for (answer,) in answers] == ["processed"] * 4
            assert not intake.busy()
            assert intake.active()  # the worker keeps its batches short for a while
        finally:
            await database.dispose()

    asyncio.run(scenario())


def test_a_trigger_sets_last_triggered_at_and_leaves_updated_at(server: RunningServer) -> None:
    with server.client() as client:
        workflow = create_workflow(client, "marked", [in_app()])
        assert workflow.get("lastTriggeredAt") is None
        assert client.post("/v1/events/trigger", json={"name": "marked", "to": "a"}).status_code == 201
        after = client.get("/v2/workflows/marked").json()["data"]
        assert after["lastTriggeredAt"] is not None
        assert after["updatedAt"] == workflow["updatedAt"]


def test_only_triggers_that_leave_jobs_wake_the_worker(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trigger whose first steps all ran in its own transaction leaves the worker asleep (it
    would only lease and find nothing); one that enqueued a job wakes it."""
    wakeup = server.app.state.job_wakeup  # type: ignore[attr-defined]
    woken: list[None] = []
    notify = wakeup.notify
    monkeypatch.setattr(wakeup, "notify", lambda: (woken.append(None), notify()))
    with server.client() as client:
        create_workflow(client, "at-once", [in_app()])
        create_workflow(
            client, "waits", [step("delay", "Wait", type="regular", amount=5, unit="minutes"), in_app()]
        )
        body = {"name": "at-once", "to": "a", "transactionId": "tx-at-once"}
        assert client.post("/v1/events/trigger", json=body).status_code == 201
        # Answered once committed, the in-app message with it.
        assert len(Rows(server.settings).messages(Message.transaction_id == "tx-at-once")) == 1
        assert woken == []
        assert client.post("/v1/events/trigger", json={"name": "waits", "to": "a"}).status_code == 201
        assert woken


def test_busy_lingers_once_commits_kept_beginning_crowded(server: RunningServer) -> None:
    """Under sustained load the queue empties for a moment with each commit: the intake still
    counts as busy for its linger, so that the worker does not take each such moment. Fewer
    crowded commits within the linger (a stall at a moderate rate) do not linger."""
    with server.client() as client:
        create_workflow(client, "lingering", [in_app()])
    linger = 1.0

    async def scenario() -> None:
        database = Database(server.settings)
        try:
            intake = TriggerIntake(
                database, JobWakeUp(), fanout_chunk=100, busy_at=1, busy_linger_seconds=linger
            )
            scope = await authenticate(database, server.headers()["Authorization"])
            unknown = TriggerEventRequestDto.model_validate({"name": "no-such-workflow", "to": "a"})
            with pytest.raises(FieldValidationError):
                await intake.accept(None, scope, lambda checks: check_trigger(checks, unknown))
            assert not intake.busy()  # refused in its checks: it never waited for a commit
            body = TriggerEventRequestDto.model_validate({"name": "lingering", "to": "a"})
            for _ in range(CROWDED_COMMITS_TO_LINGER - 1):
                await intake.accept(None, scope, lambda checks: check_trigger(checks, body))
                assert not intake.busy()  # each commit crowded (busy_at=1), the queue now empty
            await intake.accept(None, scope, lambda checks: check_trigger(checks, body))
            stored_at = time.monotonic()
            assert intake.busy() or time.monotonic() - stored_at >= linger
            await asyncio.sleep(linger)
            assert not intake.busy()
        finally:
            await database.dispose()

    asyncio.run(scenario())
