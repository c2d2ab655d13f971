"""The Inbox's notification and preference routes, as @novu/js calls them; CORS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.inbox.fixtures import deliver, inbox, session_token
from tests.support import DatabaseFactory, RunningServer, running

CTA = {
    "type": "redirect",
    "data": {"url": "/orders/1", "target": "_blank"},
    "action": {
        "status": "pending",
        "buttons": [
            {"type": "primary", "content": "Open", "url": "https://example.test/o/1"},
            {"type": "secondary", "content": "Later"},
        ],
    },
}


def test_list_filters_and_pages(server: RunningServer) -> None:
    token = session_token(server, "ann")
    first = deliver(
        server, "ann", content="one", tags=["billing"], severity="high", data={"kind": "invoice", "n": 1}
    )
    second = deliver(server, "ann", content="two", tags=["social"], data={"kind": "like", "flag": True})
    third = deliver(server, "ann", content="three", tags=["billing", "urgent"], subject="Pay", cta=CTA)
    with inbox(server, token) as client:
        page = client.get("/notifications").json()
        assert [item["id"] for item in page["data"]] == [third, second, first]
        assert page["hasMore"] is False and page["filter"] == {}
        top = page["data"][0]
        assert top["subject"] == "Pay" and top["body"] == "three"
        assert top["to"]["subscriberId"] == "ann"
        assert top["primaryAction"] == {
            "label": "Open",
            "isCompleted": False,
            "redirect": {"url": "https://example.test/o/1", "target": None},
        }
        assert top["secondaryAction"]["label"] == "Later"
        assert top["redirect"] == {"url": "/orders/1", "target": "_blank"}
        assert top["workflow"]["identifier"] == "welcome" and top["workflow"]["name"] == "Welcome"
        assert top["channelType"] == "in_app" and top["severity"] == "none"
        assert isinstance(top["deliveredAt"], list)

        def ids(**params: object) -> list[str]:
            response = client.get("/notifications", params=params)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["data"]]

        assert ids(**{"tags[]": "billing"}) == [third, first]
        assert ids(**{"tags[]": ["social", "urgent"]}) == [third, second]
        assert (
            client.get("/notifications", params=[("tags[0][]", "billing"), ("tags[1][]", "urgent")]).json()[
                "data"
            ][0]["id"]
            == third
        )
        assert ids(**{"tags[0][]": "billing", "tags[1][]": "social"}) == []
        assert ids(**{"severity[]": "high"}) == [first]
        assert ids(severity="none") == [third, second]
        assert ids(data=json.dumps({"kind": "invoice"})) == [first]
        assert ids(data=json.dumps({"n": 1})) == [first]
        assert ids(data=json.dumps({"flag": True})) == [second]
        assert ids(data=json.dumps({"kind": 1})) == []  # types must match: a number is not a string
        assert ids(data=json.dumps({"n": "1"})) == []
        assert ids(data=json.dumps({"kind": ["like", "invoice"]})) == [second, first]
        assert ids(limit=2) == [third, second]
        assert client.get("/notifications", params={"limit": 2}).json()["hasMore"] is True
        assert ids(limit=2, after=second) == [first]
        assert ids(limit=1, offset=1) == [second]
        assert ids(read="false") == [third, second, first]
        assert ids(read="true") == []
        echoed = client.get(
            "/notifications", params={"read": "false", "tags[]": "billing", "severity[]": "high"}
        ).json()
        assert echoed["filter"] == {"read": False, "tags": ["billing"], "severity": ["high"]}
        future = int((datetime.now(UTC) + timedelta(hours=1)).timestamp() * 1000)
        assert ids(createdGte=future) == []
        assert ids(createdLte=future) == [third, second, first]

        assert client.get("/notifications", params={"read": "false", "archived": "true"}).status_code == 400
        assert client.get("/notifications", params={"data": "{not json"}).status_code == 400
        assert client.get("/notifications", params={"severity[]": "urgent"}).status_code == 400
        assert client.get("/notifications", params={"read": "maybe"}).status_code == 400
        assert client.get("/notifications", params={"limit": 0}).status_code == 422


def test_state_changes_and_counts(server: RunningServer) -> None:
    token = session_token(server, "ben")
    first = deliver(server, "ben", content="one", severity="high", tags=["a"])
    second = deliver(server, "ben", content="two", cta=CTA, tags=["b"])
    third = deliver(server, "ben", content="three", tags=["a"])
    with inbox(server, token) as client:
        filters = [
            {"read": False, "archived": False, "snoozed": False},
            {"read": False, "severity": "high"},
            {"tags": ["a"], "seen": False},
            {"archived": True},
            {"snoozed": True},
        ]

        def counts() -> list[int]:
            response = client.get("/notifications/count", params={"filters": json.dumps(filters)})
            assert response.status_code == 200, response.text
            body = response.json()["data"]
            assert [item["filter"] for item in body] == filters
            return [item["count"] for item in body]

        assert counts() == [3, 1, 2, 0, 0]
        read = client.patch(f"/notifications/{first}/read").json()["data"]
        assert read["isRead"] and read["isSeen"] and read["readAt"] and read["firstSeenAt"]
        assert counts() == [2, 0, 1, 0, 0]
        unread = client.patch(f"/notifications/{first}/unread").json()["data"]
        assert unread["isRead"] is False and unread["readAt"] is None and unread["isSeen"] is True
        archived = client.patch(f"/notifications/{third}/archive").json()["data"]
        assert archived["isArchived"] and archived["isRead"] and archived["archivedAt"]
        assert counts() == [2, 1, 0, 1, 0]
        restored = client.patch(f"/notifications/{third}/unarchive").json()["data"]
        assert restored["isArchived"] is False and restored["archivedAt"] is None

        until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        snoozed = client.patch(f"/notifications/{second}/snooze", json={"snoozeUntil": until}).json()["data"]
        assert snoozed["isSnoozed"] is True and snoozed["snoozedUntil"]
        assert counts()[4] == 1
        assert [
            item["id"] for item in client.get("/notifications", params={"snoozed": "true"}).json()["data"]
        ] == [second]
        assert second not in [
            item["id"] for item in client.get("/notifications", params={"snoozed": "false"}).json()["data"]
        ]
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        assert client.patch(f"/notifications/{second}/snooze", json={"snoozeUntil": past}).status_code == 400
        far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
        assert client.patch(f"/notifications/{second}/snooze", json={"snoozeUntil": far}).status_code == 400
        back = client.patch(f"/notifications/{second}/unsnooze").json()["data"]
        assert back["isSnoozed"] is False
        assert client.patch(f"/notifications/{second}/unsnooze").status_code == 400

        done = client.patch(f"/notifications/{second}/complete", json={"actionType": "primary"}).json()[
            "data"
        ]
        assert (
            done["primaryAction"]["isCompleted"] is True and done["secondaryAction"]["isCompleted"] is False
        )
        reverted = client.patch(f"/notifications/{second}/revert", json={"actionType": "primary"}).json()[
            "data"
        ]
        assert reverted["primaryAction"]["isCompleted"] is False
        assert (
            client.patch(f"/notifications/{first}/complete", json={"actionType": "primary"}).status_code
            == 400
        )
        assert (
            client.patch(f"/notifications/{first}/complete", json={"actionType": "other"}).status_code == 422
        )
        assert client.patch("/notifications/0123456789abcdef01234567/read").status_code == 404

        seen = client.post("/notifications/seen", json={"notificationIds": [second, third]})
        assert seen.status_code == 204
        assert client.get("/notifications", params={"seen": "false"}).json()["data"] == []
        assert client.post("/notifications/read", json={"tags": ["a"]}).status_code == 204
        assert [
            item["id"] for item in client.get("/notifications", params={"read": "false"}).json()["data"]
        ] == [second]
        assert client.post("/notifications/read-archive", json={}).status_code == 204
        assert [
            item["id"] for item in client.get("/notifications", params={"archived": "false"}).json()["data"]
        ] == [second]
        assert client.post("/notifications/archive", json={}).status_code == 204
        assert counts()[3] == 3
        assert client.delete(f"/notifications/{first}/delete").status_code == 204
        assert client.delete(f"/notifications/{first}/delete").status_code == 404
        assert (
            client.post("/notifications/delete", json={"data": json.dumps({"none": "x"})}).status_code == 204
        )
        assert len(client.get("/notifications").json()["data"]) == 2
        assert client.post("/notifications/delete", json={}).status_code == 204
        assert client.get("/notifications").json()["data"] == []
        assert client.get("/notifications/count", params={"filters": "{}"}).status_code == 400


def test_preferences(server: RunningServer) -> None:
    admin = server.client()
    for identifier, critical in (("digest", False), ("security", True)):
        created = admin.post(
            "/v2/workflows",
            json={
                "name": identifier.title(),
                "workflowId": identifier,
                "active": True,
                "steps": [{"name": "In app", "type": "in_app", "controlValues": {"body": "x"}}],
                "preferences": {
                    "workflow": {
                        "all": {"enabled": True, "readOnly": critical},
                        "channels": {"email": {"enabled": False}},
                    }
                },
            },
        )
        assert created.status_code == 201, created.text
    token = session_token(server, "cat")
    with inbox(server, token) as client:
        listed = client.get("/preferences").json()["data"]
        assert [(item["level"], (item.get("workflow") or {}).get("identifier")) for item in listed] == [
            ("global", None),
            ("template", "digest"),
        ]
        assert listed[1]["channels"]["email"] is False and listed[1]["channels"]["in_app"] is True
        assert listed[1]["workflow"]["critical"] is False
        every = client.get("/preferences", params={"criticality": "all"}).json()["data"]
        assert {item["workflow"]["identifier"] for item in every[1:]} == {"digest", "security"}
        critical = client.get("/preferences", params={"criticality": "critical"}).json()["data"]
        assert [item["workflow"]["critical"] for item in critical[1:]] == [True]

        updated = client.patch("/preferences", json={"sms": False}).json()["data"]
        assert updated["level"] == "global" and updated["channels"]["sms"] is False
        assert client.get("/preferences/global").json()["data"]["channels"]["sms"] is False
        workflow = client.patch("/preferences/digest", json={"in_app": False}).json()["data"]
        assert workflow["channels"]["in_app"] is False and workflow["channels"]["sms"] is False
        assert client.patch("/preferences/security", json={"in_app": False}).status_code == 400
        assert client.patch("/preferences/unknown", json={"in_app": False}).status_code == 404
        bulk = client.patch(
            "/preferences/bulk",
            json={"preferences": [{"workflowId": "digest", "in_app": True, "email": True}]},
        )
        assert bulk.status_code == 200 and bulk.json()["data"][0]["channels"]["email"] is True
        assert (
            client.patch(
                "/preferences/bulk", json={"preferences": [{"workflowId": "security", "email": False}]}
            ).status_code
            == 400
        )
    # The same switches are what the server-side preferences API shows.
    server_side = admin.get("/v2/subscribers/cat/preferences").json()["data"]
    assert server_side["global"]["channels"]["sms"] is False


def test_cors_on_inbox_routes_only(server: RunningServer) -> None:
    origin = "http://app.example.test"
    preflight = httpx.options(
        f"{server.url}/v1/inbox/session",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,novu-api-version,novu-client-version",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    authorized = httpx.options(
        f"{server.url}/v1/inbox/notifications/abc/read",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert authorized.status_code == 200
    assert "authorization" in authorized.headers["access-control-allow-headers"].lower()
    token = session_token(server, "dan")
    listed = httpx.get(
        f"{server.url}/v1/inbox/notifications", headers={"Origin": origin, "Authorization": f"Bearer {token}"}
    )
    assert listed.headers["access-control-allow-origin"] == "*"
    refused = httpx.get(f"{server.url}/v1/inbox/notifications", headers={"Origin": origin})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "*"
    api = httpx.get(f"{server.url}/v2/subscribers", headers={**server.headers(), "Origin": origin})
    assert "access-control-allow-origin" not in api.headers


def test_cors_origins_are_configurable(database_factory: DatabaseFactory, tmp_path: Path) -> None:
    settings = database_factory.settings_for(
        tmp_path / "data", inbox_cors_origins=["http://shop.example.test"]
    )
    try:
        for server in running(settings):
            ask = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
            allowed = httpx.options(
                f"{server.url}/v1/inbox/session", headers={"Origin": "http://shop.example.test", **ask}
            )
            assert allowed.status_code == 200
            assert allowed.headers["access-control-allow-origin"] == "http://shop.example.test"
            refused = httpx.options(
                f"{server.url}/v1/inbox/session", headers={"Origin": "http://evil.test", **ask}
            )
            assert "access-control-allow-origin" not in refused.headers
    finally:
        database_factory.drop(settings)
