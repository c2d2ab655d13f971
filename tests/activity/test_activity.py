"""The activity feed (`/v1/notifications`) through novu-py 3.19, plus raw HTTP for shapes,
filters, paging, bad input and environment isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from novu_py import Novu, models
from novu_py.models import NovuError

from tests.activity.fixtures import Delivery, deliver
from tests.clients import novu as sdk
from tests.support import RunningServer

STEPS = [
    {"name": "Inbox", "type": "in_app", "controlValues": {"body": "Hello"}},
    {"name": "Wait", "type": "delay", "controlValues": {"type": "regular", "amount": 5, "unit": "minutes"}},
    {"name": "Email", "type": "email", "controlValues": {"subject": "Hi", "body": "<p>Hello</p>"}},
]


def setup(
    novu: Novu, subscribers: dict[str, str], workflows: dict[str, list[dict[str, object]]]
) -> dict[str, str]:
    """Subscribers (id -> email) and workflows (identifier -> steps); workflow identifier -> _id."""
    for subscriber_id, email in subscribers.items():
        novu.subscribers.create(
            create_subscriber_request_dto={
                "subscriber_id": subscriber_id,
                "email": email,
                "first_name": "Ada",
            }
        )
    ids = {}
    for identifier, steps in workflows.items():
        body = {"name": identifier.title(), "workflowId": identifier, "active": True, "steps": steps}
        ids[identifier] = novu.workflows.create(create_workflow_dto=body).result.id  # type: ignore[arg-type]
    return ids


def test_list_and_retrieve_through_the_sdk(server: RunningServer) -> None:
    novu = sdk(server)
    workflow_ids = setup(novu, {"ada": "ada@example.com"}, {"welcome": STEPS})
    first = deliver(server, "ada", "welcome", payload={"order": 1}, severity="high")
    second = deliver(server, "ada", "welcome", payload={"order": 2})

    listed = novu.notifications.list().result
    assert isinstance(listed, models.ActivitiesResponseDto)
    assert (listed.page, listed.page_size, listed.has_more) == (0, 10, False)
    assert [item.id for item in listed.data] == [second.notification_id, first.notification_id]

    item = listed.data[1]
    assert item.environment_id == server.environment_ids["Development"]
    assert item.transaction_id == first.transaction_id
    assert item.template_id == workflow_ids["welcome"]
    assert item.template is not None and item.template.name == "Welcome"
    assert item.template.triggers[0].identifier == "welcome"
    assert item.subscriber is not None and item.subscriber.subscriber_id == "ada"
    assert item.subscriber.email == "ada@example.com"
    assert item.subscriber_id == item.subscriber.id
    assert item.payload == {"order": 1}
    assert item.severity == models.SeverityLevelEnum.HIGH
    assert item.channels == [models.StepTypeEnum.IN_APP, models.StepTypeEnum.DELAY, models.StepTypeEnum.EMAIL]
    assert item.jobs is not None
    assert [job.id for job in item.jobs] == first.job_ids
    assert [job.type.value for job in item.jobs] == ["in_app", "delay", "email"]
    assert [job.provider_id.value for job in item.jobs] == ["novu", "novu", "sendgrid"]
    assert [job.step.name for job in item.jobs] == ["Inbox", "Wait", "Email"]
    assert all(job.status == "completed" for job in item.jobs)
    assert [[d.status for d in job.execution_details] for job in item.jobs] == [
        [models.ExecutionDetailsStatusEnum.SUCCESS]
    ] * 3
    assert item.jobs[2].execution_details[0].detail == "Message sent"

    retrieved = novu.notifications.retrieve(notification_id=first.notification_id).result
    assert retrieved.model_dump() == item.model_dump()


def test_wire_shape(server: RunningServer) -> None:
    setup(sdk(server), {"ada": "ada@example.com"}, {"welcome": STEPS})
    delivery = deliver(server, "ada", "welcome")
    with server.client() as client:
        listed = client.get("/v1/notifications")
        one = client.get(f"/v1/notifications/{delivery.notification_id}")
    assert listed.status_code == 200
    body = listed.json()
    assert set(body) == {"hasMore", "data", "pageSize", "page"}
    item = body["data"][0]
    for key in ("_id", "_environmentId", "_organizationId", "_subscriberId", "transactionId", "createdAt"):
        assert isinstance(item[key], str)
    job = item["jobs"][0]
    assert {"_id", "type", "executionDetails", "step", "providerId", "status"} <= set(job)
    assert {"_id", "active", "filters", "_templateId"} <= set(job["step"])
    detail = job["executionDetails"][0]
    assert {"_id", "status", "detail", "isRetry", "isTest", "source"} <= set(detail)
    assert detail["raw"] == '{"step":"inbox"}'
    assert one.status_code == 200
    assert one.json() == {"data": item}


def test_filters(server: RunningServer) -> None:
    novu = sdk(server)
    sms = [{"name": "Text", "type": "sms", "controlValues": {"body": "Hi"}}]
    workflow_ids = setup(
        novu, {"ada": "ada@example.com", "bob": "bob@example.com"}, {"welcome": STEPS, "alert": sms}
    )
    long_ago = datetime.now(UTC) - timedelta(days=3)
    old = deliver(server, "ada", "welcome", created_at=long_ago, transaction_id="tx-old")
    ada_alert = deliver(server, "ada", "alert", severity="high", transaction_id="tx-ada-alert")
    bob_welcome = deliver(server, "bob", "welcome", transaction_id="tx-bob")

    def ids(**request: object) -> list[str]:
        return [item.id or "" for item in novu.notifications.list(request=request).result.data]  # type: ignore[arg-type]

    def notification_ids(*deliveries: Delivery) -> list[str]:
        return [d.notification_id for d in deliveries]

    assert ids(channels=[models.ChannelTypeEnum.SMS]) == notification_ids(ada_alert)
    assert ids(channels=[models.ChannelTypeEnum.SMS, models.ChannelTypeEnum.EMAIL]) == notification_ids(
        bob_welcome, ada_alert, old
    )
    assert ids(channels=[models.ChannelTypeEnum.PUSH]) == []
    assert ids(templates=[workflow_ids["alert"]]) == notification_ids(ada_alert)
    assert ids(templates=["welcome"]) == notification_ids(bob_welcome, old)
    assert ids(emails=["bob@example.com"]) == notification_ids(bob_welcome)
    assert ids(subscriber_ids=["ada"]) == notification_ids(ada_alert, old)
    assert ids(subscriber_ids=["nobody"]) == []
    assert ids(transaction_id="tx-bob") == notification_ids(bob_welcome)
    assert ids(severity=["high"]) == notification_ids(ada_alert)
    assert ids(search="ADA-AL") == notification_ids(ada_alert)
    assert ids(search="bob@") == notification_ids(bob_welcome)
    assert ids(search="100%") == []
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert ids(after=yesterday) == notification_ids(bob_welcome, ada_alert)
    assert ids(before=yesterday) == notification_ids(old)
    assert ids(subscriber_ids=["ada"], channels=[models.ChannelTypeEnum.EMAIL]) == notification_ids(old)


def test_paging(server: RunningServer) -> None:
    novu = sdk(server)
    setup(novu, {"ada": "ada@example.com"}, {"welcome": STEPS[:1]})
    made = [deliver(server, "ada", "welcome").notification_id for _ in range(5)][::-1]

    pages = [novu.notifications.list(request={"page": page, "limit": 2}).result for page in range(4)]
    assert [[item.id for item in page.data] for page in pages] == [made[0:2], made[2:4], made[4:5], []]
    assert [page.has_more for page in pages] == [True, True, False, False]
    assert [(page.page, page.page_size) for page in pages] == [(0, 2), (1, 2), (2, 2), (3, 2)]


def test_environments_are_isolated(server: RunningServer) -> None:
    setup(sdk(server), {"ada": "ada@example.com"}, {"welcome": STEPS})
    setup(sdk(server, "Production"), {"ada": "ada@example.com"}, {"welcome": STEPS})
    development = deliver(server, "ada", "welcome", transaction_id="same-tx")
    production = deliver(server, "ada", "welcome", environment="Production", transaction_id="same-tx")

    for environment, own, other in (
        ("Development", development, production),
        ("Production", production, development),
    ):
        novu = sdk(server, environment)
        listed = novu.notifications.list(request={"transaction_id": "same-tx"}).result.data
        assert [item.id for item in listed] == [own.notification_id]
        assert listed[0].jobs is not None and [job.id for job in listed[0].jobs] == own.job_ids
        with pytest.raises(NovuError) as raised:
            novu.notifications.retrieve(notification_id=other.notification_id)
        assert raised.value.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=51",
        "limit=abc",
        "page=-1",
        "page=1e300",
        "channels=fax",
        "severity=urgent",
        "after=yesterday",
        "before=0.5",
        "after=0001-01-01T00:00:00%2B14:00",
        "before=2024-13-45",
        f"search={'x' * 300}",
    ],
)
def test_bad_input_is_422(server: RunningServer, query: str) -> None:
    with server.client() as client:
        response = client.get(f"/v1/notifications?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["statusCode"] == 422


def test_unknown_notification_and_no_key(server: RunningServer) -> None:
    with server.client() as client:
        missing = client.get("/v1/notifications/0123456789abcdef01234567")
        odd = client.get("/v1/notifications/%20not-an-id%20")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Notification with id 0123456789abcdef01234567 not found"
    assert odd.status_code == 404
    assert httpx.get(f"{server.url}/v1/notifications").status_code == 401
