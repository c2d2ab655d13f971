"""Raw HTTP: response shapes, credentials never shown or stored in clear, bad input, isolation."""

from typing import Any

import pytest

from tests.integrations.helpers import (
    SENDGRID_KEY,
    create_custom_environment,
    email_integration,
    stored_credentials,
    stored_rows,
)
from tests.support import RunningServer

REQUIRED = {
    "_environmentId",
    "_organizationId",
    "name",
    "identifier",
    "providerId",
    "active",
    "deleted",
    "primary",
}


def test_response_shape(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("/v1/integrations", json=email_integration())
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["data"]
    integration = body["data"]
    assert set(integration) >= REQUIRED
    assert len(integration["_id"]) == 24
    assert integration["_organizationId"] == server.credentials.organization_id
    assert integration["kind"] == "delivery"
    assert integration["deleted"] is False
    assert integration["conditions"] == []
    assert integration["createdAt"].endswith("Z")
    assert integration["credentials"] == {
        "apiKey": "********" + SENDGRID_KEY[-4:],
        "from": "no-reply@example.com",
        "senderName": "Example",
    }
    assert "deletedAt" not in integration


def test_a_provider_api_key_never_appears_in_a_response_or_in_clear_in_the_database(
    server: RunningServer,
) -> None:
    secret_values = [SENDGRID_KEY, "smtp-password-do-not-show", "https://hooks.example.com/T000/B000/XXXX"]
    credentials = {
        "apiKey": SENDGRID_KEY,
        "password": secret_values[1],
        "webhookUrl": secret_values[2],
        "from": "no-reply@example.com",
    }
    bodies: list[str] = []
    with server.client() as client:
        created = client.post("/v1/integrations", json=email_integration(credentials=credentials))
        bodies.append(created.text)
        integration_id = created.json()["data"]["_id"]
        other = client.post("/v1/integrations", json=email_integration(identifier="other"))
        bodies.append(other.text)
        bodies.append(client.get("/v1/integrations").text)
        bodies.append(client.get("/v1/integrations/active").text)
        bodies.append(client.put(f"/v1/integrations/{integration_id}", json={"name": "Renamed"}).text)
        bodies.append(client.post(f"/v1/integrations/{integration_id}/set-primary").text)
        bodies.append(client.put(f"/v1/integrations/{integration_id}", json={"identifier": "other"}).text)
        bodies.append(client.delete(f"/v1/integrations/{other.json()['data']['_id']}").text)
    for body in bodies:
        for secret in secret_values:
            assert secret not in body
    [row] = [r for r in stored_rows(server, server.environment_ids["Development"]) if r.id == integration_id]
    assert row.credentials_public == {"from": "no-reply@example.com"}
    assert row.credentials_sealed is not None
    for secret in secret_values:
        assert secret not in row.credentials_sealed
        assert secret not in repr(row)
    assert stored_credentials(server, row.environment_id, integration_id) == credentials


def test_credentials_read_and_written_back_keep_their_secrets(server: RunningServer) -> None:
    with server.client() as client:
        created = client.post("/v1/integrations", json=email_integration()).json()["data"]
        shown = created["credentials"]
        updated = client.put(
            f"/v1/integrations/{created['_id']}",
            json={"credentials": {**shown, "senderName": "New Name"}},
        )
    assert updated.status_code == 200
    assert updated.json()["data"]["credentials"]["senderName"] == "New Name"
    development = server.environment_ids["Development"]
    assert stored_credentials(server, development, created["_id"])["apiKey"] == SENDGRID_KEY


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"providerId": "sendgrid", "channel": "fax"}, "channel"),
        ({"providerId": "sendgrid"}, "channel"),
        ({"channel": "email"}, "providerId"),
        ({"providerId": 42, "channel": "email"}, "providerId"),
        ({"providerId": "sendgrid", "channel": "email", "active": {"yes": 1}}, "active"),
        ({"providerId": "sendgrid", "channel": "email", "credentials": "secret"}, "credentials"),
        (
            {"providerId": "sendgrid", "channel": "email", "credentials": {"apiKey": 123}},
            "credentials.apiKey",
        ),
        (
            {"providerId": "sendgrid", "channel": "email", "conditions": [{"value": "XOR"}]},
            "conditions.0.value",
        ),
        ({"providerId": "sendgrid", "channel": "email", "identifier": "has space"}, "identifier"),
        ({"providerId": "sendgrid", "channel": "email", "kind": "agent"}, "kind"),
        ({"providerId": "sendgrid", "channel": "email", "name": ""}, "name"),
        ({"providerId": "sendgrid", "channel": "email", "active": 1}, "active"),
        ({"providerId": "sendgrid", "channel": "email", "credentials": {"hmac": "true"}}, "credentials.hmac"),
        (
            {
                "providerId": "sendgrid",
                "channel": "email",
                "conditions": [{"isNegated": 0, "type": "GROUP", "value": "AND", "children": []}],
            },
            "conditions.0.isNegated",
        ),
    ],
)
def test_bad_create_input_gives_422_naming_the_field(
    server: RunningServer, body: dict[str, Any], field: str
) -> None:
    with server.client() as client:
        response = client.post("/v1/integrations", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["errors"]


def test_rule_breaking_input_gives_4xx_never_5xx(server: RunningServer) -> None:
    missing = "0123456789abcdef01234567"
    with server.client() as client:
        integration_id = client.post("/v1/integrations", json=email_integration(identifier="taken")).json()[
            "data"
        ]["_id"]
        cases = [
            (client.post("/v1/integrations", json=email_integration(identifier="taken")), 400),
            (
                client.post(
                    "/v1/integrations", content=b"{not json", headers={"content-type": "application/json"}
                ),
                400,
            ),
            (client.post("/v1/integrations", json=email_integration(_environmentId=missing)), 400),
            (client.put(f"/v1/integrations/{integration_id}", json={}), 400),
            (client.put(f"/v1/integrations/{integration_id}", json={"unknown": 1}), 400),
            (client.put(f"/v1/integrations/{integration_id}", json={"active": "maybe"}), 422),
            (client.put(f"/v1/integrations/{missing}", json={"name": "x"}), 404),
            (client.delete(f"/v1/integrations/{missing}"), 404),
            (client.post(f"/v1/integrations/{missing}/set-primary"), 404),
            (client.delete(f"/v1/integrations/{'x' * 65}"), 422),
            (client.get("/v1/integrations", headers={"Authorization": "ApiKey nope"}), 401),
        ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert {"statusCode", "timestamp", "path", "message"} <= set(response.json())
    assert cases[0][0].json()["message"] == "Integration with identifier already exists"
    assert cases[3][0].json()["message"] == "No properties found for update"


def test_unknown_fields_are_ignored(server: RunningServer) -> None:
    body = email_integration(check=True, configurations={"inboundWebhookEnabled": False}, surprise=[1, 2])
    body["credentials"]["notACredential"] = "value"
    with server.client() as client:
        response = client.post("/v1/integrations", json=body)
    assert response.status_code == 201
    assert "notACredential" not in response.json()["data"]["credentials"]


def test_environments_see_only_their_own_integrations(server: RunningServer) -> None:
    with server.client() as client:
        created = client.post("/v1/integrations", json=email_integration(identifier="shared-name"))
        integration_id = created.json()["data"]["_id"]
    _, custom_key = create_custom_environment(server)
    for headers in ({"Authorization": f"ApiKey {custom_key}"}, server.headers("Production")):
        with server.client() as client:
            client.headers.update(headers)
            listed = client.get("/v1/integrations").json()["data"]
            assert [i["providerId"] for i in listed] == ["novu"]
            assert client.get("/v1/integrations/active").json()["data"][0]["_id"] != integration_id
            assert client.put(f"/v1/integrations/{integration_id}", json={"name": "x"}).status_code == 404
            assert client.post(f"/v1/integrations/{integration_id}/set-primary").status_code == 404
            assert client.delete(f"/v1/integrations/{integration_id}").status_code == 404
            # Identifiers are unique per environment only.
            same = client.post("/v1/integrations", json=email_integration(identifier="shared-name"))
            assert same.status_code == 201
    with server.client() as client:
        assert client.get("/v1/integrations").json()["data"][1]["name"] == "Sendgrid"


def test_validation_errors_never_echo_credentials(server: RunningServer) -> None:
    bodies = [
        email_integration(credentials=SENDGRID_KEY),
        email_integration(credentials={"apiKey": SENDGRID_KEY, "secure": SENDGRID_KEY}),
        email_integration(credentials={"apiKey": [SENDGRID_KEY]}),
    ]
    with server.client() as client:
        for body in bodies:
            response = client.post("/v1/integrations", json=body)
            assert response.status_code == 422
            assert SENDGRID_KEY not in response.text
