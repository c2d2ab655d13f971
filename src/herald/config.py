"""Settings, read from `HERALD_*` environment variables by the server and the CLI alike."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    max_body_bytes: int = 512 * 1024

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
