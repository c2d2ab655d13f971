"""`/v1/messages` through novu-py 3.19, plus raw HTTP for shapes, bad input and isolation."""

from __future__ import annotations

import pytest
from novu_py import Novu, models
from novu_py.models import NovuError

from tests.activity.fixtures import deliver
from tests.activity.test_activity import setup
from tests.clients import novu as sdk
from tests.support import RunningServer

STEPS = [
    {"name": "Inbox", "type": "in_app", "controlValues": {"body": "Hello"}},
    {"name": "Email", "type": "email", "controlValues": {"subject": "Hi", "body": "<p>Hello</p>"}},
    {"name": "Text", "type": "sms", "controlValues": {"body": "Hi"}},
]
CTA = {
    "type": "redirect",
    "data": {"url": "/orders/1", "target": "_self"},
    "action": {
        "status": "pending",
        "buttons": [
            {"type": "primary", "content": "Track", "url": "/track"},
            {"type": "tertiary", "content": "Dropped: not a type the clients know"},
            {"type": "secondary"},
        ],
        "result": {"type": "primary", "payload": {"clicked": True}},
    },
}


class RecordingPublisher:
    def __init__(self) -> None:
        self.counts: list[tuple[str, str]] = []

    async def message_delivered(self, environment_id: str, subscriber_id: str, message_id: str) -> None:
        return None

    async def counts_changed(self, environment_id: str, subscriber_id: str) -> None:
        self.counts.append((environment_id, subscriber_id))


@pytest.fixture
def novu(server: RunningServer) -> Novu:
    client = sdk(server)
    setup(client, {"ada": "ada@example.com", "bob": "bob@example.com"}, {"welcome": STEPS})
    return client


def test_list_filter_and_page(server: RunningServer, novu: Novu) -> None:
    first = deliver(server, "ada", "welcome", transaction_id="tx-1", message={"cta": CTA})
    second = deliver(server, "bob", "welcome", transaction_id="tx-2")
    newest_first = [
        second.message_ids["sms"],
        second.message_ids["email"],
        second.message_ids["in_app"],
        first.message_ids["sms"],
        first.message_ids["email"],
        first.message_ids["in_app"],
    ]

    everything = novu.messages.retrieve(request={}).result
    assert isinstance(everything, models.MessagesResponseDto)
    assert [m.id for m in everything.data] == newest_first
    assert (everything.page, everything.page_size, everything.has_more, everything.total_count) == (
        0,
        10,
        False,
        6,
    )

    in_app = novu.messages.retrieve(request={"channel": models.ChannelTypeEnum.IN_APP}).result
    assert [m.id for m in in_app.data] == [second.message_ids["in_app"], first.message_ids["in_app"]]
    adas = novu.messages.retrieve(request={"subscriber_id": "ada"}).result
    assert [m.id for m in adas.data] == newest_first[3:]
    by_transaction = novu.messages.retrieve(request={"transaction_id": ["tx-2", "tx-none"]}).result
    assert [m.id for m in by_transaction.data] == newest_first[:3]
    both = novu.messages.retrieve(request={"transaction_id": ["tx-1", "tx-2"], "limit": 4}).result
    assert (len(both.data), both.has_more, both.total_count) == (4, True, 6)
    last_page = novu.messages.retrieve(request={"page": 1, "limit": 4}).result
    assert ([m.id for m in last_page.data], last_page.has_more) == (newest_first[4:], False)

    message = adas.data[2]
    assert message.channel == models.ChannelTypeEnum.IN_APP
    assert message.status == models.MessageStatusEnum.SENT
    assert message.transaction_id == "tx-1"
    assert message.notification_id == first.notification_id
    assert message.subscriber is not None and message.subscriber.subscriber_id == "ada"
    assert message.subscriber_id == message.subscriber.id
    assert message.template_identifier == "welcome"
    assert (message.read, message.seen, message.content) == (False, False, "Welcome body")
    assert message.cta.type == models.ChannelCTATypeEnum.REDIRECT
    assert message.cta.data is not None and message.cta.data.url == "/orders/1"
    assert (
        message.cta.action is not None and message.cta.action.status == models.MessageActionStatusEnum.PENDING
    )
    assert [(b.type.value, b.content) for b in message.cta.action.buttons or []] == [("primary", "Track")]
    assert message.cta.action.result is not None and message.cta.action.result.payload == {"clicked": True}
    assert adas.data[1].email == "ada@example.com"


def test_unknown_statuses_map_onto_the_known_ones(server: RunningServer, novu: Novu) -> None:
    deliver(server, "ada", "welcome", message={"status": "failed", "error_text": "provider said no"})
    deliver(server, "bob", "welcome", message={"status": "delivered", "cta": {"type": "weird", "action": 3}})
    statuses = [
        (m.subscriber.subscriber_id, m.status) for m in novu.messages.retrieve(request={}).result.data
    ]  # type: ignore[union-attr]
    assert set(statuses) == {("bob", models.MessageStatusEnum.SENT), ("ada", models.MessageStatusEnum.ERROR)}


def test_wire_shape(server: RunningServer, novu: Novu) -> None:
    deliver(server, "ada", "welcome")
    with server.client() as client:
        body = client.get("/v1/messages", params={"channel": "in_app"}).json()
    assert set(body) == {"data", "page", "pageSize", "hasMore", "totalCount"}
    message = body["data"][0]
    required = {"_environmentId", "_organizationId", "_notificationId", "_subscriberId", "createdAt"}
    assert required | {"transactionId", "channel", "read", "seen", "cta", "status"} <= set(message)
    assert message["cta"] == {}


def test_delete_one(server: RunningServer, novu: Novu) -> None:
    publisher = RecordingPublisher()
    server.app.state.realtime = publisher  # type: ignore[attr-defined]
    delivery = deliver(server, "ada", "welcome")

    deleted = novu.messages.delete(message_id=delivery.message_ids["in_app"]).result
    assert (deleted.acknowledged, deleted.status) == (True, models.DeleteMessageResponseDtoStatus.DELETED)
    novu.messages.delete(message_id=delivery.message_ids["email"])
    remaining = novu.messages.retrieve(request={}).result.data
    assert [m.id for m in remaining] == [delivery.message_ids["sms"]]
    subscriber_row_id = remaining[0].subscriber_id
    assert publisher.counts == [(server.environment_ids["Development"], subscriber_row_id)]

    with pytest.raises(NovuError) as raised:
        novu.messages.delete(message_id=delivery.message_ids["in_app"])
    assert raised.value.status_code == 404
    with server.client() as client:
        response = client.delete(f"/v1/messages/{delivery.message_ids['in_app']}")
    assert response.json()["message"] == f"Message with id {delivery.message_ids['in_app']} not found"


def test_delete_by_transaction(server: RunningServer, novu: Novu) -> None:
    publisher = RecordingPublisher()
    server.app.state.realtime = publisher  # type: ignore[attr-defined]
    kept = deliver(server, "bob", "welcome", transaction_id="tx-keep")
    deliver(server, "ada", "welcome", transaction_id="tx-drop")

    novu.messages.delete_by_transaction_id(
        transaction_id="tx-drop",
        channel=models.MessagesControllerDeleteMessagesByTransactionIDQueryParamChannel.EMAIL,
    )
    assert publisher.counts == []
    left = novu.messages.retrieve(request={"transaction_id": ["tx-drop"]}).result.data
    assert [m.channel.value for m in left] == ["sms", "in_app"]

    with server.client() as client:
        response = client.delete("/v1/messages/transaction/tx-drop")
        assert (response.status_code, response.content) == (204, b"")
        again = client.delete("/v1/messages/transaction/tx-drop")
        assert again.status_code == 404
        assert again.json()["message"] == "Invalid transactionId: tx-drop"
        assert client.delete("/v1/messages/transaction/tx-keep?channel=fax").status_code == 422
    assert len(publisher.counts) == 1
    remaining = novu.messages.retrieve(request={}).result
    assert sorted(m.id or "" for m in remaining.data) == sorted(kept.message_ids.values())


def test_environments_are_isolated(server: RunningServer, novu: Novu) -> None:
    production = sdk(server, "Production")
    setup(production, {"ada": "ada@example.com"}, {"welcome": STEPS})
    mine = deliver(server, "ada", "welcome", transaction_id="shared")
    theirs = deliver(server, "ada", "welcome", environment="Production", transaction_id="shared")

    assert sorted(m.id or "" for m in novu.messages.retrieve(request={}).result.data) == sorted(
        mine.message_ids.values()
    )
    with pytest.raises(NovuError) as raised:
        novu.messages.delete(message_id=theirs.message_ids["sms"])
    assert raised.value.status_code == 404
    novu.messages.delete_by_transaction_id(transaction_id="shared")
    assert novu.messages.retrieve(request={}).result.total_count == 0
    assert production.messages.retrieve(request={}).result.total_count == 3
    with pytest.raises(NovuError) as raised:
        production.messages.retrieve(request={"subscriber_id": "bob"})
    assert raised.value.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "page=-1",
        "page=nan",
        "channel=fax",
        "subscriberId=",
        f"transactionId={'x' * 256}",
    ],
)
def test_bad_input_is_422(server: RunningServer, query: str) -> None:
    with server.client() as client:
        response = client.get(f"/v1/messages?{query}")
    assert response.status_code == 422, response.text


def test_unknown_subscriber_is_404(server: RunningServer) -> None:
    with server.client() as client:
        response = client.get("/v1/messages", params={"subscriberId": "nobody"})
    assert response.status_code == 404
    assert response.json()["message"] == "Subscriber: nobody was not found"
