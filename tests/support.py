"""Test support: fresh migrated databases and a real Herald server on a free loopback port."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from herald.app import create_app
from herald.config import EMBEDDED_DATABASE_FILE, Settings
from herald.db import Database
from herald.environments.service import InstallationCredentials, installation_credentials
from herald.kit.crypto import SecretBox

TEST_MASTER_KEY = "test-master-key-0123456789abcdef-not-for-production"
POSTGRES_URL = os.environ.get("HERALD_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("HERALD_TEST_REDIS_URL") or None


async def _migrate(settings: Settings) -> None:
    database = Database(settings)
    try:
        async with database.exclusive_session() as session:
            await database.migrate(session)
    finally:
        await database.dispose()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(url: str, *statements: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


class DatabaseFactory:
    """Migrates one template per test run, then hands each test a copy of it."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = work_dir
        self.template_name = f"herald_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []
        if POSTGRES_URL:
            asyncio.run(_admin(POSTGRES_URL, f'CREATE DATABASE "{self.template_name}"'))
            template = Settings(
                database_url=_with_database(POSTGRES_URL, self.template_name), master_key=TEST_MASTER_KEY
            )
        else:
            template = Settings(data_dir=work_dir / "template")
        asyncio.run(_migrate(template))

    def settings_for(self, data_dir: Path, **overrides: object) -> Settings:
        data_dir.mkdir(parents=True, exist_ok=True)
        if POSTGRES_URL:
            name = f"herald_t_{uuid.uuid4().hex[:12]}"
            asyncio.run(_admin(POSTGRES_URL, f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"'))
            self.created.append(name)
            return Settings(
                data_dir=data_dir,
                database_url=_with_database(POSTGRES_URL, name),
                master_key=TEST_MASTER_KEY,
                redis_url=REDIS_URL,
                **overrides,  # type: ignore[arg-type]
            )
        shutil.copy(self.work_dir / "template" / EMBEDDED_DATABASE_FILE, data_dir / EMBEDDED_DATABASE_FILE)
        return Settings(data_dir=data_dir, master_key=TEST_MASTER_KEY, **overrides)  # type: ignore[arg-type]

    def drop(self, settings: Settings) -> None:
        if POSTGRES_URL and settings.database_url:
            name = settings.database_url.rpartition("/")[2]
            asyncio.run(_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if POSTGRES_URL:
            asyncio.run(_admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{self.template_name}" WITH (FORCE)'))


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything Herald logs while the block runs, formatted exactly as on stderr."""
    root = logging.getLogger()
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    try:
        yield sink
    finally:
        root.removeHandler(handler)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningServer:
    """A Herald server started by a test; `keys` maps environment name to secret key."""

    url: str
    settings: Settings
    credentials: InstallationCredentials
    app: object
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def keys(self) -> dict[str, str]:
        return {env.name: env.secret_key for env in self.credentials.environments}

    @property
    def environment_ids(self) -> dict[str, str]:
        return {env.name: env.id for env in self.credentials.environments}

    def headers(self, environment: str = "Development") -> dict[str, str]:
        return {"Authorization": f"ApiKey {self.keys[environment]}"}

    def client(self, environment: str = "Development") -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(environment), timeout=30)

    def refresh_credentials(self) -> None:
        self.credentials = read_credentials(self.settings)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def read_credentials(settings: Settings) -> InstallationCredentials:
    async def read() -> InstallationCredentials:
        database = Database(settings)
        try:
            async with database.session(write=False) as session:
                return await installation_credentials(session, SecretBox(TEST_MASTER_KEY))
        finally:
            await database.dispose()

    return asyncio.run(read())


def start_server(settings: Settings) -> RunningServer:
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        **app.uvicorn_websocket_options(),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"herald-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("Herald test server did not start")
        time.sleep(0.01)
    return RunningServer(
        url=f"http://127.0.0.1:{port}",
        settings=settings,
        credentials=read_credentials(settings),
        app=app,
        _server=server,
        _thread=thread,
    )


def running(settings: Settings) -> Iterator[RunningServer]:
    server = start_server(settings)
    try:
        yield server
    finally:
        server.stop()
