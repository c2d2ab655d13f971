"""HERALD_OPENTELEMETRY: FastAPI's native telemetry reports through the process's global
providers only when it is on (off by default, as the check for providers costs CPU on every
request)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from herald.config import Settings
from tests.support import running


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's global tracer provider (it can be set once per process), recording in memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    exporter.clear()


@pytest.mark.parametrize("enabled", [False, True])
def test_requests_are_traced_only_when_enabled(
    settings: Settings, spans: InMemorySpanExporter, enabled: bool
) -> None:
    spans.clear()
    for server in running(settings.model_copy(update={"opentelemetry": enabled})):
        assert httpx.get(f"{server.url}/v1/health-check").status_code == 200
        with server.client() as client:
            assert client.get("/v2/workflows").status_code == 200
    routes = {span.attributes.get("http.route") for span in spans.get_finished_spans() if span.attributes}
    if enabled:
        assert {"/v1/health-check", "/v2/workflows"} <= routes
    else:
        assert not spans.get_finished_spans()
