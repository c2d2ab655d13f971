"""A busy server stores each trigger as its event and a job that expands it; the worker then
expands it as the request would have: subscribers upserted, the actor resolved and left out of
fan-outs, topics reached, first messages stored. Cancel before the expansion stops it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from herald.config import Settings
from herald.engine.dispatch import FANOUT_JOB, STEP_JOB
from herald.events.expansion import EXPAND_JOB
from herald.models import Event, Job, Message
from herald.realtime.publisher import NullPublisher
from tests.engine.conftest import api_without_worker
from tests.engine.helpers import Rows, create_workflow, in_app, run_worker, trigger
from tests.support import RunningServer


@pytest.fixture
def busy_api(settings: Settings) -> Iterator[RunningServer]:
    """An API without a worker that counts as busy from one trigger waiting to be stored: it
    defers the expansion of every trigger."""
    yield from api_without_worker(settings.model_copy(update={"busy_at_triggers_waiting": 1}))


def _kinds(rows: Rows, transaction_id: str) -> list[tuple[str, str]]:
    return sorted((job.kind, job.status) for job in rows.jobs(Job.transaction_id == transaction_id))


def test_a_deferred_trigger_is_expanded_by_the_worker_as_the_request_would(busy_api: RunningServer) -> None:
    with busy_api.client() as client:
        create_workflow(
            client,
            "welcome",
            [in_app(body="{{ subscriber.firstName }}, {{ actor.firstName }} says {{ payload.word }}")],
        )
        for member in ("t1", "t2", "boss"):
            assert client.post("/v2/subscribers", json={"subscriberId": member}).status_code == 201
        assert (
            client.post(
                "/v2/topics/team/subscriptions", json={"subscriptions": ["t1", "t2", "boss"]}
            ).status_code
            == 201
        )
    to = [
        {"subscriberId": "ada", "firstName": "Ada"},
        {"type": "Topic", "topicKey": "team", "exclude": ["t2"]},
    ]
    actor = {"subscriberId": "boss", "firstName": "Grace"}
    trigger(busy_api, "welcome", to, "tx-deferred", payload={"word": "hi"}, actor=actor)
    rows = Rows(busy_api.settings)

    assert _kinds(rows, "tx-deferred") == [(EXPAND_JOB, "pending")]
    assert rows.notifications() == [] and rows.messages() == []
    [event] = rows.events(Event.transaction_id == "tx-deferred")
    assert event.actor is None  # resolved when expanded

    run_worker(busy_api.settings, NullPublisher())
    contents = sorted(m.content for m in rows.messages(Message.transaction_id == "tx-deferred"))
    assert contents == [", Grace says hi", "Ada, Grace says hi"]  # t1 has no first name; boss is the actor
    kinds = _kinds(rows, "tx-deferred")
    assert (EXPAND_JOB, "completed") in kinds and (FANOUT_JOB, "completed") in kinds
    assert {status for kind, status in kinds if kind == STEP_JOB} == {"completed"}
    [event] = rows.events(Event.transaction_id == "tx-deferred")
    assert event.actor is not None and event.actor["firstName"] == "Grace"
    with busy_api.client() as client:
        ada = client.get("/v2/subscribers/ada").json()["data"]
    assert ada["firstName"] == "Ada"


def test_a_deferred_broadcast_and_bulk_reach_their_subscribers_once(busy_api: RunningServer) -> None:
    with busy_api.client() as client:
        create_workflow(client, "news", [in_app(body="{{ payload.n }} for {{ subscriber.subscriberId }}")])
        for member in ("a", "b", "c"):
            assert client.post("/v2/subscribers", json={"subscriberId": member}).status_code == 201
        broadcast = client.post(
            "/v1/events/trigger/broadcast",
            json={"name": "news", "payload": {"n": 0}, "actor": "c", "transactionId": "tx-all"},
        )
        assert broadcast.status_code == 201 and broadcast.json()["data"]["status"] == "processed"
        events = [
            {"name": "news", "to": "a", "payload": {"n": n}, "transactionId": f"tx-b{n}"} for n in (1, 2)
        ]
        events.append({"name": "news", "to": "b", "transactionId": "tx-b1"})  # reused: not stored
        bulk = client.post("/v1/events/trigger/bulk", json={"events": events})
        assert [answer["status"] for answer in bulk.json()["data"]] == ["processed", "processed", "error"]
    rows = Rows(busy_api.settings)
    assert {job.kind for job in rows.jobs()} == {EXPAND_JOB}

    run_worker(busy_api.settings, NullPublisher())
    assert sorted(m.content for m in rows.messages()) == ["0 for a", "0 for b", "1 for a", "2 for a"]


def test_cancel_before_the_expansion_stops_it(busy_api: RunningServer) -> None:
    with busy_api.client() as client:
        create_workflow(client, "later", [in_app(body="never")])
    trigger(busy_api, "later", "ada", "tx-stop")
    with busy_api.client() as client:
        canceled = client.delete("/v1/events/trigger/tx-stop")
    assert canceled.status_code == 200 and canceled.json()["data"] is True

    run_worker(busy_api.settings, NullPublisher())
    rows = Rows(busy_api.settings)
    assert _kinds(rows, "tx-stop") == [(EXPAND_JOB, "canceled")]
    assert rows.notifications() == [] and rows.messages() == []


def test_cancel_of_one_event_of_a_deferred_bulk_leaves_out_only_that_event(busy_api: RunningServer) -> None:
    with busy_api.client() as client:
        create_workflow(client, "digest-me", [in_app(body="{{ payload.n }}")])
        events = [
            {"name": "digest-me", "to": "ada", "payload": {"n": n}, "transactionId": f"tx-{n}"}
            for n in range(3)
        ]
        assert client.post("/v1/events/trigger/bulk", json={"events": events}).status_code == 201
        canceled = client.delete("/v1/events/trigger/tx-1")
        assert canceled.json()["data"] is True
        again = client.delete("/v1/events/trigger/tx-1")
        assert again.json()["data"] is False  # nothing left to cancel
    rows = Rows(busy_api.settings)
    [job] = rows.jobs()
    assert (job.kind, job.transaction_id, len(job.args["events"])) == (EXPAND_JOB, None, 3)
    assert {event.transaction_id: event.status for event in rows.events()} == {
        "tx-0": "pending",
        "tx-1": "canceled",
        "tx-2": "pending",
    }

    run_worker(busy_api.settings, NullPublisher())
    assert sorted(m.content for m in rows.messages()) == ["0", "2"]
    assert {event.transaction_id: event.status for event in rows.events()} == {
        "tx-0": "processing",
        "tx-1": "canceled",
        "tx-2": "processing",
    }
