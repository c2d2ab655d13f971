"""Which bucket a request draws from, what it costs, and the figures of each service level.

Categories come from the path, so a router added later is classified without doing anything:
`trigger` for `/v1/events/*`, `configuration` for subscribers, topics, workflows and integrations
(v1 and v2), `global` for everything else. Figures are Novu's, in requests per second; the
bucket holds `limit = rps x window` tokens refilled every window, plus a 10 % burst.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal, get_args

Category = Literal["trigger", "configuration", "global"]
ServiceLevel = Literal["free", "business", "enterprise", "unlimited", "custom"]
SERVICE_LEVELS: tuple[ServiceLevel, ...] = get_args(ServiceLevel)
CATEGORIES: tuple[Category, ...] = get_args(Category)

WINDOW_SECONDS = 5
BURST_ALLOWANCE = 0.1
SINGLE_COST = 1
BULK_COST = 100

RPS: dict[str, dict[Category, int]] = {
    "free": {"trigger": 60, "configuration": 20, "global": 30},
    "business": {"trigger": 600, "configuration": 200, "global": 300},
    "enterprise": {"trigger": 6000, "configuration": 2000, "global": 3000},
    "unlimited": {"trigger": 6000, "configuration": 2000, "global": 3000},
}

_CONFIGURATION = re.compile(r"^/v[12]/(?:subscribers|topics|workflows|integrations)(?:/|$)")
_BULK = frozenset({"/v1/events/trigger/bulk", "/v1/events/trigger/broadcast", "/v1/subscribers/bulk"})


def classify(method: str, path: str) -> tuple[Category, int]:
    """The bucket category and token cost of a request."""
    path = path.rstrip("/") or "/"
    cost = BULK_COST if method == "POST" and path in _BULK else SINGLE_COST
    if path.startswith("/v1/events/") or path == "/v1/events":
        return "trigger", cost
    if _CONFIGURATION.match(path):
        return "configuration", cost
    return "global", cost


@dataclass(frozen=True, slots=True)
class Policy:
    """One bucket's figures and the `RateLimit-Policy` text that names them."""

    category: Category
    service_level: str
    limit: int
    burst: int
    window_ms: int

    @classmethod
    def of(cls, category: Category, service_level: str, rps: int) -> Policy:
        limit = rps * WINDOW_SECONDS
        return cls(
            category, service_level, limit, math.floor(limit * (1 + BURST_ALLOWANCE)), WINDOW_SECONDS * 1000
        )

    def header(self, cost: int) -> str:
        cost_name = "bulk" if cost == BULK_COST else "single"
        return (
            f'{self.limit};w={WINDOW_SECONDS};burst={self.burst};comment="token bucket";'
            f'category="{self.category}";cost="{cost_name}";serviceLevel="{self.service_level}"'
        )


def policies_for(level: str, custom_rps: dict[str, int]) -> dict[Category, Policy]:
    """Every category's policy at a service level ("custom" takes `custom_rps`, else business)."""
    if level == "custom":
        return {c: Policy.of(c, level, custom_rps.get(c, RPS["business"][c])) for c in CATEGORIES}
    return {c: Policy.of(c, level, RPS[level][c]) for c in CATEGORIES}
