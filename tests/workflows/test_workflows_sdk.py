"""The v2 workflows API driven through novu-py, as a customer would."""

from typing import Any

import pytest
from novu_py import Novu, models

from tests.support import RunningServer
from tests.workflows.helpers import ALL_STEP_TYPES, workflow_body


def sdk(server: RunningServer, environment: str = "Development") -> Novu:
    return Novu(secret_key=server.keys[environment], server_url=server.url)


def create(novu: Novu, body: dict[str, Any]) -> models.WorkflowResponseDto:
    return novu.workflows.create(create_workflow_dto=body).result  # type: ignore[arg-type]


def test_create_and_get_every_step_type(server: RunningServer) -> None:
    novu = sdk(server)
    created = create(
        novu,
        workflow_body(
            steps=ALL_STEP_TYPES,
            tags=["orders", "shipping"],
            description="Tells the customer",
            severity="high",
            __source="editor",
            payloadSchema={"type": "object", "properties": {"order": {"type": "object"}}},
            validatePayload=True,
        ),
    )
    assert created.workflow_id == "order-shipped"
    assert created.status == models.WorkflowStatusEnum.ACTIVE
    assert created.origin == models.ResourceOriginEnum.NOVU_CLOUD
    assert created.severity == models.SeverityLevelEnum.HIGH
    assert created.tags == ["orders", "shipping"]
    assert created.validate_payload is True
    assert [step.type.value for step in created.steps] == [s["type"] for s in ALL_STEP_TYPES]
    assert [step.step_id for step in created.steps] == [
        "inbox", "wait", "collect", "limit", "email", "sms", "push", "chat", "hook"
    ]  # fmt: skip
    for step in created.steps:
        assert step.workflow_id == "order-shipped"
        assert step.workflow_database_id == created.id
        assert step.slug.endswith(f"_st_{step.id}")
    email = created.steps[4]
    assert isinstance(email, models.EmailStepResponseDto)
    assert email.controls.values.subject == "{{ steps.collect.events | size }} updates"
    digest = created.steps[2]
    assert isinstance(digest, models.DigestStepResponseDto)
    assert digest.controls.values.look_back_window is not None
    assert digest.controls.values.digest_key == "payload.order.id"
    assert created.preferences.default.all.enabled is True
    assert set(created.preferences.default.channels) == {"in_app", "email", "sms", "chat", "push"}

    for reference in ("order-shipped", created.id, created.slug):
        fetched = novu.workflows.get(workflow_id=reference).result
        assert fetched.id == created.id
        assert [step.id for step in fetched.steps] == [step.id for step in created.steps]


def test_list_searches_filters_and_pages(server: RunningServer) -> None:
    novu = sdk(server)
    create(novu, workflow_body("welcome", name="Welcome aboard", tags=["onboarding"]))
    create(novu, workflow_body("password-reset", name="Password reset", tags=["security"]))
    create(novu, workflow_body("weekly-digest", name="Weekly digest", tags=["digest", "onboarding"]))
    create(novu, workflow_body("paused", name="Paused one", active=False))

    everything = novu.workflows.list().result
    assert everything.total_count == 4
    assert [w.workflow_id for w in everything.workflows] == [
        "paused",
        "weekly-digest",
        "password-reset",
        "welcome",
    ]
    assert everything.workflows[1].step_type_overviews == [models.StepTypeEnum.IN_APP]

    by_name = novu.workflows.list(
        request={"query": "WEL", "order_by": "name", "order_direction": "ASC"}
    ).result
    assert [w.workflow_id for w in by_name.workflows] == ["welcome"]
    by_identifier = novu.workflows.list(request={"query": "reset"}).result
    assert [w.workflow_id for w in by_identifier.workflows] == ["password-reset"]

    tagged = novu.workflows.list(
        request={"tags": ["onboarding", "nothing"], "order_by": "name", "order_direction": "ASC"}
    )
    assert [w.workflow_id for w in tagged.result.workflows] == ["weekly-digest", "welcome"]

    inactive = novu.workflows.list(request={"status": [models.WorkflowStatusEnum.INACTIVE]}).result
    assert [w.workflow_id for w in inactive.workflows] == ["paused"]

    page = novu.workflows.list(
        request={"limit": 2, "offset": 1, "order_by": "name", "order_direction": "ASC"}
    ).result
    assert page.total_count == 4
    assert [w.name for w in page.workflows] == ["Paused one", "Weekly digest"]


def test_update_keeps_matched_step_ids_and_removes_the_rest(server: RunningServer) -> None:
    novu = sdk(server)
    steps = [
        {"name": "First", "type": "in_app", "stepId": "first", "controlValues": {"body": "1"}},
        {"name": "Second", "type": "sms", "stepId": "second", "controlValues": {"body": "2"}},
        {"name": "Third", "type": "chat", "controlValues": {"body": "3"}},
    ]
    created = create(novu, workflow_body(steps=steps))
    first, second, third = created.steps

    updated = novu.workflows.update(
        workflow_id=created.workflow_id,
        update_workflow_dto={
            "name": "Renamed",
            "origin": models.ResourceOriginEnum.NOVU_CLOUD,
            "preferences": {},
            "steps": [
                # swap the stepIds of the first two steps, drop the third, add a new one
                {
                    "_id": second.id,
                    "name": "Second",
                    "type": "sms",
                    "stepId": "first",
                    "controlValues": {"body": "2!"},
                },
                {
                    "_id": first.id,
                    "name": "First",
                    "type": "in_app",
                    "stepId": "second",
                    "controlValues": {"body": "1"},
                },
                {"name": "Fourth", "type": "push", "controlValues": {"subject": "s", "body": "b"}},
            ],
        },
    ).result
    assert updated.name == "Renamed"
    assert [(s.id, s.step_id) for s in updated.steps[:2]] == [(second.id, "first"), (first.id, "second")]
    assert updated.steps[2].step_id == "fourth"
    assert third.id not in {s.id for s in updated.steps}
    fetched = novu.workflows.get(workflow_id=created.id).result
    assert [s.step_id for s in fetched.steps] == ["first", "second", "fourth"]
    assert fetched.steps[0].controls.values.body == "2!"  # type: ignore[union-attr]

    # a step sent without _id or stepId keeps its _id when its name gives the same stepId
    again = novu.workflows.update(
        workflow_id=created.id,
        update_workflow_dto={
            "name": "Renamed",
            "preferences": {},
            "origin": models.ResourceOriginEnum.NOVU_CLOUD,
            "steps": [{"name": "Fourth", "type": "push", "controlValues": {"subject": "s", "body": "b"}}],
        },
    ).result
    assert [(s.id, s.step_id) for s in again.steps] == [(updated.steps[2].id, "fourth")]


def test_patch_changes_settings(server: RunningServer) -> None:
    novu = sdk(server)
    created = create(novu, workflow_body(payloadSchema={"type": "object"}))
    patched = novu.workflows.patch(
        workflow_id=created.slug,
        patch_workflow_dto={
            "active": False,
            "name": "Quiet",
            "tags": ["a", "a", " b "],
            "validate_payload": True,
        },
    ).result
    assert patched.active is False
    assert patched.status == models.WorkflowStatusEnum.INACTIVE
    assert patched.name == "Quiet"
    assert patched.tags == ["a", "b"]
    assert patched.payload_schema == {"type": "object"}
    cleared = novu.workflows.patch(workflow_id=created.id, patch_workflow_dto={"payload_schema": None}).result
    assert not cleared.payload_schema
    assert cleared.name == "Quiet"


def test_delete(server: RunningServer) -> None:
    novu = sdk(server)
    created = create(novu, workflow_body(steps=ALL_STEP_TYPES))
    novu.workflows.delete(workflow_id=created.workflow_id)
    with pytest.raises(models.ErrorDto) as missing:
        novu.workflows.get(workflow_id=created.workflow_id)
    assert missing.value.status_code == 404
    with pytest.raises(models.ErrorDto):
        novu.workflows.delete(workflow_id=created.workflow_id)
    assert novu.workflows.list().result.total_count == 0


def test_step_data_variables_and_issues(server: RunningServer) -> None:
    novu = sdk(server)
    schema = {
        "type": "object",
        "properties": {"order": {"type": "object", "properties": {"id": {"type": "string"}}}},
    }
    created = create(
        novu,
        workflow_body(
            payloadSchema=schema,
            steps=[
                {"name": "Collect", "type": "digest", "controlValues": {"amount": 5, "unit": "minutes"}},
                {"name": "Email", "type": "email", "controlValues": {"body": "{% if %}"}},
                {"name": "Inbox", "type": "in_app"},
            ],
        ),
    )
    assert created.status == models.WorkflowStatusEnum.ERROR

    email = novu.workflows.steps.retrieve(workflow_id=created.workflow_id, step_id="email").result
    assert email.step_id == "email"
    assert email.issues is not None and email.issues.controls is not None
    assert email.issues.controls["subject"][0].issue_type == models.ContentIssueEnum.MISSING_VALUE
    assert (
        email.issues.controls["body"][0].issue_type
        == models.ContentIssueEnum.ILLEGAL_VARIABLE_IN_CONTROL_VALUE
    )
    assert email.variables["properties"]["payload"] == schema
    assert "collect" in email.variables["properties"]["steps"]["properties"]
    assert email.controls.data_schema is not None and "subject" in email.controls.data_schema["properties"]

    inbox = novu.workflows.steps.retrieve(workflow_id=created.id, step_id=created.steps[2].id).result
    assert inbox.issues is not None and inbox.issues.controls is not None
    assert "body" in inbox.issues.controls
    by_slug = novu.workflows.steps.retrieve(workflow_id=created.slug, step_id=created.steps[0].slug).result
    assert by_slug.id == created.steps[0].id
    with pytest.raises(models.ErrorDto) as missing:
        novu.workflows.steps.retrieve(workflow_id=created.id, step_id="nope")
    assert missing.value.status_code == 404


def test_preview_renders_with_given_and_example_payloads(server: RunningServer) -> None:
    novu = sdk(server)
    created = create(novu, workflow_body(steps=ALL_STEP_TYPES))

    given = novu.workflows.steps.generate_preview(
        workflow_id=created.workflow_id,
        step_id="inbox",
        generate_preview_request_dto={
            "preview_payload": {"subscriber": {"first_name": "Ada"}, "payload": {"order": {"id": "A-1"}}}
        },
    ).result
    # novu-py parses `result` into its open-ended member: a dict
    assert isinstance(given.result, dict)
    assert given.result["type"] == "in_app"
    preview = given.result["preview"]
    assert preview["subject"] == "Order A-1"
    assert preview["body"] == "Hi Ada, your order shipped"
    assert preview["primaryAction"]["redirect"]["url"] == "/orders/A-1"
    assert preview["data"] == {"orderId": "A-1"}

    example = novu.workflows.steps.generate_preview(
        workflow_id=created.workflow_id, step_id="sms", generate_preview_request_dto={}
    ).result
    assert example.preview_payload_example.payload == {"order": {"id": "{{payload.order.id}}"}}
    assert isinstance(example.result, dict)
    assert example.result["preview"]["body"] == "Order {{payload.order.id}}"

    overridden = novu.workflows.steps.generate_preview(
        workflow_id=created.workflow_id,
        step_id="email",
        generate_preview_request_dto={
            "control_values": {"subject": "{{ payload.x | upcase }}", "body": "b"},
            "preview_payload": {"payload": {"x": "hey"}},
        },
    ).result
    assert isinstance(overridden.result, dict)
    assert overridden.result["preview"]["subject"] == "HEY"

    broken = novu.workflows.steps.generate_preview(
        workflow_id=created.workflow_id,
        step_id="email",
        generate_preview_request_dto={"control_values": {"subject": "{{ payload.x | nosuch }}"}},
    ).result
    assert isinstance(broken.result, dict)
    assert "preview" not in broken.result
    assert "subject: unknown filter 'nosuch'" in broken.result["error"]["message"]


def test_sync_into_production_then_list_it_there(server: RunningServer) -> None:
    novu, production = sdk(server), sdk(server, "Production")
    critical = {
        "workflow": {"all": {"enabled": True, "readOnly": True}, "channels": {"sms": {"enabled": False}}}
    }
    created = create(novu, workflow_body(steps=ALL_STEP_TYPES, tags=["orders"], preferences=critical))
    target = server.environment_ids["Production"]

    copy = novu.workflows.sync(
        workflow_id=created.workflow_id, sync_workflow_dto={"target_environment_id": target}
    ).result
    assert copy.id != created.id
    assert copy.workflow_id == created.workflow_id
    assert [s.step_id for s in copy.steps] == [s.step_id for s in created.steps]
    listed = production.workflows.list().result
    assert [w.workflow_id for w in listed.workflows] == ["order-shipped"]
    fetched = production.workflows.get(workflow_id="order-shipped").result
    assert fetched.id == copy.id
    assert fetched.preferences.default.all.read_only is True
    assert fetched.preferences.default.channels["sms"].enabled is False

    novu.workflows.patch(workflow_id=created.id, patch_workflow_dto={"name": "Shipped v2"})
    novu.workflows.update(
        workflow_id=created.id,
        update_workflow_dto={
            "name": "Shipped v2",
            "preferences": {},
            "origin": models.ResourceOriginEnum.NOVU_CLOUD,
            "steps": ALL_STEP_TYPES[:2],
        },
    )
    again = novu.workflows.sync(
        workflow_id=created.id, sync_workflow_dto={"target_environment_id": target}
    ).result
    assert again.id == copy.id
    assert again.name == "Shipped v2"
    assert [(s.id, s.step_id) for s in again.steps] == [(s.id, s.step_id) for s in copy.steps[:2]]
    assert production.workflows.list().result.total_count == 1

    with pytest.raises(models.ErrorDto) as unknown:
        novu.workflows.sync(workflow_id=created.id, sync_workflow_dto={"target_environment_id": "f" * 24})
    assert unknown.value.status_code == 404


def test_environments_are_isolated(server: RunningServer) -> None:
    development, production = sdk(server), sdk(server, "Production")
    mine = create(development, workflow_body("shared-id"))
    assert production.workflows.list().result.total_count == 0
    for reference in ("shared-id", mine.id, mine.slug):
        with pytest.raises(models.ErrorDto) as hidden:
            production.workflows.get(workflow_id=reference)
        assert hidden.value.status_code == 404
    with pytest.raises(models.ErrorDto):
        production.workflows.delete(workflow_id=mine.id)
    theirs = create(production, workflow_body("shared-id"))
    assert theirs.id != mine.id
    assert development.workflows.get(workflow_id="shared-id").result.id == mine.id
