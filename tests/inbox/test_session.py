"""POST /v1/inbox/session: HMAC on and off, tokens, revocation by key regeneration, isolation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt

from herald.inbox import tokens
from tests.inbox.fixtures import (
    application_identifier,
    deliver,
    inbox,
    session_token,
    start_session,
    subscriber_hash,
)
from tests.support import RunningServer


def test_session_shape_and_token(server: RunningServer) -> None:
    response = start_session(server, "alice", subscriber={"subscriberId": "alice", "firstName": "Alice"})
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["totalUnreadCount"] == 0
    assert data["unreadCount"] == {"total": 0, "severity": {"high": 0, "medium": 0, "low": 0, "none": 0}}
    assert data["isDevelopmentMode"] is True
    assert data["removeNovuBranding"] is False
    assert data["maxSnoozeDurationHours"] > 0
    claims = jwt.decode(data["token"], options={"verify_signature": False})
    assert claims["aud"] == "widget_user"
    assert claims["subscriberId"] == "alice"
    assert claims["environmentId"] == server.environment_ids["Development"]
    assert claims["exp"] - claims["iat"] == 15 * 24 * 3600
    assert jwt.get_unverified_header(data["token"])["alg"] == "HS256"

    # The subscriber was upserted with the fields given.
    subscriber = server.client().get("/v2/subscribers/alice").json()["data"]
    assert subscriber["firstName"] == "Alice"
    # A plain string names the subscriber too; fields already stored are kept.
    again = httpx.post(
        f"{server.url}/v1/inbox/session",
        json={"applicationIdentifier": application_identifier(server), "subscriber": "alice"},
    )
    assert again.status_code == 201
    assert server.client().get("/v2/subscribers/alice").json()["data"]["firstName"] == "Alice"

    deliver(server, "alice", severity="high")
    counted = start_session(server, "alice").json()["data"]
    assert counted["totalUnreadCount"] == 1
    assert counted["unreadCount"]["severity"]["high"] == 1


def test_hmac_off_in_development_on_in_production(server: RunningServer) -> None:
    # Development: no hash needed.
    no_hash = httpx.post(
        f"{server.url}/v1/inbox/session",
        json={"applicationIdentifier": application_identifier(server), "subscriber": {"subscriberId": "bob"}},
    )
    assert no_hash.status_code == 201

    # Production: the hash is required and must be right.
    for bad in (
        None,
        "",
        "0" * 64,
        subscriber_hash(server.keys["Development"], "bob"),
        subscriber_hash(server.keys["Production"], "bob").upper(),
    ):
        response = start_session(server, "bob", "Production", subscriberHash=bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["message"] == "Please provide a valid HMAC hash"
        assert server.keys["Production"] not in response.text
    good = start_session(server, "bob", "Production")
    assert good.status_code == 201
    assert good.json()["data"]["isDevelopmentMode"] is False


def test_bad_requests(server: RunningServer) -> None:
    unknown = httpx.post(
        f"{server.url}/v1/inbox/session",
        json={"applicationIdentifier": "nope", "subscriber": {"subscriberId": "x"}},
    )
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "Please provide a valid application identifier"
    # @novu/js sends subscriberId "" when the page gave none.
    empty = start_session(server, "", subscriber={"subscriberId": ""})
    assert empty.status_code == 422
    missing = httpx.post(
        f"{server.url}/v1/inbox/session", json={"applicationIdentifier": application_identifier(server)}
    )
    assert missing.status_code == 400


def test_regeneration_ends_hashes_and_tokens(server: RunningServer) -> None:
    old_hash = subscriber_hash(server.keys["Production"], "carol")
    token = session_token(server, "carol", "Production")
    with inbox(server, token) as client:
        assert client.get("/notifications").status_code == 200

    regenerated = httpx.post(
        f"{server.url}/v1/environments/api-keys/regenerate", headers=server.headers("Production")
    )
    assert regenerated.status_code == 201
    server.refresh_credentials()

    with inbox(server, token) as client:
        refused = client.get("/notifications")
    assert refused.status_code == 401
    assert start_session(server, "carol", "Production", subscriberHash=old_hash).status_code == 400
    fresh = session_token(server, "carol", "Production")
    with inbox(server, fresh) as client:
        assert client.get("/notifications").status_code == 200


def test_tokens_are_refused_where_they_do_not_belong(server: RunningServer) -> None:
    token = session_token(server, "dave")
    # Inbox routes refuse secret keys and junk.
    for header in (f"ApiKey {server.keys['Development']}", "Bearer not-a-jwt", "", f"Bearer {token}x"):
        response = httpx.get(f"{server.url}/v1/inbox/notifications", headers={"Authorization": header})
        assert response.status_code == 401, header
    # Secret-key routes refuse Inbox tokens.
    for path in (
        "/v2/subscribers/dave",
        "/v2/subscribers/dave/notifications",
        "/v1/subscribers/dave/notifications/feed",
    ):
        response = httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, path

    claims = tokens.unverified_claims(token)
    secret = server.keys["Development"]
    # Expired, wrong audience, or signed with another environment's key: refused.
    expired = tokens.issue(claims, secret, timedelta(seconds=1), now=tokens.utc_now() - timedelta(hours=1))
    wrong_aud = jwt.encode(
        {**jwt.decode(token, options={"verify_signature": False}), "aud": "other"},
        tokens.signing_key(secret),
        algorithm="HS256",
    )
    other_key = tokens.issue(claims, server.keys["Production"], timedelta(hours=1))
    unsigned = jwt.encode(jwt.decode(token, options={"verify_signature": False}), None, algorithm="none")
    for bad in (expired, wrong_aud, other_key, unsigned):
        response = httpx.get(
            f"{server.url}/v1/inbox/notifications", headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status_code == 401


def test_a_token_never_reaches_another_subscriber_or_environment(server: RunningServer) -> None:
    erin = session_token(server, "erin")
    frank = session_token(server, "frank")
    erin_prod = session_token(server, "erin", "Production")
    erins_message = deliver(server, "erin", content="for erin")
    deliver(server, "erin", "Production", content="erin in production")
    with inbox(server, frank) as client:
        assert client.get("/notifications").json()["data"] == []
        assert client.patch(f"/notifications/{erins_message}/read").status_code == 404
        assert client.delete(f"/notifications/{erins_message}/delete").status_code == 404
        client.post("/notifications/read", json={})
        client.post("/notifications/delete", json={})
    with inbox(server, erin_prod) as client:
        bodies = [item["body"] for item in client.get("/notifications").json()["data"]]
        assert bodies == ["erin in production"]
        assert client.patch(f"/notifications/{erins_message}/archive").status_code == 404
    with inbox(server, erin) as client:
        items = client.get("/notifications").json()["data"]
        assert [(item["body"], item["isRead"]) for item in items] == [("for erin", False)]


def test_every_inbox_route_but_the_session_needs_a_session_token(server: RunningServer) -> None:
    """Walks the app's own OpenAPI description, so a route added later cannot skip the guard."""
    paths = httpx.get(f"{server.url}/openapi.json", timeout=60).json()["paths"]  # built on first use
    inbox_paths = {path: operations for path, operations in paths.items() if path.startswith("/v1/inbox/")}
    assert len(inbox_paths) >= 15
    for path, operations in inbox_paths.items():
        concrete = path.replace("{", "x").replace("}", "")
        for method, operation in operations.items():
            if path == "/v1/inbox/session":
                assert "security" not in operation
                continue
            assert operation.get("security") == [{"subscriberSession": []}], (method, path)
            response = httpx.request(
                method, f"{server.url}{concrete}", json={} if method != "get" else None, timeout=30
            )
            assert response.status_code == 401, (method, path, response.text)
