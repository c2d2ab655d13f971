"""Subscribers through novu-py 3.19 against a running server, plus raw HTTP for shapes and errors."""

from __future__ import annotations

import pytest
from novu_py import models

from tests.clients import novu
from tests.support import RunningServer


def test_create_retrieve_patch_delete(server: RunningServer) -> None:
    client = novu(server)
    created = client.subscribers.create(
        create_subscriber_request_dto={
            "subscriber_id": "user-1",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+14155552671",
            "locale": "en-GB",
            "timezone": "Europe/London",
            "avatar": "https://example.com/ada.png",
            "data": {"plan": "pro", "seats": 3},
        }
    ).result
    assert created.subscriber_id == "user-1"
    assert created.environment_id == server.environment_ids["Development"]
    assert created.deleted is False and created.data == {"plan": "pro", "seats": 3}

    fetched = client.subscribers.retrieve(subscriber_id="user-1").result
    assert (fetched.id, fetched.email, fetched.timezone) == (created.id, "ada@example.com", "Europe/London")

    patched = client.subscribers.patch(
        subscriber_id="user-1", patch_subscriber_request_dto={"first_name": "Augusta", "phone": None}
    ).result
    assert (patched.first_name, patched.last_name, patched.phone) == ("Augusta", "Lovelace", None)

    removed = client.subscribers.delete(subscriber_id="user-1").result
    assert (removed.acknowledged, removed.status) == (True, "deleted")
    with pytest.raises(models.ErrorDto) as missing:
        client.subscribers.retrieve(subscriber_id="user-1")
    assert missing.value.status_code == 404


def test_create_upserts_and_fail_if_exists_answers_409_with_the_subscriber(server: RunningServer) -> None:
    client = novu(server)
    first = client.subscribers.create(
        create_subscriber_request_dto={"subscriber_id": "u", "email": "a@example.com", "first_name": "A"}
    ).result
    again = client.subscribers.create(
        create_subscriber_request_dto={"subscriber_id": "u", "email": "b@example.com"}
    ).result
    assert again.id == first.id
    assert (again.email, again.first_name) == ("b@example.com", "A")

    with pytest.raises(models.SubscriberResponseDtoError) as conflict:
        client.subscribers.create(
            create_subscriber_request_dto={"subscriber_id": "u", "email": "c@example.com"},
            fail_if_exists=True,
        )
    assert conflict.value.data.subscriber_id == "u"
    assert conflict.value.data.email == "b@example.com"
    body = conflict.value.raw_response.json()
    assert body["statusCode"] == 409 and body["path"] == "/v2/subscribers?failIfExists=true"


def _bulk(
    server: RunningServer, subscribers: list[dict[str, object]]
) -> models.BulkCreateSubscriberResponseDto:
    return (
        novu(server).subscribers.create_bulk(bulk_subscriber_create_dto={"subscribers": subscribers}).result
    )


def test_search_filters(server: RunningServer) -> None:
    _bulk(
        server,
        [
            {"subscriber_id": "alice", "first_name": "Alice", "last_name": "Smith", "email": "alice@acme.io"},
            {"subscriber_id": "bob", "first_name": "Bob", "last_name": "Smith", "phone": "+33612345678"},
            {"subscriber_id": "carol", "first_name": "Carol", "email": "carol@other.io"},
        ],
    )
    client = novu(server)

    def ids(**filters: object) -> list[str]:
        return sorted(s.subscriber_id for s in client.subscribers.search(request=filters).result.data)

    assert ids(email="alice@") == ["alice"]
    assert ids(email="ALICE@ACME") == ["alice"]
    assert ids(name="smith") == ["alice", "bob"]
    assert ids(name="Alice Smith") == ["alice"]
    assert ids(phone="+336") == ["bob"]
    assert ids(subscriber_id="car") == ["carol"]
    assert ids(email="100%") == []
    everyone = client.subscribers.search(request={}).result
    assert (everyone.total_count, everyone.total_count_capped) == (3, False)


def test_search_pages_with_cursors_both_ways(server: RunningServer) -> None:
    _bulk(server, [{"subscriber_id": f"s{n:02d}"} for n in range(7)])
    client = novu(server)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        request: dict[str, object] = {"limit": 3, "order_direction": "ASC", "order_by": "subscriberId"}
        if after:
            request["after"] = after
        page = client.subscribers.search(request=request).result
        seen += [s.subscriber_id for s in page.data]
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert seen == [f"s{n:02d}" for n in range(7)]
    assert pages == 3

    last_page = client.subscribers.search(
        request={"limit": 3, "order_direction": "ASC", "order_by": "subscriberId", "after": after}
    ).result
    back = client.subscribers.search(
        request={
            "limit": 3,
            "order_direction": "ASC",
            "order_by": "subscriberId",
            "before": last_page.previous,
        }
    ).result
    assert [s.subscriber_id for s in back.data] == ["s03", "s04", "s05"]
    assert back.next is not None and back.previous is not None

    with server.client() as http:
        raw = http.get("/v2/subscribers", params={"limit": 2})
        assert set(raw.json()) == {"data", "next", "previous", "totalCount", "totalCountCapped"}
        bad_order = http.get("/v2/subscribers", params={"orderBy": "password"})
        assert bad_order.status_code == 422 and "orderBy" in bad_order.json()["errors"]
        assert http.get("/v2/subscribers", params={"limit": 101}).status_code == 422


def test_bulk_create_reports_each_item(server: RunningServer) -> None:
    _bulk(server, [{"subscriber_id": "old", "first_name": "Old"}])
    with server.client() as http:
        response = http.post(
            "/v1/subscribers/bulk",
            json={
                "subscribers": [
                    {"subscriberId": "new-1", "email": "n1@example.com"},
                    {"subscriberId": "old", "lastName": "Timer"},
                    {"subscriberId": "bad-email", "email": "not-an-email"},
                    {"subscriberId": 42},
                    {"firstName": "no id"},
                    {"subscriberId": "new-2", "timezone": "Mars/Olympus"},
                    {"subscriberId": "new-1", "firstName": "Twice"},
                ]
            },
        )
    assert response.status_code == 201
    result = response.json()["data"]
    assert [item["subscriberId"] for item in result["created"]] == ["new-1"]
    assert [item["subscriberId"] for item in result["updated"]] == ["old"]
    failed = {item.get("subscriberId"): item["message"] for item in result["failed"]}
    assert set(failed) == {"bad-email", "new-2", None}
    assert "email" in failed["bad-email"] and "timezone" in failed["new-2"]
    assert len(result["failed"]) == 4

    client = novu(server)
    assert client.subscribers.retrieve(subscriber_id="old").result.last_name == "Timer"
    assert client.subscribers.retrieve(subscriber_id="new-1").result.first_name == "Twice"


def test_bulk_create_of_500_through_the_sdk_and_the_limit(server: RunningServer) -> None:
    result = _bulk(server, [{"subscriber_id": f"bulk-{n}", "email": f"b{n}@example.com"} for n in range(500)])
    assert (len(result.created), len(result.updated), len(result.failed)) == (500, 0, 0)
    with server.client() as http:
        too_many = http.post("/v1/subscribers/bulk", json={"subscribers": [{"subscriberId": "x"}] * 501})
    assert too_many.status_code == 422


def test_credentials_replace_append_and_delete(server: RunningServer) -> None:
    client = novu(server)
    client.subscribers.create(create_subscriber_request_dto={"subscriber_id": "phone-user"})
    replaced = client.subscribers.credentials.update(
        subscriber_id="phone-user",
        update_subscriber_channel_request_dto={
            "provider_id": "fcm",
            "credentials": {"device_tokens": ["a", "b"]},
        },
    ).result
    assert [(c.provider_id, c.credentials.device_tokens) for c in replaced.channels or []] == [
        ("fcm", ["a", "b"])
    ]

    appended = client.subscribers.credentials.append(
        subscriber_id="phone-user",
        update_subscriber_channel_request_dto={
            "provider_id": "fcm",
            "credentials": {"device_tokens": ["b", "c"]},
        },
    ).result
    assert (appended.channels or [])[0].credentials.device_tokens == ["a", "b", "c"]

    client.subscribers.credentials.update(
        subscriber_id="phone-user",
        update_subscriber_channel_request_dto={"provider_id": "fcm", "credentials": {"device_tokens": ["z"]}},
    )
    slack = client.subscribers.credentials.update(
        subscriber_id="phone-user",
        update_subscriber_channel_request_dto={
            "provider_id": "slack",
            "integration_identifier": "slack-main",
            "credentials": {"webhook_url": "https://hooks.example.com/1"},
        },
    ).result
    by_provider = {c.provider_id: c for c in slack.channels or []}
    assert by_provider["fcm"].credentials.device_tokens == ["z"]
    assert by_provider["slack"].integration_identifier == "slack-main"
    assert by_provider["slack"].credentials.webhook_url == "https://hooks.example.com/1"

    client.subscribers.credentials.delete(subscriber_id="phone-user", provider_id="fcm")
    remaining = client.subscribers.retrieve(subscriber_id="phone-user").result.channels or []
    assert [c.provider_id for c in remaining] == ["slack"]

    with server.client() as http:
        unknown_provider = http.put(
            "/v1/subscribers/phone-user/credentials", json={"providerId": "pigeon", "credentials": {}}
        )
        assert unknown_provider.status_code == 422 and "providerId" in unknown_provider.json()["errors"]
        assert http.delete("/v1/subscribers/nobody/credentials/fcm").status_code == 404


def test_online_status(server: RunningServer) -> None:
    client = novu(server)
    client.subscribers.create(create_subscriber_request_dto={"subscriber_id": "o"})
    online = client.subscribers.properties.update_online_flag(
        subscriber_id="o", update_subscriber_online_flag_request_dto={"is_online": True}
    ).result
    assert online.is_online is True and online.last_online_at is not None
    with server.client() as http:
        assert http.patch("/v1/subscribers/o/online-status", json={"isOnline": "maybe"}).status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "nope"),
        ("email", "two@@example.com"),
        ("phone", "0612345678"),
        ("phone", "+1 415 555"),
        ("locale", "english please"),
        ("timezone", "Europe/Atlantis"),
        ("subscriberId", 12),
        ("subscriberId", ""),
        ("data", ["not", "an", "object"]),
        ("firstName", {"nested": True}),
    ],
)
def test_bad_fields_are_422_naming_the_field(server: RunningServer, field: str, value: object) -> None:
    body = {"subscriberId": "v", field: value}
    with server.client() as http:
        for response in (http.post("/v2/subscribers", json=body), http.post("/v1/subscribers", json=body)):
            assert response.status_code == 422
            assert field in response.json()["errors"]


def test_bad_requests_never_5xx(server: RunningServer) -> None:
    with server.client() as http:
        huge = http.post("/v2/subscribers", json={"subscriberId": "big", "data": {"blob": "x" * 10_000_000}})
        assert huge.status_code == 413
        assert (
            http.post(
                "/v2/subscribers", content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        assert http.patch("/v2/subscribers/ghost", json={"firstName": "x"}).status_code == 404
        assert http.delete("/v2/subscribers/ghost").status_code == 404
        assert http.get("/v1/subscribers/ghost").status_code == 404


def test_environments_are_isolated(server: RunningServer) -> None:
    development, production = novu(server), novu(server, "Production")
    development.subscribers.create(create_subscriber_request_dto={"subscriber_id": "dev-only"})
    with pytest.raises(models.ErrorDto) as hidden:
        production.subscribers.retrieve(subscriber_id="dev-only")
    assert hidden.value.status_code == 404
    assert production.subscribers.search(request={}).result.data == []
    with server.client("Production") as http:
        assert http.delete("/v2/subscribers/dev-only").status_code == 404
        assert (
            http.put(
                "/v1/subscribers/dev-only/credentials", json={"providerId": "fcm", "credentials": {}}
            ).status_code
            == 404
        )
    production.subscribers.create(
        create_subscriber_request_dto={"subscriber_id": "dev-only", "first_name": "P"}
    )
    assert development.subscribers.retrieve(subscriber_id="dev-only").result.first_name is None


def test_credentials_name_the_integration_they_belong_to(server: RunningServer) -> None:
    with server.client() as http:
        created = http.post(
            "/v1/integrations",
            json={"providerId": "fcm", "channel": "push", "active": True, "identifier": "fcm-main"},
        )
        assert created.status_code == 201, created.text
        integration_id = created.json()["data"]["_id"]
        assert http.post("/v2/subscribers", json={"subscriberId": "device-user"}).status_code == 201
    client = novu(server)
    updated = client.subscribers.credentials.update(
        subscriber_id="device-user",
        update_subscriber_channel_request_dto={"provider_id": "fcm", "credentials": {"device_tokens": ["t"]}},
    ).result
    assert [(c.provider_id, c.integration_id) for c in updated.channels or []] == [("fcm", integration_id)]
    unmatched = client.subscribers.credentials.update(
        subscriber_id="device-user",
        update_subscriber_channel_request_dto={
            "provider_id": "slack",
            "credentials": {"webhook_url": "https://hooks.example.com/2"},
        },
    ).result
    assert {c.provider_id: c.integration_id for c in unmatched.channels or []}["slack"] == ""
