"""Fixtures of the engine tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn

from herald.app import create_app
from herald.config import Settings
from tests.engine.helpers import wait_for
from tests.support import RunningServer, free_port, read_credentials


@pytest.fixture
def api_only(settings: Settings) -> Iterator[RunningServer]:
    """A Herald API without the in-process worker (as `herald api`)."""
    yield from api_without_worker(settings)


@pytest.fixture
def queued_api(settings: Settings) -> Iterator[RunningServer]:
    """`api_only` whose triggers leave even a first in-app step to the queue (for the tests of
    the worker's own path: its batches, a kill mid-job)."""
    yield from api_without_worker(settings.model_copy(update={"deliver_first_in_app_at_once": False}))


def api_without_worker(settings: Settings) -> Iterator[RunningServer]:
    app = create_app(settings, run_worker=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started or None, "the API to start")
    running = RunningServer(
        f"http://127.0.0.1:{port}", settings, read_credentials(settings), app, server, thread
    )
    yield running
    running.stop()
