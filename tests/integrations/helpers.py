"""Shared helpers for the integration tests: raw clients and direct reads of stored rows."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select

from herald.db import Database
from herald.integrations.credentials import StoredCredentials, unseal
from herald.integrations.service import inbox_hmac_required
from herald.kit.crypto import SecretBox
from herald.models import Integration
from tests.support import TEST_MASTER_KEY, RunningServer

SENDGRID_KEY = "SG.live-0123456789abcdefghijklmnopqrstuvwxyz-secret"
MAILGUN_KEY = "key-9876543210fedcba9876543210fedcba"


def client_for(server: RunningServer, secret_key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"ApiKey {secret_key}"}, timeout=30)


def create_custom_environment(server: RunningServer, name: str = "Staging") -> tuple[str, str]:
    """Create a custom environment; returns its id and secret key."""
    with server.client() as client:
        response = client.post("/v1/environments", json={"name": name})
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    return data["_id"], data["apiKeys"][0]["key"]


def stored_rows(server: RunningServer, environment_id: str) -> list[Integration]:
    async def read() -> list[Integration]:
        database = Database(server.settings)
        try:
            async with database.session(write=False) as session:
                statement = select(Integration).where(Integration.environment_id == environment_id)
                return list((await session.execute(statement)).scalars().all())
        finally:
            await database.dispose()

    return asyncio.run(read())


def stored_credentials(server: RunningServer, environment_id: str, integration_id: str) -> dict[str, Any]:
    """The integration's credentials as stored, unsealed with the test master key."""
    [row] = [row for row in stored_rows(server, environment_id) if row.id == integration_id]
    return unseal(
        SecretBox(TEST_MASTER_KEY), StoredCredentials(row.credentials_public, row.credentials_sealed)
    )


def hmac_required(server: RunningServer, environment_id: str) -> bool:
    async def read() -> bool:
        database = Database(server.settings)
        try:
            async with database.session(write=False) as session:
                return await inbox_hmac_required(session, environment_id)
        finally:
            await database.dispose()

    return asyncio.run(read())


def email_integration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "providerId": "sendgrid",
        "channel": "email",
        "credentials": {"apiKey": SENDGRID_KEY, "from": "no-reply@example.com", "senderName": "Example"},
        "active": True,
    }
    body.update(overrides)
    return body
