"""Inbox test helpers: sessions, subscriber hashes, and the in-app delivery the engine will do.

`deliver` stands in for the engine until triggers exist: it stores a notification and an
in-app message through the ORM in the server's own process, and hands the publisher the
message after commit, exactly as the in-app step executor will. Once triggers land, the
browser test calls novu-py's `novu.trigger(...)` in place of `deliver` (see test_browser.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from functools import partial
from typing import Any

import httpx
from sqlalchemy import select

from herald.kit.after_commit import after_commit
from herald.kit.ids import new_id
from herald.kit.time import utc_now
from herald.models import Environment, Message, Notification, Subscriber
from tests.support import RunningServer


def subscriber_hash(secret_key: str, subscriber_id: str) -> str:
    return hmac.new(secret_key.encode(), subscriber_id.encode(), hashlib.sha256).hexdigest()


def application_identifier(server: RunningServer, environment: str = "Development") -> str:
    return next(env.identifier for env in server.credentials.environments if env.name == environment)


def start_session(
    server: RunningServer, subscriber_id: str, environment: str = "Development", **extra: Any
) -> httpx.Response:
    body: dict[str, Any] = {
        "applicationIdentifier": application_identifier(server, environment),
        "subscriber": {"subscriberId": subscriber_id},
        **extra,
    }
    if "subscriberHash" not in extra:
        body["subscriberHash"] = subscriber_hash(server.keys[environment], subscriber_id)
    return httpx.post(f"{server.url}/v1/inbox/session", json=body, timeout=30)


def session_token(server: RunningServer, subscriber_id: str, environment: str = "Development") -> str:
    response = start_session(server, subscriber_id, environment)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["token"])


def inbox(server: RunningServer, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.url}/v1/inbox", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def deliver(
    server: RunningServer, subscriber_id: str, environment: str = "Development", **fields: Any
) -> str:
    """Store one in-app message for an existing subscriber and publish it; its id."""
    loop = server._server.servers[0].get_loop()
    future = asyncio.run_coroutine_threadsafe(_deliver(server, subscriber_id, environment, fields), loop)
    return future.result(timeout=30)


async def _deliver(
    server: RunningServer, subscriber_id: str, environment: str, fields: dict[str, Any]
) -> str:
    app: Any = server.app
    environment_id = server.environment_ids[environment]
    async with app.state.database.session(write=True) as session:
        organization_id = (
            await session.execute(select(Environment.organization_id).where(Environment.id == environment_id))
        ).scalar_one()
        subscriber = (
            await session.execute(
                select(Subscriber).where(
                    Subscriber.environment_id == environment_id, Subscriber.subscriber_id == subscriber_id
                )
            )
        ).scalar_one()
        owned = {"environment_id": environment_id, "organization_id": organization_id}
        transaction_id = fields.pop("transaction_id", new_id())
        workflow = fields.pop("workflow_identifier", "welcome")
        tags = fields.pop("tags", [])
        severity = fields.pop("severity", "none")
        notification = Notification(
            **owned,
            event_id=new_id(),
            transaction_id=transaction_id,
            subscriber_id=subscriber.id,
            workflow_identifier=workflow,
            workflow_name=fields.pop("workflow_name", "Welcome"),
            status="completed",
            channels=["in_app"],
            tags=tags,
            severity=severity,
            critical=False,
            payload=fields.pop("payload", {}),
            overrides={},
        )
        session.add(notification)
        await session.flush()
        message = Message(
            **owned,
            notification_id=notification.id,
            subscriber_id=subscriber.id,
            transaction_id=transaction_id,
            workflow_identifier=workflow,
            step_id="in-app",
            channel="in_app",
            provider_id="novu",
            content=fields.pop("content", "Hello"),
            subject=fields.pop("subject", None),
            cta=fields.pop("cta", {}),
            data=fields.pop("data", None),
            tags=tags,
            severity=severity,
            delivered_at=utc_now(),
            **fields,
        )
        session.add(message)
        await session.flush()
        after_commit(
            session, partial(app.state.realtime.message_delivered, environment_id, subscriber.id, message.id)
        )
    return message.id
