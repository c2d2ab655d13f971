"""Subscriber preferences through novu-py 3.19, and their resolution."""

from __future__ import annotations

import asyncio

import pytest
from novu_py import models

from herald.db import Database
from herald.kit.scope import EnvironmentScope
from herald.preferences.service import channel_enabled, resolve_channels
from herald.subscribers.repository import SubscriberRepository
from tests.clients import novu
from tests.support import RunningServer

ALL_ON = {"email": True, "sms": True, "in_app": True, "chat": True, "push": True}


def _channels(value: models.SubscriberPreferenceChannels) -> dict[str, bool | None]:
    return {name: getattr(value, name) for name in ALL_ON}


def test_defaults_global_and_workflow_switches(server: RunningServer) -> None:
    client = novu(server)
    client.subscribers.create(create_subscriber_request_dto={"subscriber_id": "p"})
    initial = client.subscribers.preferences.list(subscriber_id="p").result
    assert initial.global_.enabled is True and _channels(initial.global_.channels) == ALL_ON
    assert initial.workflows == []

    after_global = client.subscribers.preferences.update(
        subscriber_id="p",
        patch_subscriber_preferences_dto={"channels": {"email": False}, "schedule": {"is_enabled": False}},
    ).result
    assert _channels(after_global.global_.channels) == {**ALL_ON, "email": False}
    assert after_global.global_.schedule is not None and after_global.global_.schedule.is_enabled is False

    after_workflow = client.subscribers.preferences.update(
        subscriber_id="p",
        patch_subscriber_preferences_dto={
            "workflow_id": "welcome",
            "channels": {"email": True, "sms": False},
        },
    ).result
    [welcome] = after_workflow.workflows
    assert (welcome.workflow.identifier, welcome.workflow.slug) == ("welcome", "welcome")
    assert _channels(welcome.channels) == {**ALL_ON, "sms": False}
    assert sorted(o.channel.value for o in welcome.overrides) == ["email", "sms"]
    assert _channels(after_workflow.global_.channels) == {**ALL_ON, "email": False}

    bulk = client.subscribers.preferences.bulk_update(
        subscriber_id="p",
        bulk_update_subscriber_preferences_dto={
            "preferences": [
                {"workflow_id": "digest", "channels": {"push": False}},
                {"workflow_id": "welcome", "channels": {"in_app": False}},
            ]
        },
    ).result
    assert [(p.level.value, p.workflow.identifier if p.workflow else None) for p in bulk] == [
        ("template", "digest"),
        ("template", "welcome"),
    ]
    assert _channels(bulk[0].channels) == {**ALL_ON, "email": False, "push": False}
    assert _channels(bulk[1].channels) == {**ALL_ON, "sms": False, "in_app": False}
    stored = client.subscribers.preferences.list(subscriber_id="p").result
    assert [w.workflow.identifier for w in stored.workflows] == ["digest", "welcome"]

    scope = EnvironmentScope(server.environment_ids["Development"], server.credentials.organization_id)

    async def ask() -> list[bool]:
        database = Database(server.settings)
        try:
            async with database.session(write=False) as session:
                subscriber = await SubscriberRepository(session, scope).by_subscriber_id("p")
                assert subscriber is not None
                return [
                    await channel_enabled(session, scope, subscriber.id, workflow, channel)
                    for workflow, channel in [
                        ("welcome", "email"),
                        ("welcome", "sms"),
                        ("digest", "email"),
                        ("unknown", "chat"),
                        ("unknown", "email"),
                    ]
                ]
        finally:
            await database.dispose()

    assert asyncio.run(ask()) == [True, False, False, True, False]


def test_resolution_order() -> None:
    assert resolve_channels({}, {}) == ALL_ON
    assert resolve_channels({}, {}, {"sms": False})["sms"] is False
    assert resolve_channels({"sms": True}, {}, {"sms": False})["sms"] is True
    assert resolve_channels({"sms": True}, {"sms": False}, {"sms": True})["sms"] is False


def test_preference_errors(server: RunningServer) -> None:
    client = novu(server)
    with pytest.raises(models.ErrorDto) as missing:
        client.subscribers.preferences.list(subscriber_id="nobody")
    assert missing.value.status_code == 404
    client.subscribers.create(create_subscriber_request_dto={"subscriber_id": "q"})
    with server.client() as http:
        assert (
            http.patch("/v2/subscribers/q/preferences", json={"channels": {"email": "sometimes"}}).status_code
            == 422
        )
        too_many = {"preferences": [{"workflowId": f"w{n}", "channels": {}} for n in range(101)]}
        assert http.patch("/v2/subscribers/q/preferences/bulk", json=too_many).status_code == 422
        assert (
            http.patch(
                "/v2/subscribers/q/preferences/bulk", json={"preferences": [{"channels": {}}]}
            ).status_code
            == 422
        )
        assert http.get("/v2/subscribers/q/preferences", params={"criticality": "bogus"}).status_code == 422
    with server.client("Production") as http:
        assert http.get("/v2/subscribers/q/preferences").status_code == 404
