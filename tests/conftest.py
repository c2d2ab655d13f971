from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from herald.config import Settings
from herald.logs import configure_logging
from tests.support import DatabaseFactory, RunningServer, running


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    configure_logging("warning")
    factory = DatabaseFactory(tmp_path_factory.mktemp("herald-databases"))
    yield factory
    factory.close()


@pytest.fixture
def settings(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at a fresh, migrated database of its own."""
    fresh = database_factory.settings_for(tmp_path / "data")
    yield fresh
    database_factory.drop(fresh)


@pytest.fixture
def server(settings: Settings) -> Iterator[RunningServer]:
    """A real Herald server on a free loopback port, on this test's own database."""
    yield from running(settings)
