"""A router added to SECRET_KEY_ROUTERS by tests only: it proves that a router gets the rate
limit and idempotency without doing anything, on the paths of every category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Request

from herald import app as app_module
from herald.config import Settings
from tests.support import DatabaseFactory, RunningServer, running

calls: Counter[str] = Counter()
router = APIRouter()

CATEGORY_PATHS = {
    "trigger": ["/v1/events/probe"],
    "configuration": [
        "/v1/subscribers/probe",
        "/v2/subscribers/probe",
        "/v2/topics/probe",
        "/v2/workflows/probe",
        "/v1/integrations/probe",
    ],
    "global": ["/v1/probe"],
}
BULK_PATHS = ["/v1/events/trigger/bulk", "/v1/events/trigger/broadcast", "/v1/subscribers/bulk"]


def _count(request: Request) -> dict[str, Any]:
    calls[request.url.path] += 1
    return {"data": {"calls": calls[request.url.path]}}


for _path in [path for paths in CATEGORY_PATHS.values() for path in paths]:
    router.add_api_route(_path, _count, methods=["GET"])
for _path in BULK_PATHS:
    router.add_api_route(_path, _count, methods=["POST"], status_code=201)


@router.post("/v1/probe/flaky", status_code=201)
def flaky(request: Request) -> dict[str, Any]:
    """Fails the first time it is called: a 5xx must release the idempotency key."""
    calls["flaky"] += 1
    if calls["flaky"] == 1:
        raise RuntimeError("first call fails")
    return {"data": {"calls": calls["flaky"]}}


def probe_server(
    monkeypatch: pytest.MonkeyPatch, factory: DatabaseFactory, tmp_path: Path, **overrides: Any
) -> Iterator[RunningServer]:
    calls.clear()
    monkeypatch.setattr(app_module, "SECRET_KEY_ROUTERS", [router, *app_module.SECRET_KEY_ROUTERS])
    settings = factory.settings_for(tmp_path / "data").model_copy(update=overrides)
    try:
        yield from running(settings)
    finally:
        factory.drop(settings)


def with_settings(settings: Settings, **overrides: Any) -> Settings:
    return settings.model_copy(update=overrides)
