"""The v1 subscriber routes through the legacy `novu` 1.14.0 package, as its users call them."""

from __future__ import annotations

import pytest
import requests
from novu.api import SubscriberApi
from novu.dto.subscriber import SubscriberDto

from tests.support import RunningServer


def _api(server: RunningServer, environment: str = "Development") -> SubscriberApi:
    return SubscriberApi(url=server.url, api_key=server.keys[environment])


def test_legacy_subscriber_lifecycle(server: RunningServer) -> None:
    api = _api(server)
    created = api.create(SubscriberDto(subscriber_id="legacy-1", email="l1@example.com", first_name="Leg"))
    assert (created.subscriber_id, created.email, created.deleted) == ("legacy-1", "l1@example.com", False)
    assert created._environment_id == server.environment_ids["Development"]

    updated = api.put(SubscriberDto(subscriber_id="legacy-1", last_name="Acy"))
    assert (updated.first_name, updated.last_name, updated.email) == ("Leg", "Acy", "l1@example.com")
    assert api.get("legacy-1").last_name == "Acy"

    for n in range(2, 13):
        api.create(SubscriberDto(subscriber_id=f"legacy-{n}"))
    first_page = api.list()
    assert (first_page.page, first_page.page_size, first_page.total_count) == (0, 10, 12)
    assert len(list(first_page.data)) == 10
    assert len(list(api.list(page=1).data)) == 2
    assert {s.subscriber_id for s in api.stream()} == {f"legacy-{n}" for n in range(1, 13)}

    api.delete("legacy-1")
    with pytest.raises(requests.HTTPError) as missing:
        api.get("legacy-1")
    assert missing.value.response.status_code == 404


def test_legacy_credentials_and_online_status(server: RunningServer) -> None:
    api = _api(server)
    api.create(SubscriberDto(subscriber_id="device-owner"))
    with_tokens = api.credentials("device-owner", "expo", device_tokens=["ExponentPushToken[1]"])
    assert [c.provider_id for c in with_tokens.channels] == ["expo"]
    assert api.online_status("device-owner", True).is_online is True
    api.delete_credentials("device-owner", "expo")
    assert list(api.get("device-owner").channels) == []


def test_legacy_isolation(server: RunningServer) -> None:
    _api(server).create(SubscriberDto(subscriber_id="dev-sub"))
    with pytest.raises(requests.HTTPError) as hidden:
        _api(server, "Production").get("dev-sub")
    assert hidden.value.response.status_code == 404
    assert list(_api(server, "Production").list().data) == []
