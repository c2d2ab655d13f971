"""Triggers through novu-py against a real server: delivery, responses, recipients."""

from __future__ import annotations

import httpx
from novu_py import Novu, models

from herald.models import Message, Notification
from tests.engine.helpers import Rows, create_workflow, in_app
from tests.support import RunningServer, start_server


def sdk(server: RunningServer) -> Novu:
    return Novu(secret_key=server.keys["Development"], server_url=server.url)


def test_trigger_stores_a_rendered_in_app_message(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "order-shipped",
            [
                in_app(
                    subject="Order {{ payload.order.id }}",
                    body="Hi {{ subscriber.firstName }}, {{ actor.firstName }} shipped it",
                    avatar="https://example.com/{{ payload.order.id }}.png",
                    primaryAction={"label": "Track", "redirect": {"url": "/orders/{{ payload.order.id }}"}},
                    secondaryAction={"label": "Later"},
                    redirect={"url": "/orders", "target": "_blank"},
                    data={"orderId": "{{ payload.order.id }}"},
                )
            ],
            tags=["orders"],
            severity="high",
        )
    novu = sdk(server)
    result = novu.trigger(
        trigger_event_request_dto=models.TriggerEventRequestDto(
            workflow_id="order-shipped",
            to=models.SubscriberPayloadDto(subscriber_id="ada", first_name="Ada"),
            payload={"order": {"id": "A-1"}},
            actor=models.SubscriberPayloadDto(subscriber_id="bob", first_name="Bob"),
            transaction_id="tx-rendered",
        )
    )
    assert result.result.acknowledged is True
    assert result.result.status == models.TriggerEventResponseDtoStatus.PROCESSED
    assert result.result.transaction_id == "tx-rendered"

    rows = Rows(server.settings)
    [notification] = rows.settled("tx-rendered")
    assert notification.status == "completed"
    [message] = rows.messages(Message.transaction_id == "tx-rendered")
    assert message.channel == "in_app"
    assert message.subject == "Order A-1"
    assert message.content == "Hi Ada, Bob shipped it"
    assert message.avatar == "https://example.com/A-1.png"
    assert message.data == {"orderId": "A-1"}
    assert message.tags == ["orders"] and message.severity == "high"
    assert message.cta["data"] == {"url": "/orders", "target": "_blank"}
    assert message.cta["action"]["buttons"] == [
        {"type": "primary", "content": "Track", "url": "/orders/A-1"},
        {"type": "secondary", "content": "Later"},
    ]
    assert message.status == "sent" and not message.read and not message.seen
    assert message.subscriber_id == notification.subscriber_id


def test_recipients_list_strings_and_objects_creates_missing_subscribers(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "hello", [in_app(body="Hello {{ subscriber.subscriberId }}")])
        response = client.post(
            "/v1/events/trigger",
            json={"name": "hello", "to": ["u1", {"subscriberId": "u2", "email": "u2@example.com"}, "u1"]},
        )
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert data["acknowledged"] is True and data["status"] == "processed"
        assert data["transactionId"]
        assert client.get("/v2/subscribers/u2").json()["data"]["email"] == "u2@example.com"
    rows = Rows(server.settings)
    rows.settled(data["transactionId"], count=2)
    contents = sorted(m.content for m in rows.messages(Message.transaction_id == data["transactionId"]))
    assert contents == ["Hello u1", "Hello u2"]


def test_trigger_answers_for_unknown_inactive_and_empty_workflows(server: RunningServer) -> None:
    with server.client() as client:
        unknown = client.post("/v1/events/trigger", json={"name": "nope", "to": "a"})
        assert unknown.status_code == 422
        assert unknown.json()["errors"]["name"]["value"] == "nope"
        create_workflow(client, "paused", [in_app()], active=False)
        paused = client.post("/v1/events/trigger", json={"name": "paused", "to": "a"})
        assert paused.status_code == 201
        assert paused.json()["data"]["status"] == "trigger_not_active"
        create_workflow(client, "empty", [])
        empty = client.post("/v1/events/trigger", json={"name": "empty", "to": "a"})
        assert empty.json()["data"]["status"] == "no_workflow_steps_defined"
        bad = client.post("/v1/events/trigger", json={"name": "empty", "to": []})
        assert bad.status_code == 422
    assert Rows(server.settings).notifications() == []


def test_payload_schema_violation_is_400(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(
            client,
            "strict",
            [in_app()],
            validatePayload=True,
            payloadSchema={"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]},
        )
        response = client.post("/v1/events/trigger", json={"name": "strict", "to": "a", "payload": {}})
        assert response.status_code == 400
        assert response.json()["type"] == "PAYLOAD_VALIDATION_ERROR"
        ok = client.post("/v1/events/trigger", json={"name": "strict", "to": "a", "payload": {"n": 1}})
        assert ok.status_code == 201


def test_a_reused_transaction_id_is_not_processed_again(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "once", [in_app()])
    novu = sdk(server)
    body = models.TriggerEventRequestDto(workflow_id="once", to="a", transaction_id="tx-once")
    first = novu.trigger(trigger_event_request_dto=body)
    second = novu.trigger(trigger_event_request_dto=body)
    assert first.result.status == models.TriggerEventResponseDtoStatus.PROCESSED
    assert second.result.status == models.TriggerEventResponseDtoStatus.ERROR
    assert second.result.acknowledged is True
    assert second.result.error and "tx-once" in second.result.error[0]
    rows = Rows(server.settings)
    rows.settled("tx-once")
    assert len(rows.notifications(Notification.transaction_id == "tx-once")) == 1
    assert len(rows.messages(Message.transaction_id == "tx-once")) == 1


def test_bulk_answers_each_event_on_its_own(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "bulk", [in_app(body="{{ payload.n }}")])
    novu = sdk(server)
    result = novu.trigger_bulk(
        bulk_trigger_event_dto=models.BulkTriggerEventDto(
            events=[
                models.TriggerEventRequestDto(
                    workflow_id="bulk", to="a", payload={"n": 1}, transaction_id="b1"
                ),
                models.TriggerEventRequestDto(workflow_id="missing", to="a", transaction_id="b2"),
                models.TriggerEventRequestDto(
                    workflow_id="bulk", to="b", payload={"n": 3}, transaction_id="b3"
                ),
                models.TriggerEventRequestDto(workflow_id="bulk", to="c", transaction_id="b1"),
            ]
        )
    )
    statuses = [item.status.value for item in result.result]
    assert statuses == ["processed", "error", "processed", "error"]
    assert [item.transaction_id for item in result.result] == ["b1", "b2", "b3", "b1"]
    assert result.result[1].error and "missing" in result.result[1].error[0]
    rows = Rows(server.settings)
    rows.settled("b1")
    rows.settled("b3")
    assert sorted(m.content for m in rows.messages()) == ["1", "3"]


def test_bulk_rejects_more_than_100_events(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("/v1/events/trigger/bulk", json={"events": [{"name": "x", "to": "a"}] * 101})
        assert response.status_code == 422


def test_broadcast_reaches_every_subscriber_but_the_actor(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "news", [in_app(body="News")])
        for name in ("s1", "s2", "s3", "actor"):
            assert client.post("/v2/subscribers", json={"subscriberId": name}).status_code == 201
    result = sdk(server).trigger_broadcast(
        trigger_event_to_all_request_dto=models.TriggerEventToAllRequestDto(
            name="news", payload={}, actor="actor", transaction_id="tx-broadcast"
        )
    )
    assert result.result.status == models.TriggerEventResponseDtoStatus.PROCESSED
    rows = Rows(server.settings)
    rows.settled("tx-broadcast", count=3)
    assert len(rows.messages(Message.transaction_id == "tx-broadcast")) == 3


def test_trigger_requires_a_secret_key(server: RunningServer) -> None:
    response = httpx.post(f"{server.url}/v1/events/trigger", json={"name": "x", "to": "a"})
    assert response.status_code == 401


def test_a_subscriber_recipient_brings_its_channel_credentials(server: RunningServer) -> None:
    with server.client() as client:
        create_workflow(client, "chatty", [in_app()])
    sdk(server).trigger(
        trigger_event_request_dto=models.TriggerEventRequestDto(
            workflow_id="chatty",
            to=models.SubscriberPayloadDto(
                subscriber_id="with-slack",
                first_name="Ada",
                channels=[
                    models.SubscriberChannelDto(
                        provider_id=models.SubscriberChannelDtoProviderID.SLACK,
                        credentials=models.ChannelCredentialsDto(webhook_url="https://hooks.example/ada"),
                    )
                ],
            ),
            transaction_id="tx-channels",
        )
    )
    Rows(server.settings).settled("tx-channels")
    with server.client() as client:
        subscriber = client.get("/v2/subscribers/with-slack").json()["data"]
    assert subscriber["firstName"] == "Ada"
    [channel] = subscriber["channels"]
    assert channel["providerId"] == "slack"
    assert channel["credentials"]["webhookUrl"] == "https://hooks.example/ada"


def test_a_payload_integer_beyond_64_bits_is_kept_exactly(server: RunningServer) -> None:
    big = 123456789012345678901234567890
    with server.client() as client:
        create_workflow(client, "big-number", [in_app(body="{{ payload.big }}")])
        body = {"name": "big-number", "to": "a", "transactionId": "tx-big", "payload": {"big": big}}
        assert client.post("/v1/events/trigger", json=body).status_code == 201
    rows = Rows(server.settings)
    rows.settled("tx-big")
    [message] = rows.messages(Message.transaction_id == "tx-big")
    assert message.content == str(big)


def test_a_workflow_changed_through_another_server_counts_at_once(server: RunningServer) -> None:
    """Two servers on one database: the one that triggers may keep the workflow in its cache;
    a change or a deletion committed by the other still decides its next trigger."""
    other = start_server(server.settings)
    trigger = {"name": "strict", "to": "a", "payload": {}}
    try:
        with server.client() as client, other.client() as other_client:
            created = create_workflow(client, "strict", [in_app()])
            assert other_client.post("/v1/events/trigger", json=trigger).status_code == 201
            changed = {
                "name": created["name"],
                "workflowId": "strict",
                "steps": [in_app()],
                "validatePayload": True,
                "payloadSchema": {
                    "type": "object",
                    "properties": {"n": {"type": "number"}},
                    "required": ["n"],
                },
            }
            assert client.put("/v2/workflows/strict", json=changed).status_code == 200
            refused = other_client.post("/v1/events/trigger", json=trigger)
            assert refused.status_code == 400 and refused.json()["type"] == "PAYLOAD_VALIDATION_ERROR"
            assert (
                other_client.post("/v1/events/trigger", json={**trigger, "payload": {"n": 1}}).status_code
                == 201
            )
            assert client.delete("/v2/workflows/strict").status_code == 204
            assert (
                other_client.post("/v1/events/trigger", json={**trigger, "payload": {"n": 1}}).status_code
                == 422
            )
    finally:
        other.stop()
