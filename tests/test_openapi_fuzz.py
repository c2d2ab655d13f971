"""schemathesis over Herald's own OpenAPI description, against a running server: no 5xx,
documented status codes, and responses that match their schemas."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import DatabaseFactory, RunningServer, running

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
    ]
)
# Rotating the key would lock the fuzzer out; regeneration has its own tests.
EXCLUDED_OPERATIONS = ["EnvironmentsControllerV1_regenerateOrganizationApiKeys"]


@pytest.fixture
def unlimited_server(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[RunningServer]:
    """Rate limiting off, so that fuzzing reaches the logic behind every operation."""
    settings = database_factory.settings_for(tmp_path / "data", rate_limit_enabled=False)
    yield from running(settings)
    database_factory.drop(settings)


@pytest.mark.timeout(900)  # the whole API, several minutes on a loaded 2-core machine
def test_schemathesis_finds_no_server_error(unlimited_server: RunningServer, tmp_path: Path) -> None:
    server = unlimited_server
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(Path(__file__).with_name("schemathesis.toml")),
        "run",
        f"{server.url}/openapi.json",
        "--header",
        f"Authorization: ApiKey {server.keys['Development']}",
        "--checks",
        CHECKS,
        "--max-examples",
        "25",
        "--seed",
        "1",
        # One worker: with two, hypothesis parses lambda sources in two threads at once,
        # which trips CPython 3.11.7's "AST constructor recursion depth mismatch"
        # (gh-106905, fixed in later patch releases) and fails the run with no server error.
        "--workers",
        "1",
        "--report-dir",
        str(tmp_path),
        *[arg for op in EXCLUDED_OPERATIONS for arg in ("--exclude-operation-id", op)],
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
