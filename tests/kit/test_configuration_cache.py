"""Configuration caches: a value counts only while no configuration change has committed since
it was read, in any process on the database (`herald.kit.configuration_cache`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from herald.config import Settings
from herald.db import Database
from herald.kit.configuration_cache import ConfigurationCache, SharedGeneration
from herald.models import ApiKey, Organization, Subscriber
from tests.support import POSTGRES_URL


def test_a_value_counts_until_another_mapping_of_the_file_advances(tmp_path: Path) -> None:
    path = str(tmp_path / "generation")
    mine, theirs = SharedGeneration(path), SharedGeneration(path)  # as two processes map it
    cache: ConfigurationCache[str] = ConfigurationCache(mine)
    cache.put("key", "value", cache.token())
    assert cache.get("key") == "value"
    theirs.advance()
    assert cache.get("key") is None


def test_a_value_read_before_a_change_is_not_kept(tmp_path: Path) -> None:
    generation = SharedGeneration(str(tmp_path / "generation"))
    cache: ConfigurationCache[str] = ConfigurationCache(generation)
    token = cache.token()
    generation.advance()  # a change committed while the value was being read
    cache.put("key", "old value", token)
    assert cache.get("key") is None


def test_a_value_expires_after_its_time_to_live(tmp_path: Path) -> None:
    cache: ConfigurationCache[str] = ConfigurationCache(
        SharedGeneration(str(tmp_path / "g")), ttl_seconds=0.05
    )
    cache.put("key", "value", cache.token())
    time.sleep(0.1)
    assert cache.get("key") is None


def test_without_a_shared_generation_nothing_is_kept() -> None:
    cache: ConfigurationCache[str] = ConfigurationCache(None)
    cache.put("key", "value", cache.token())
    assert cache.get("key") is None


@pytest.mark.skipif(POSTGRES_URL is not None, reason="PostgreSQL keeps no configuration cache")
def test_commits_that_change_configuration_advance_the_generation(settings: Settings) -> None:
    async def scenario() -> None:
        database = Database(settings)
        cache = database.configuration_cache("test")
        try:

            async def kept_after(change: object) -> bool:
                cache.put("key", "value", cache.token())
                async with database.session(write=True) as session:
                    await session.execute(change)  # type: ignore[call-overload]
                return cache.get("key") == "value"

            assert await kept_after(update(Subscriber).values(locale="fr"))
            assert await kept_after(select(ApiKey.id))
            assert not await kept_after(update(ApiKey).values(key_sealed=ApiKey.key_sealed))
            cache.put("key", "value", cache.token())
            async with database.session(write=True) as session:  # an ORM flush
                session.add(Organization(name="Another", slug="another"))
            assert cache.get("key") is None
            cache.put("key", "value", cache.token())
            with pytest.raises(RuntimeError):
                async with database.session(write=True) as session:
                    await session.execute(update(ApiKey).values(key_sealed=ApiKey.key_sealed))
                    raise RuntimeError("rolled back")
            assert cache.get("key") == "value"
        finally:
            await database.dispose()

    asyncio.run(scenario())
