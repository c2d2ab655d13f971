"""`herald serve` and `herald keys` as real processes on a fresh data directory, as after
`make run` on a new clone: no master key given, embedded SQLite, keys read beside the server.
Also: what the server writes to its log never contains a secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from novu_py import Novu

from tests.support import free_port


def _environment(data_dir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    environment["HERALD_DATA_DIR"] = str(data_dir)
    environment["HERALD_LOG_LEVEL"] = "debug"
    return environment


def _herald(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "herald", *args],
        env=_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    data_dir, port = tmp_path / "herald-data", free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "herald", "serve", "--port", str(port)],
        env=_environment(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/v1/health-check").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"herald serve did not start: {process.communicate()[1]}")
        time.sleep(0.1)
    yield url, data_dir, process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=15)


def test_keys_beside_a_running_server_work_with_the_sdk(
    served: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    url, data_dir, _ = served
    listed = json.loads(_herald(data_dir, "keys", "--json").stdout)
    assert [env["name"] for env in listed["environments"]] == ["Development", "Production"]
    assert set(listed["environments"][0]) == {"id", "name", "identifier", "secretKey"}
    assert (data_dir / "master.key").exists()
    for environment in listed["environments"]:
        novu = Novu(secret_key=environment["secretKey"], server_url=url)
        me = httpx.get(
            f"{url}/v1/environments/me", headers={"Authorization": f"ApiKey {environment['secretKey']}"}
        )
        assert me.json()["data"]["_id"] == environment["id"]
        assert me.json()["data"]["_organizationId"] == listed["organizationId"]
        assert len(novu.environments.list().result) == 2
    human = _herald(data_dir, "keys").stdout
    assert listed["environments"][1]["secretKey"] in human and "application identifier" in human


def test_no_secret_reaches_the_log(served: tuple[str, Path, subprocess.Popen[str]]) -> None:
    url, data_dir, process = served
    keys = [
        env["secretKey"] for env in json.loads(_herald(data_dir, "keys", "--json").stdout)["environments"]
    ]
    development = keys[0]
    with httpx.Client(base_url=url, timeout=30) as client:
        client.get("/v1/environments", headers={"Authorization": f"ApiKey {development}"})
        client.get("/v1/environments", headers={"Authorization": f"Bearer {development}"})
        client.get(
            f"/v1/environments?token={development}", headers={"Authorization": f"ApiKey {development}"}
        )
        client.get("/v1/environments", headers={"Authorization": f"{development}"})
        client.post("/v1/environments", headers={"Authorization": f"ApiKey {development}"}, content=b"{bad")
        created = client.post(
            "/v1/environments", headers={"Authorization": f"ApiKey {development}"}, json={"name": "Staging"}
        ).json()["data"]["apiKeys"][0]["key"]
        regenerated = client.post(
            "/v1/environments/api-keys/regenerate", headers={"Authorization": f"ApiKey {development}"}
        ).json()["data"][0]["key"]
        client.get("/v1/environments", headers={"Authorization": f"ApiKey {development}"})
    process.terminate()
    _, stderr = process.communicate(timeout=15)
    assert '"event": "request"' in stderr
    master_key = (data_dir / "master.key").read_text().strip()
    for secret in [*keys, created, regenerated, master_key]:
        assert secret not in stderr
