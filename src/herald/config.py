"""Settings, read from `HERALD_*` environment variables by the server and the CLI alike."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from herald.ratelimit.policy import ServiceLevel

EMBEDDED_DATABASE_FILE = "herald.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HERALD_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".herald"), description="Where the embedded database and the generated master key live."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; unset means the embedded SQLite file."
    )
    redis_url: SecretStr | None = None
    master_key: SecretStr | None = Field(
        default=None, description="Encrypts stored secrets; generated into data_dir for the embedded default."
    )
    log_level: str = "info"
    opentelemetry: bool = Field(
        default=False,
        description=(
            "FastAPI's native OpenTelemetry traces, metrics and logs, through the process's global "
            "providers (off: the check for configured providers cost ~3% of a trigger's CPU)."
        ),
    )
    max_body_bytes: int = 512 * 1024

    rate_limit_enabled: bool = Field(default=True, description="Token buckets on every secret-key route.")
    rate_limit_level: ServiceLevel = Field(
        default="business",
        description="Service level of environments without an override: free, business, enterprise, "
        "unlimited or custom (then rate_limit_custom_rps gives the figures).",
    )
    rate_limit_custom_rps: dict[str, int] = Field(
        default_factory=dict,
        description='Requests per second of the "custom" level, e.g. {"trigger": 5, "configuration": 2, '
        '"global": 3}; a category left out keeps the business figure.',
    )
    rate_limit_fail_open: bool = Field(
        default=True,
        description="When Redis fails: serve the request and log (true), or answer 503 (false).",
    )
    idempotency_enabled: bool = Field(default=True, description="Honour Idempotency-Key on POST and PATCH.")
    idempotency_store: Literal["database", "redis"] = Field(
        default="database",
        description="Where Idempotency-Key records live. The database store commits the key claim with "
        "the request's own work; redis needs redis_url.",
    )
    idempotency_ttl_seconds: float = Field(default=24 * 3600, gt=0, description="How long results are kept.")
    idempotency_cleanup_interval_seconds: float = Field(
        default=600, gt=0, description="How often expired idempotency records are deleted."
    )
    planner_statistics_interval_seconds: float = Field(
        default=600, gt=0, description="SQLite: how often the query planner's statistics are refreshed."
    )
    inbox_token_ttl_seconds: float = Field(
        default=15 * 24 * 3600,
        gt=0,
        description="Lifetime of an Inbox session token (Novu's 15 days: @novu/js never refreshes it).",
    )
    inbox_cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description='Origins allowed to call /v1/inbox/* from a browser, as a JSON list; ["*"] is any.',
    )

    worker_concurrency: int = Field(
        default=8, ge=1, le=256, description="Leased batches (and single-job runs) one worker runs at once."
    )
    worker_batch_size: int = Field(
        default=200,
        ge=1,
        le=5_000,
        description="Jobs leased at a time; in-app steps among them run together in one transaction.",
    )
    worker_lease_seconds: float = Field(
        default=60, gt=0, description="How long a leased job stays a worker's before another may take it."
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="Longest idle wait between looks for due jobs (wake-ups cut it short)."
    )
    deliver_first_in_app_at_once: bool = Field(
        default=True,
        description=(
            "Run a workflow's first step, when it is in-app, in the transaction that starts the "
            "notification (the trigger's, or a topic fan-out chunk's) instead of through the queue."
        ),
    )
    busy_at_triggers_waiting: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description=(
            "Triggers waiting for a group commit (queued, or in the one being made) from which the "
            "server counts as busy: it then stores each trigger with a job that expands it later, "
            "instead of expanding it in the request, and on SQLite its in-process worker yields "
            "to the requests. Unset: 16 on SQLite, never on PostgreSQL (where the later expansion "
            "cost single triggers 40% more CPU in one process)."
        ),
    )
    fanout_chunk_size: int = Field(
        default=1_000, ge=1, le=10_000, description="Topic and broadcast recipients handled per fan-out job."
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / EMBEDDED_DATABASE_FILE).resolve()}"

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
