"""Who a request acts for: one environment of one organization."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EnvironmentScope:
    environment_id: str
    organization_id: str
