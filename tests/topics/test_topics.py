"""Topics and subscriptions through novu-py 3.19 against a running server, plus raw HTTP."""

from __future__ import annotations

import asyncio

import pytest
from novu_py import models

from herald.db import Database
from herald.kit.scope import EnvironmentScope
from herald.models import Topic
from herald.topics.repository import TopicMember, TopicRepository, TopicSubscriptionRepository
from tests.clients import novu
from tests.support import RunningServer


def _subscribers(server: RunningServer, ids: list[str], environment: str = "Development") -> None:
    client = novu(server, environment)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        client.subscribers.create_bulk(
            bulk_subscriber_create_dto={"subscribers": [{"subscriber_id": i} for i in chunk]}
        )


def test_topic_lifecycle(server: RunningServer) -> None:
    client = novu(server)
    with server.client() as http:
        first = http.post("/v2/topics", json={"key": "task:1", "name": "Task one"})
        assert first.status_code == 201
        again = http.post("/v2/topics", json={"key": "task:1", "name": "Task 1"})
        assert again.status_code == 200 and again.json()["data"]["_id"] == first.json()["data"]["_id"]

    created = client.topics.create(create_update_topic_request_dto={"key": "news", "name": "News"}).result
    assert (created.key, created.name) == ("news", "News")
    with pytest.raises(models.TopicResponseDtoError) as conflict:
        client.topics.create(create_update_topic_request_dto={"key": "news"}, fail_if_exists=True)
    assert (conflict.value.data.key, conflict.value.data.id) == ("news", created.id)

    assert client.topics.get(topic_key="task:1").result.name == "Task 1"
    assert (
        client.topics.update(topic_key="news", update_topic_request_dto={"name": "Daily"}).result.name
        == "Daily"
    )

    listed = client.topics.list(request={}).result
    assert sorted(t.key for t in listed.data) == ["news", "task:1"]
    assert listed.total_count == 2
    assert [t.key for t in client.topics.list(request={"key": "news"}).result.data] == ["news"]
    assert [t.key for t in client.topics.list(request={"name": "task"}).result.data] == ["task:1"]
    page = client.topics.list(request={"limit": 1, "order_direction": "ASC"}).result
    following = client.topics.list(request={"limit": 1, "order_direction": "ASC", "after": page.next}).result
    assert [page.data[0].key, following.data[0].key] == ["task:1", "news"]

    assert client.topics.delete(topic_key="news").result.acknowledged is True
    with pytest.raises(models.ErrorDto) as gone:
        client.topics.get(topic_key="news")
    assert gone.value.status_code == 404


def test_subscriptions_add_list_remove(server: RunningServer) -> None:
    _subscribers(server, ["a", "b", "c"])
    client = novu(server)
    added = client.topics.subscriptions.create(
        topic_key="team",
        create_topic_subscriptions_request_dto={
            "subscriptions": ["a", {"identifier": "b-sub", "subscriber_id": "b"}, "ghost"]
        },
    ).result
    assert [s.subscriber.subscriber_id for s in added.data if s.subscriber] == ["a", "b"]
    assert (added.meta.total_count, added.meta.successful, added.meta.failed) == (3, 2, 1)
    assert [(e.subscriber_id, e.code) for e in added.errors or []] == [("ghost", "SUBSCRIBER_NOT_FOUND")]
    assert client.topics.get(topic_key="team").result.key == "team"
    with pytest.raises(models.ErrorDto):
        client.subscribers.retrieve(subscriber_id="ghost")

    repeated = client.topics.subscriptions.create(
        topic_key="team", create_topic_subscriptions_request_dto={"subscriber_ids": ["a"]}
    ).result
    assert repeated.data[0].id == added.data[0].id

    listed = client.topics.subscriptions.list(request={"topic_key": "team"}).result
    assert sorted(s.subscriber.subscriber_id for s in listed.data) == ["a", "b"]
    assert listed.total_count == 2
    only_b = client.topics.subscriptions.list(request={"topic_key": "team", "subscriber_id": "b"}).result
    assert [s.identifier for s in only_b.data] == ["team:b"]

    client.topics.create(create_update_topic_request_dto={"key": "other"})
    client.topics.subscriptions.create(
        topic_key="other", create_topic_subscriptions_request_dto={"subscriber_ids": ["a"]}
    )
    of_a = client.subscribers.topics.list(request={"subscriber_id": "a"}).result
    assert sorted(s.topic.key for s in of_a.data) == ["other", "team"]
    assert [
        s.topic.key
        for s in client.subscribers.topics.list(request={"subscriber_id": "a", "key": "other"}).result.data
    ] == ["other"]

    removed = client.topics.subscriptions.delete(
        topic_key="team", delete_topic_subscriptions_request_dto={"subscriptions": ["a", "c"]}
    ).result
    assert [s.subscriber.subscriber_id for s in removed.data if s.subscriber] == ["a"]
    assert [(e.subscriber_id, e.code) for e in removed.errors or []] == [("c", "SUBSCRIPTION_NOT_FOUND")]
    listed = client.topics.subscriptions.list(request={"topic_key": "team"}).result
    assert [s.subscriber.subscriber_id for s in listed.data] == ["b"]

    client.subscribers.delete(subscriber_id="b")
    assert client.topics.subscriptions.list(request={"topic_key": "team"}).result.data == []


def test_subscription_errors(server: RunningServer) -> None:
    with server.client() as http:
        nobody = http.post("/v2/topics/t/subscriptions", json={"subscriberIds": ["ghost-1", "ghost-2"]})
        assert nobody.status_code == 400
        assert nobody.json()["meta"] == {"totalCount": 2, "successful": 0, "failed": 2}
        too_many = http.post(
            "/v2/topics/t/subscriptions", json={"subscriberIds": [f"s{n}" for n in range(101)]}
        )
        assert too_many.status_code == 422
        assert http.post("/v2/topics/t/subscriptions", json={"subscriberIds": "a"}).status_code == 422
        for method, path in [
            ("GET", "/v2/topics/unknown"),
            ("PATCH", "/v2/topics/unknown"),
            ("DELETE", "/v2/topics/unknown"),
            ("GET", "/v2/topics/unknown/subscriptions"),
            ("DELETE", "/v2/topics/unknown/subscriptions"),
            ("GET", "/v2/subscribers/unknown/subscriptions"),
            ("GET", "/v1/topics/unknown"),
            ("DELETE", "/v1/topics/unknown"),
            ("GET", "/v1/topics/unknown/subscribers/x"),
        ]:
            body = {"name": "x", "subscriberIds": ["x"]} if method in {"PATCH", "DELETE"} else None
            response = http.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
        bad_key = http.post("/v2/topics", json={"key": "has spaces!"})
        assert bad_key.status_code == 422 and "key" in bad_key.json()["errors"]
        assert http.post("/v2/topics", json={"key": "k" * 101}).status_code == 422
        assert http.post("/v2/topics", json={"key": 5}).status_code == 422
        assert http.patch("/v2/topics/x", json={}).status_code == 422
        assert http.post("/v2/topics", json={"key": "user@example.com"}).status_code == 201


def test_subscription_pages_with_cursors(server: RunningServer) -> None:
    ids = [f"m{n:02d}" for n in range(25)]
    _subscribers(server, ids)
    client = novu(server)
    for start in range(0, 25, 10):
        client.topics.subscriptions.create(
            topic_key="big",
            create_topic_subscriptions_request_dto={"subscriber_ids": ids[start : start + 10]},
        )
    seen: list[str] = []
    request: dict[str, object] = {"topic_key": "big", "limit": 10, "order_direction": "ASC"}
    while True:
        page = client.topics.subscriptions.list(request=request).result
        seen += [s.subscriber.subscriber_id for s in page.data]
        assert page.total_count == 25
        if page.next is None:
            break
        request["after"] = page.next
    assert seen == ids


def test_environments_are_isolated(server: RunningServer) -> None:
    _subscribers(server, ["shared-id"])
    _subscribers(server, ["shared-id"], "Production")
    development, production = novu(server), novu(server, "Production")
    development.topics.subscriptions.create(
        topic_key="dev-topic", create_topic_subscriptions_request_dto={"subscriber_ids": ["shared-id"]}
    )
    with pytest.raises(models.ErrorDto) as hidden:
        production.topics.get(topic_key="dev-topic")
    assert hidden.value.status_code == 404
    assert production.topics.list(request={}).result.data == []
    assert production.subscribers.topics.list(request={"subscriber_id": "shared-id"}).result.data == []
    with server.client("Production") as http:
        assert (
            http.request(
                "DELETE", "/v2/topics/dev-topic/subscriptions", json={"subscriberIds": ["shared-id"]}
            ).status_code
            == 404
        )
    assert len(development.topics.subscriptions.list(request={"topic_key": "dev-topic"}).result.data) == 1


def test_many_members_are_added_in_batches_and_iterated_in_chunks(server: RunningServer) -> None:
    ids = [f"fan-{n:05d}" for n in range(4_500)]
    _subscribers(server, ids)
    with server.client() as http:
        for _ in range(2):  # the second time every membership exists already
            response = http.post("/v1/topics/fanout/subscribers", json={"subscribers": [*ids, "missing"]})
            assert response.status_code == 200
            assert len(response.json()["data"]["succeeded"]) == 4_500
            assert response.json()["data"]["failed"] == {"notFound": ["missing"]}
        listed = http.get("/v2/topics/fanout/subscriptions", params={"limit": 1}).json()
        assert listed["totalCount"] == 4_500

    scope = EnvironmentScope(server.environment_ids["Development"], server.credentials.organization_id)

    async def iterate() -> list[list[TopicMember]]:
        database = Database(server.settings)
        try:
            async with database.session(write=False) as session:
                topic = await TopicRepository(session, scope).by_key("fanout")
                assert isinstance(topic, Topic)
                repository = TopicSubscriptionRepository(session, scope)
                return [chunk async for chunk in repository.iterate_members(topic.id, chunk_size=1_000)]
        finally:
            await database.dispose()

    chunks = asyncio.run(iterate())
    assert [len(chunk) for chunk in chunks] == [1_000] * 4 + [500]
    members = [member.subscriber_id for chunk in chunks for member in chunk]
    assert sorted(members) == ids
    ordered = [member.subscription_id for chunk in chunks for member in chunk]
    assert ordered == sorted(ordered)
