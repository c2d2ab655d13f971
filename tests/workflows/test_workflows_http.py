"""Wire shapes and bad input of `/v2/workflows`, with raw HTTP."""

from typing import Any

import pytest

from tests.support import RunningServer
from tests.workflows.helpers import ALL_STEP_TYPES, workflow_body

STEP_KEYS = {
    "_id", "stepId", "name", "slug", "type", "origin", "workflowId", "workflowDatabaseId",
    "controls", "controlValues", "variables",
}  # fmt: skip
WORKFLOW_KEYS = {
    "_id", "name", "workflowId", "slug", "createdAt", "updatedAt", "steps", "origin", "preferences",
    "status", "severity", "tags", "active", "critical", "validatePayload", "isTranslationEnabled",
}  # fmt: skip


def test_response_shapes(server: RunningServer) -> None:
    with server.client() as client:
        created = client.post("/v2/workflows", json=workflow_body(steps=ALL_STEP_TYPES))
        assert created.status_code == 201
        assert created.headers["content-type"] == "application/json"
        assert list(created.json()) == ["data"]
        workflow = created.json()["data"]
        assert set(workflow) >= WORKFLOW_KEYS
        assert workflow["preferences"]["default"]["all"] == {"enabled": True, "readOnly": False}
        for step in workflow["steps"]:
            assert set(step) >= STEP_KEYS, step["type"]
            assert "values" in step["controls"] and "dataSchema" in step["controls"]
        assert workflow["steps"][4]["controls"]["values"]["subject"]

        listed = client.get("/v2/workflows")
        assert listed.status_code == 200
        assert set(listed.json()["data"]) == {"workflows", "totalCount"}
        item = listed.json()["data"]["workflows"][0]
        assert {"_id", "workflowId", "slug", "status", "origin", "stepTypeOverviews", "steps"} <= set(item)

        step = client.get(f"/v2/workflows/{workflow['_id']}/steps/inbox")
        assert step.status_code == 200 and set(step.json()["data"]) >= STEP_KEYS
        preview = client.post(f"/v2/workflows/{workflow['workflowId']}/step/collect/preview", json={})
        assert preview.status_code == 201
        assert preview.json()["data"]["result"] == {
            "type": "digest",
            "preview": {
                "type": "regular",
                "amount": 1,
                "unit": "hours",
                "lookBackWindow": {"amount": 5, "unit": "minutes"},
                "digestKey": "payload.order.id",
            },
        }

        deleted = client.delete(f"/v2/workflows/{workflow['slug']}")
        assert deleted.status_code == 204
        assert deleted.content == b""
        missing = client.get(f"/v2/workflows/{workflow['workflowId']}")
        assert missing.status_code == 404
        assert {"statusCode", "timestamp", "path", "message", "error"} <= set(missing.json())


def test_unknown_fields_are_ignored_and_timing_defaults_apply(server: RunningServer) -> None:
    body = workflow_body(
        __source="editor",
        somethingNew={"x": 1},
        steps=[
            {
                "name": "Inbox",
                "type": "in_app",
                "controlValues": {"body": "b", "disableOutputSanitization": False, "unknownControl": 1},
            },
            {"name": "Wait", "type": "delay"},
            {
                "name": "Later",
                "type": "delay",
                "controlValues": {"type": "dynamic", "dynamicKey": "payload.sendAt"},
            },
            {
                "name": "Daily",
                "type": "digest",
                "controlValues": {"cron": "0 9 * * *", "digestKey": "payload.k"},
            },
        ],
    )
    with server.client() as client:
        response = client.post("/v2/workflows", json=body)
        assert response.status_code == 201, response.text
        steps = response.json()["data"]["steps"]
    assert steps[0]["controls"]["values"] == {"body": "b", "disableOutputSanitization": False}
    assert steps[1]["controls"]["values"] == {"type": "regular", "amount": 30, "unit": "seconds"}
    assert steps[2]["controls"]["values"] == {"type": "regular", "dynamicKey": "payload.sendAt"}
    assert steps[3]["controls"]["values"] == {"type": "timed", "cron": "0 9 * * *", "digestKey": "payload.k"}


def _step(step_type: str, controls: dict[str, Any]) -> dict[str, Any]:
    return workflow_body(steps=[{"name": "Step", "type": step_type, "controlValues": controls}])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"workflowId": "x", "steps": []}, "name"),
        (workflow_body("has spaces"), "workflowId"),
        (workflow_body(steps=[{"name": "H", "type": "http_request"}]), "steps.0.type"),
        (workflow_body(steps=[{"type": "in_app"}]), "steps.0.name"),
        (workflow_body(steps=[{"name": "A", "type": "sms", "stepId": "bad id!"}]), "steps.0.stepId"),
        (_step("delay", {"amount": 0, "unit": "minutes"}), "steps.0.controlValues.amount"),
        (_step("delay", {"amount": 5, "unit": "fortnights"}), "steps.0.controlValues.unit"),
        (_step("delay", {"amount": 5}), "steps.0.controlValues.unit"),
        (_step("delay", {"type": "timed"}), "steps.0.controlValues.cron"),
        (_step("delay", {"type": "dynamic"}), "steps.0.controlValues.dynamicKey"),
        (_step("digest", {"type": "timed", "cron": "every day"}), "steps.0.controlValues.cron"),
        (_step("digest", {"amount": "many", "unit": "hours"}), "steps.0.controlValues.amount"),
        (
            _step("digest", {"amount": 1, "unit": "hours", "lookBackWindow": {"amount": 5}}),
            "steps.0.controlValues.lookBackWindow.unit",
        ),
        (_step("throttle", {"amount": 1, "unit": "seconds"}), "steps.0.controlValues.unit"),
        (_step("throttle", {"type": "dynamic"}), "steps.0.controlValues.dynamicKey"),
        (
            _step("throttle", {"amount": 1, "unit": "hours", "threshold": 0}),
            "steps.0.controlValues.threshold",
        ),
        (_step("in_app", {"body": "b", "skip": {"regex": ["a", "b"]}}), "steps.0.controlValues.skip"),
        (
            _step("in_app", {"body": "b", "redirect": {"target": "_blank"}}),
            "steps.0.controlValues.redirect.url",
        ),
        (_step("email", {"subject": "s", "editorType": "wysiwyg"}), "steps.0.controlValues.editorType"),
        (
            workflow_body(payloadSchema={"type": "object", "properties": {"a": {"type": "strnig"}}}),
            "payloadSchema",
        ),
        (workflow_body(tags=["ok", ""]), "tags.1"),
        (workflow_body(severity="critical"), "severity"),
        (workflow_body(active=0), "active"),
        (workflow_body(steps=[{"name": "A", "type": "sms", "stepId": 5}]), "steps.0.stepId"),
        (
            workflow_body(preferences={"workflow": {"channels": {"pigeon": {"enabled": True}}}}),
            "preferences.workflow.channels.pigeon.[key]",
        ),
        (
            workflow_body(
                steps=[
                    {"name": "A", "type": "sms", "stepId": "a"},
                    {"name": "B", "type": "sms", "stepId": "a"},
                ]
            ),
            "steps.1.stepId",
        ),
    ],
)
def test_bad_input_is_a_422_naming_the_field(server: RunningServer, body: dict[str, Any], field: str) -> None:
    with server.client() as client:
        response = client.post("/v2/workflows", json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["message"] == "Validation Error"
    assert field in error["errors"], error["errors"]


def test_duplicate_workflow_id_and_other_bad_requests(server: RunningServer) -> None:
    with server.client() as client:
        assert client.post("/v2/workflows", json=workflow_body("dup")).status_code == 201
        duplicate = client.post("/v2/workflows", json=workflow_body("dup"))
        assert duplicate.status_code == 400
        assert "already exists" in duplicate.json()["message"]
        assert (
            client.post(
                "/v2/workflows", content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )
        assert client.get("/v2/workflows", params={"limit": 0}).status_code == 422
        assert client.get("/v2/workflows", params={"limit": 1000}).status_code == 422
        assert client.get("/v2/workflows", params={"status": "BROKEN"}).status_code == 422
        assert client.get("/v2/workflows", params={"orderBy": "color"}).status_code == 422
        assert client.get("/v2/workflows", params={"limit": "10.0", "offset": "0.0"}).status_code == 200
        patched = client.patch("/v2/workflows/dup", json={"payloadSchema": {"type": 5}})
        assert patched.status_code == 422 and "payloadSchema" in patched.json()["errors"]
        bad_step = client.put(
            "/v2/workflows/dup",
            json={"name": "x", "steps": [{"name": "w", "type": "delay", "controlValues": {"unit": "days"}}]},
        )
        assert bad_step.status_code == 422
        preview = client.post(
            "/v2/workflows/dup/step/inbox/preview", json={"controlValues": {"skip": {"x": 1}}}
        )
        assert preview.status_code == 422
        assert client.post("/v2/workflows/dup/step/nope/preview", json={}).status_code == 404
        own = client.put(
            "/v2/workflows/dup/sync", json={"targetEnvironmentId": server.environment_ids["Development"]}
        )
        assert own.status_code == 400
        assert client.put("/v2/workflows/dup/sync", json={}).status_code == 422
        assert client.put("/v2/workflows/nope/sync", json={"targetEnvironmentId": "x"}).status_code == 404


def test_requires_a_secret_key(server: RunningServer) -> None:
    with server.client() as client:
        response = client.get("/v2/workflows", headers={"Authorization": ""})
    assert response.status_code == 401


def test_critical_flag_and_preferences(server: RunningServer) -> None:
    with server.client() as client:
        critical = client.post("/v2/workflows", json=workflow_body("alarm", critical=True)).json()["data"]
        assert critical["critical"] is True
        assert critical["preferences"]["default"]["all"]["readOnly"] is True
        prefs = {
            "workflow": {"all": {"enabled": False}, "channels": {"email": {"enabled": False}}},
            "user": {"all": {"enabled": True}, "channels": {"sms": {"enabled": False}}},
        }
        custom = client.post("/v2/workflows", json=workflow_body("quiet", preferences=prefs)).json()["data"]
    assert custom["critical"] is False
    default = custom["preferences"]["default"]
    assert default["all"] == {"enabled": False, "readOnly": False}
    assert default["channels"]["email"] == {"enabled": False}
    assert default["channels"]["in_app"] == {"enabled": True}
    assert custom["preferences"]["user"]["channels"]["sms"] == {"enabled": False}
