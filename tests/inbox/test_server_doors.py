"""The same feed through the secret-key doors: the v2 routes (driven by novu-py) and the
legacy v1 feed routes; one state, whichever door changed it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from novu_py import Novu

from tests.inbox.fixtures import deliver, inbox, session_token
from tests.support import RunningServer

CTA = {
    "action": {"buttons": [{"type": "primary", "content": "Accept"}, {"type": "secondary", "content": "No"}]}
}


def test_v2_routes_through_novu_py(server: RunningServer) -> None:
    token = session_token(server, "vera")
    first = deliver(server, "vera", content="one", tags=["x"], cta=CTA)
    second = deliver(server, "vera", content="two", severity="high")
    with Novu(secret_key=server.keys["Development"], server_url=server.url) as novu:
        notifications = novu.subscribers.notifications
        listed = notifications.list(request={"subscriber_id": "vera", "limit": 10})
        assert [item.id for item in listed.result.data] == [second, first]
        assert listed.result.has_more is False
        counts = notifications.count(
            subscriber_id="vera", filters=json.dumps([{"read": False}, {"tags": ["x"]}])
        )
        assert [item.count for item in counts.result] == [2, 1]

        read = notifications.mark_as_read(subscriber_id="vera", notification_id=first)
        assert read.result.is_read is True
        assert (
            notifications.mark_as_unread(subscriber_id="vera", notification_id=first).result.is_read is False
        )
        assert notifications.archive(subscriber_id="vera", notification_id=first).result.is_archived is True
        assert (
            notifications.unarchive(subscriber_id="vera", notification_id=first).result.is_archived is False
        )
        until = datetime.now(UTC) + timedelta(hours=1)
        snoozed = notifications.snooze(
            request={
                "subscriber_id": "vera",
                "notification_id": second,
                "snooze_subscriber_notification_dto": {"snooze_until": until},
            }
        )
        assert snoozed.result.is_snoozed is True
        assert notifications.unsnooze(subscriber_id="vera", notification_id=second).result.is_snoozed is False
        done = notifications.complete_action(
            request={"subscriber_id": "vera", "notification_id": first, "action_type": "secondary"}
        )
        assert done.result.secondary_action.is_completed is True
        reverted = notifications.revert_action(
            request={"subscriber_id": "vera", "notification_id": first, "action_type": "secondary"}
        )
        assert reverted.result.secondary_action.is_completed is False

        notifications.mark_as_seen(
            subscriber_id="vera", mark_subscriber_notifications_as_seen_dto={"notification_ids": [first]}
        )
        notifications.mark_all_as_read(subscriber_id="vera", update_all_subscriber_notifications_dto={})
        # The Inbox sees what the server changed.
        with inbox(server, token) as client:
            states = {
                item["id"]: (item["isRead"], item["isSeen"])
                for item in client.get("/notifications").json()["data"]
            }
        assert states == {first: (True, True), second: (True, True)}
        notifications.archive_all_read(subscriber_id="vera", update_all_subscriber_notifications_dto={})
        assert (
            notifications.list(request={"subscriber_id": "vera", "archived": True}).result.data[0].is_archived
        )
        notifications.delete(subscriber_id="vera", notification_id=first)
        notifications.archive_all(subscriber_id="vera", update_all_subscriber_notifications_dto={})
        notifications.delete_all(subscriber_id="vera", update_all_subscriber_notifications_dto={})
        assert notifications.list(request={"subscriber_id": "vera"}).result.data == []
    missing = server.client().get("/v2/subscribers/nobody/notifications")
    assert missing.status_code == 404


def test_legacy_v1_feed_routes(server: RunningServer) -> None:
    session_token(server, "walt")
    first = deliver(server, "walt", content="one", payload={"order": {"id": "A1"}}, cta=CTA)
    second = deliver(server, "walt", content="two", payload={"order": {"id": "B2"}})
    with Novu(secret_key=server.keys["Development"], server_url=server.url) as novu:
        feed = novu.subscribers.notifications.feed(request={"subscriber_id": "walt", "page": 0, "limit": 1})
        assert [item.id for item in feed.result.data] == [second]
        assert feed.result.has_more is True and feed.result.page == 0 and feed.result.page_size == 1
        assert feed.result.data[0].cta is not None and feed.result.data[0].status == "sent"
        payload = base64.b64encode(json.dumps({"order": {"id": "A1"}}).encode()).decode()
        filtered = novu.subscribers.notifications.feed(request={"subscriber_id": "walt", "payload": payload})
        assert [item.id for item in filtered.result.data] == [first]
        assert novu.subscribers.notifications.unseen_count(subscriber_id="walt").result.count == 2

        marked = novu.subscribers.messages.mark_all_as(
            subscriber_id="walt", message_mark_as_request_dto={"message_id": [first], "mark_as": "seen"}
        )
        assert [(item.id, item.seen, item.read) for item in marked.result] == [(first, True, False)]
        assert novu.subscribers.notifications.unseen_count(subscriber_id="walt").result.count == 1
        changed = novu.subscribers.messages.mark_all(
            subscriber_id="walt", mark_all_message_as_request_dto={"mark_as": "read"}
        )
        assert changed.result == 2
        acted = novu.subscribers.messages.update_as_seen(
            request={
                "subscriber_id": "walt",
                "message_id": first,
                "type": "primary",
                "mark_message_action_as_seen_dto": {"status": "done", "payload": {"ok": 1}},
            }
        )
        assert acted.result.cta.action.status == "done"
    client = server.client()
    read_feed = client.get("/v1/subscribers/walt/notifications/feed", params={"read": "false"}).json()
    assert read_feed["data"] == [] and read_feed["totalCount"] == 0
    assert client.get("/v1/subscribers/walt/notifications/feed", params={"payload": "%%%"}).status_code == 400
