"""Regenerating a key: the old one fails at once, the new one works, others are untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from tests.support import TEST_MASTER_KEY, RunningServer, start_server


def _status(server: RunningServer, key: str) -> int:
    response = httpx.get(f"{server.url}/v1/environments/me", headers={"Authorization": f"ApiKey {key}"})
    return response.status_code


def test_regenerate_through_the_api(server: RunningServer) -> None:
    old_key, production_key = server.keys["Development"], server.keys["Production"]
    response = httpx.post(f"{server.url}/v1/environments/api-keys/regenerate", headers=server.headers())
    assert response.status_code == 201
    new_key = response.json()["data"][0]["key"]
    assert new_key != old_key and len(new_key) == 32

    assert _status(server, old_key) == 401
    assert _status(server, new_key) == 200
    assert _status(server, production_key) == 200
    server.refresh_credentials()
    assert server.keys["Development"] == new_key


def test_regenerate_with_the_cli_beside_the_running_server(server: RunningServer) -> None:
    """Another process regenerates a key the server has just used (and may keep in its cache)."""
    old_key, production_key = server.keys["Production"], server.keys["Development"]
    assert _status(server, old_key) == 200
    environment = {
        **os.environ,
        "HERALD_DATA_DIR": str(server.settings.data_dir),
        "HERALD_MASTER_KEY": TEST_MASTER_KEY,
    }
    if server.settings.database_url:
        environment["HERALD_DATABASE_URL"] = server.settings.database_url
    completed = subprocess.run(
        [sys.executable, "-m", "herald", "keys", "regenerate", "--environment", "production", "--json"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    regenerated = json.loads(completed.stdout)
    assert regenerated["name"] == "Production"
    assert _status(server, old_key) == 401
    assert _status(server, regenerated["secretKey"]) == 200
    assert _status(server, production_key) == 200


def test_regenerate_an_unknown_environment_fails_clearly(server: RunningServer) -> None:
    environment = {
        **os.environ,
        "HERALD_DATA_DIR": str(server.settings.data_dir),
        "HERALD_MASTER_KEY": TEST_MASTER_KEY,
    }
    if server.settings.database_url:
        environment["HERALD_DATABASE_URL"] = server.settings.database_url
    completed = subprocess.run(
        [sys.executable, "-m", "herald", "keys", "regenerate", "--environment", "Staging"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert 'No environment named "Staging"' in completed.stderr


def test_a_second_server_on_the_same_database_rejects_the_old_key_at_once(server: RunningServer) -> None:
    """Two API processes share nothing but the database: no cache may keep the old key alive."""
    other = start_server(server.settings)
    try:
        old_key = server.keys["Development"]
        assert httpx.get(f"{other.url}/v1/environments/me", headers=server.headers()).status_code == 200
        response = httpx.post(f"{server.url}/v1/environments/api-keys/regenerate", headers=server.headers())
        new_key = response.json()["data"][0]["key"]
        stale = httpx.get(f"{other.url}/v1/environments/me", headers={"Authorization": f"ApiKey {old_key}"})
        assert stale.status_code == 401
        fresh = httpx.get(f"{other.url}/v1/environments/me", headers={"Authorization": f"ApiKey {new_key}"})
        assert fresh.status_code == 200
    finally:
        other.stop()
