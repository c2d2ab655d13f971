"""GET /v1/integrations with 50 integrations (each unsealed and masked) against GET /v1/environments.

Run: .venv/bin/python bench/integrations_list.py  (SQLite in a temp dir; one process, loopback)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import TEST_MASTER_KEY, DatabaseFactory, start_server

from herald.integrations.credentials import masked, seal, unseal
from herald.kit.crypto import SecretBox
from herald.logs import configure_logging

INTEGRATIONS = 50
REQUESTS = 300
RESULTS = Path(__file__).parent / "results" / "integrations_list.txt"


def median_ms(client: object, path: str) -> float:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return statistics.median(samples)


def unseal_and_mask_ms(count: int) -> float:
    """In-process cost of the credential work one list answer does, to show its share."""
    box = SecretBox(TEST_MASTER_KEY)
    stored = [
        seal(box, {"apiKey": f"SG.{n:04d}-0123456789abcdef", "from": "a@example.com"}) for n in range(count)
    ]
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        for item in stored:
            masked(unseal(box, item))
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    configure_logging("warning")
    with tempfile.TemporaryDirectory() as work:
        factory = DatabaseFactory(Path(work) / "databases")
        settings = factory.settings_for(Path(work) / "data")
        server = start_server(settings)
        try:
            with server.client() as client:
                for number in range(INTEGRATIONS):
                    body = {
                        "providerId": "sendgrid",
                        "channel": "email",
                        "active": True,
                        "credentials": {
                            "apiKey": f"SG.{number:04d}-0123456789abcdef",
                            "from": "a@example.com",
                        },
                    }
                    assert client.post("/v1/integrations", json=body).status_code == 201
                median_ms(client, "/v1/environments")  # warm-up
                baseline = median_ms(client, "/v1/environments")
                listed = median_ms(client, "/v1/integrations")
        finally:
            server.stop()
            factory.close()
    lines = [
        f"GET /v1/environments (baseline, 2 items): median {baseline:.2f} ms over {REQUESTS} requests",
        f"GET /v1/integrations ({INTEGRATIONS + 1} items, unsealed and masked): median {listed:.2f} ms",
        f"ratio integrations/baseline: {listed / baseline:.2f}x",
        f"of which unsealing and masking {INTEGRATIONS} credentials in-process: "
        f"median {unseal_and_mask_ms(INTEGRATIONS):.2f} ms",
    ]
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
