"""The official clients, pointed at a test server."""

from __future__ import annotations

from novu_py import Novu
from novu_py.utils import RetryConfig

from tests.support import RunningServer

NO_RETRIES = RetryConfig("none", None, False)


def novu(server: RunningServer, environment: str = "Development") -> Novu:
    """novu-py 3.19 with retries off: it would otherwise retry a 409 or 5XX for an hour."""
    return Novu(secret_key=server.keys[environment], server_url=server.url, retry_config=NO_RETRIES)
