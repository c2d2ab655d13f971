"""The step runner through real triggers: every step type, conditions, preferences, critical
workflows, Liquid errors, delays and cancel."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from novu_py import Novu, models

from herald.config import Settings
from herald.kit.time import utc_now
from herald.models import ExecutionDetail, Job, Message, Notification
from tests.engine.helpers import (
    Rows,
    advance_pending_jobs,
    create_workflow,
    in_app,
    step,
    trigger,
    wait_for,
)
from tests.support import DatabaseFactory, RunningServer, running, start_server


def test_every_channel_step_delivers_through_the_development_provider(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "all-channels",
            [
                in_app(body="In-app {{ payload.n }}"),
                step(
                    "email",
                    "Email",
                    subject="Subject {{ payload.n }}",
                    body="<p>{{ subscriber.firstName }}</p>",
                ),
                step("sms", "SMS", body="SMS {{ payload.n }}"),
                step("push", "Push", subject="Push", body="Push {{ payload.n }}"),
                step("chat", "Chat", body="Chat {{ payload.n }}"),
                step("custom", "Hook", anything={"a": 1}),
            ],
        )
        subscriber = {
            "subscriberId": "full",
            "firstName": "Ada",
            "email": "ada@example.com",
            "phone": "+14155550100",
        }
        assert client.post("/v2/subscribers", json=subscriber).status_code == 201
        for provider, credentials in (
            ("fcm", {"deviceTokens": ["token-1"]}),
            ("slack", {"webhookUrl": "https://hooks.example.com/services/SECRET"}),
        ):
            response = client.put(
                "/v1/subscribers/full/credentials", json={"providerId": provider, "credentials": credentials}
            )
            assert response.status_code == 200, response.text
        assert client.post("/v2/subscribers", json={"subscriberId": "bare"}).status_code == 201
    trigger(server, "all-channels", ["full", "bare"], "tx-all", payload={"n": 7})

    rows = Rows(server.settings)
    notifications = rows.settled("tx-all", count=2)
    assert {n.status for n in notifications} == {"completed"}
    assert sorted(notifications[0].channels) == sorted(["in_app", "email", "sms", "push", "chat"])
    messages = rows.messages(Message.transaction_id == "tx-all")
    by_channel = {(m.channel, m.subscriber_id): m for m in messages}
    full = next(
        n.subscriber_id
        for n in notifications
        if n.subscriber_id in {m.subscriber_id for m in messages if m.channel == "email"}
    )
    email = by_channel[("email", full)]
    assert (email.subject, email.content, email.destination) == ("Subject 7", "<p>Ada</p>", "ada@example.com")
    assert by_channel[("sms", full)].destination == "+14155550100"
    assert by_channel[("sms", full)].content == "SMS 7"
    assert by_channel[("push", full)].destination == "fcm:1 device token(s)"
    assert by_channel[("chat", full)].destination == "slack:hooks.example.com"
    assert all(m.status == "sent" for m in messages)
    # The bare subscriber has no address for any channel but in-app: those steps are skipped.
    bare = next(n.subscriber_id for n in notifications if n.subscriber_id != full)
    assert {m.channel for m in messages if m.subscriber_id == bare} == {"in_app"}
    details = rows.details(
        ExecutionDetail.notification_id == next(n.id for n in notifications if n.subscriber_id == bare)
    )
    skipped = sorted(d.detail for d in details if d.status == "Warning")
    assert skipped == [
        "Step skipped: the subscriber has no chat credentials",
        "Step skipped: the subscriber has no email address",
        "Step skipped: the subscriber has no phone number",
        "Step skipped: the subscriber has no push device tokens",
    ]
    assert any("Custom step passed through" in d.detail for d in details)


def test_skip_conditions_decide_per_subscriber(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "vip",
            [
                in_app("Pro", body="pro", skip={"==": [{"var": "subscriber.data.tier"}, "pro"]}),
                in_app("Everyone", body="all"),
            ],
        )
        client.post("/v2/subscribers", json={"subscriberId": "p", "data": {"tier": "pro"}})
        client.post("/v2/subscribers", json={"subscriberId": "f", "data": {"tier": "free"}})
    trigger(server, "vip", ["p", "f"], "tx-skip")
    rows = Rows(server.settings)
    rows.settled("tx-skip", count=2)
    contents = sorted(m.content for m in rows.messages(Message.transaction_id == "tx-skip"))
    assert contents == ["all", "all", "pro"]
    assert any(d.detail == "Step skipped: its conditions are not met" for d in rows.details())


def test_preferences_off_skips_and_critical_delivers_anyway(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "digest-news", [in_app(body="news")])
        create_workflow(client, "security", [in_app(body="security")], critical=True)
        client.post("/v2/subscribers", json={"subscriberId": "quiet"})
        response = client.patch("/v2/subscribers/quiet/preferences", json={"channels": {"in_app": False}})
        assert response.status_code == 200, response.text
    trigger(server, "digest-news", "quiet", "tx-pref")
    trigger(server, "security", "quiet", "tx-critical")
    rows = Rows(server.settings)
    rows.settled("tx-pref")
    rows.settled("tx-critical")
    assert rows.messages(Message.transaction_id == "tx-pref") == []
    assert [m.content for m in rows.messages(Message.transaction_id == "tx-critical")] == ["security"]
    assert [m.critical for m in rows.messages(Message.transaction_id == "tx-critical")] == [True]
    assert any("turned in_app off" in d.detail for d in rows.details())


def test_a_liquid_error_fails_the_job_with_its_reason(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "broken", [in_app(body="{{ 10 | divided_by: payload.zero }}")])
        create_workflow(client, "fine", [in_app(body="fine")])
    trigger(server, "broken", "a", "tx-broken", payload={"zero": 0})
    trigger(server, "fine", "a", "tx-fine")
    rows = Rows(server.settings)
    [notification] = rows.settled("tx-broken")
    assert notification.status == "failed"
    [job] = rows.jobs(Job.transaction_id == "tx-broken")
    assert job.status == "failed" and job.attempts == 1
    assert job.last_error and "Liquid error in body: divided_by: can't divide by 0" in job.last_error
    [detail] = [
        d for d in rows.details(ExecutionDetail.notification_id == notification.id) if d.status == "Failed"
    ]
    assert "Liquid error in body" in detail.detail
    # The worker goes on with other work.
    rows.settled("tx-fine")
    assert len(rows.messages(Message.transaction_id == "tx-fine")) == 1


def test_workflow_edits_do_not_change_a_run_in_flight(server: RunningServer) -> None:
    with server.client() as client:
        created = create_workflow(
            client,
            "edited",
            [step("delay", "Wait", type="regular", amount=1, unit="hours"), in_app(body="before")],
        )
        trigger(server, "edited", "a", "tx-edit")
        rows = Rows(server.settings)
        wait_for(lambda: len(rows.jobs(Job.transaction_id == "tx-edit")) == 2, "the delayed job")
        steps = created["steps"]
        steps[1]["controlValues"] = {"body": "after"}
        body = {
            "name": created["name"],
            "workflowId": "edited",
            "active": True,
            "steps": [
                {"_id": s["_id"], "name": s["name"], "type": s["type"], "controlValues": s["controlValues"]}
                for s in steps
            ],
        }
        assert client.put(f"/v2/workflows/{created['_id']}", json=body).status_code == 200
    advance_pending_jobs(server.settings, "tx-edit")
    server.app.state.job_wakeup.notify()  # type: ignore[attr-defined]
    rows.settled("tx-edit")
    assert [m.content for m in rows.messages(Message.transaction_id == "tx-edit")] == ["before"]


def test_delay_forms(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "delays",
            [
                step("delay", "Short", type="regular", amount=1, unit="seconds"),
                step("delay", "Until", type="dynamic", dynamicKey="payload.at"),
                step("delay", "Amount", type="dynamic", dynamicKey="later"),
                in_app(body="done"),
            ],
        )
    past = (utc_now() - timedelta(minutes=1)).isoformat()
    trigger(
        server, "delays", "a", "tx-delays", payload={"at": past, "later": {"amount": 0, "unit": "seconds"}}
    )
    rows = Rows(server.settings)
    rows.settled("tx-delays")
    assert [m.content for m in rows.messages(Message.transaction_id == "tx-delays")] == ["done"]
    delays = [d.detail for d in rows.details() if d.detail.startswith("Delayed until")]
    assert len(delays) == 3


def test_cancel_stops_a_delayed_step(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client, "later", [step("delay", "Wait", type="regular", amount=1, unit="hours"), in_app()]
        )
    trigger(server, "later", "a", "tx-cancel")
    rows = Rows(server.settings)
    wait_for(
        lambda: [j for j in rows.jobs(Job.transaction_id == "tx-cancel") if j.status == "pending"],
        "the delayed step job",
    )
    novu = Novu(secret_key=server.keys["Development"], server_url=server.url)
    assert novu.cancel(transaction_id="tx-cancel").result is True
    assert novu.cancel(transaction_id="tx-cancel").result is False
    [notification] = rows.notifications(Notification.transaction_id == "tx-cancel")
    assert notification.status == "canceled"
    statuses = sorted(j.status for j in rows.jobs(Job.transaction_id == "tx-cancel"))
    assert statuses == ["canceled", "completed"]
    advance_pending_jobs(server.settings, "tx-cancel")
    assert rows.messages(Message.transaction_id == "tx-cancel") == []


@pytest.fixture
def fanout_settings(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Settings]:
    fresh = database_factory.settings_for(tmp_path / "data", fanout_chunk_size=7, rate_limit_enabled=False)
    yield fresh
    database_factory.drop(fresh)


def test_topic_fan_out_in_chunks_excludes_and_skips_the_actor(fanout_settings: Settings) -> None:
    server = start_server(fanout_settings)
    try:
        with server.client() as client:
            create_workflow(client, "topic-news", [in_app(body="Hi {{ subscriber.subscriberId }}")])
            ids = [f"m{i:03d}" for i in range(250)]
            response = client.post(
                "/v1/subscribers/bulk", json={"subscribers": [{"subscriberId": i} for i in ids]}
            )
            assert response.status_code == 201
            for start in range(0, len(ids), 100):
                response = client.post(
                    "/v2/topics/everyone/subscriptions", json={"subscriptions": ids[start : start + 100]}
                )
                assert response.status_code == 201, response.text
        novu = Novu(secret_key=server.keys["Development"], server_url=server.url)
        result = novu.trigger(
            trigger_event_request_dto=models.TriggerEventRequestDto(
                workflow_id="topic-news",
                to=[
                    models.TopicPayloadDto(
                        topic_key="everyone",
                        type=models.TriggerRecipientsTypeEnum.TOPIC,
                        exclude=["m001", "m002"],
                    ),
                    "m003",
                    "outsider",
                ],
                actor="m000",
                transaction_id="tx-topic",
            )
        )
        assert result.result.status == models.TriggerEventResponseDtoStatus.PROCESSED
        rows = Rows(fanout_settings)
        expected = 250 - 3 + 1  # minus actor and two excluded; plus the outsider; m003 once
        rows.settled("tx-topic", count=expected)
        wait_for(lambda: len(rows.messages(Message.transaction_id == "tx-topic")) == expected, "all messages")
        contents = [m.content for m in rows.messages(Message.transaction_id == "tx-topic")]
        assert len(contents) == len(set(contents)) == expected
        assert {"Hi m000", "Hi m001", "Hi m002"}.isdisjoint(contents)
        assert "Hi outsider" in contents and "Hi m003" in contents
        fanouts = [j for j in rows.jobs(Job.transaction_id == "tx-topic") if j.kind == "engine.fanout"]
        assert {j.status for j in fanouts} == {"completed"}
        chunks = [j for j in fanouts if "until" in j.args]
        assert len(chunks) == -(-250 // 7)
        # Split 16 chunks at a time (112 members, then 112, then 26): each split's chunk jobs are
        # enqueued together, so that workers can run them at once; the first chunk of a full split
        # splits the rest once it is done, so a topic never floods the queue.
        splits = [j for j in fanouts if "until" not in j.args]
        assert len(splits) == 3
        made_together = Counter(j.created_at for j in chunks)
        assert sorted(made_together.values()) == [4, 16, 16]
        handing_on = [j.args["then"] for j in chunks if "then" in j.args]
        assert len(handing_on) == 2
        assert sorted(handing_on) == sorted(j.args["after"] for j in splits if j.args["after"])
    finally:
        server.stop()


def test_a_delayed_step_survives_a_restart(settings: Settings) -> None:
    server = start_server(settings)
    with server.client() as client:
        create_workflow(
            client,
            "restart",
            [step("delay", "Wait", type="regular", amount=1, unit="hours"), in_app(body="after restart")],
        )
    trigger(server, "restart", "a", "tx-restart")
    rows = Rows(settings)
    wait_for(
        lambda: [j for j in rows.jobs(Job.transaction_id == "tx-restart") if j.status == "pending"],
        "the delayed step job",
    )
    server.stop()
    assert rows.messages(Message.transaction_id == "tx-restart") == []
    advance_pending_jobs(settings, "tx-restart")
    for _ in running(settings):
        rows.settled("tx-restart")
        assert [m.content for m in rows.messages(Message.transaction_id == "tx-restart")] == ["after restart"]
