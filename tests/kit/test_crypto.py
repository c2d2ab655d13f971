from __future__ import annotations

import stat
from pathlib import Path

import pytest

from herald.config import Settings
from herald.kit.crypto import MasterKeyError, SecretBox, load_master_key, lookup_hash


def test_round_trip_and_fresh_nonces() -> None:
    box = SecretBox("m" * 40)
    first, second = box.encrypt("secret-value"), box.encrypt("secret-value")
    assert first != second
    assert box.decrypt(first) == box.decrypt(second) == "secret-value"
    assert "secret-value" not in first


def test_another_master_key_cannot_open_it() -> None:
    sealed = SecretBox("a" * 40).encrypt("secret-value")
    with pytest.raises(MasterKeyError) as raised:
        SecretBox("b" * 40).decrypt(sealed)
    assert "secret-value" not in str(raised.value)


def test_repr_hides_the_key() -> None:
    assert "m" * 40 not in repr(SecretBox("m" * 40))


def test_lookup_hash_is_sha256_hex() -> None:
    assert lookup_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_embedded_default_generates_a_private_key_file_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", master_key=None, database_url=None)
    first = load_master_key(settings)
    assert load_master_key(settings) == first and len(first) >= 32
    mode = (tmp_path / "data" / "master.key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_external_database_requires_a_master_key(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, master_key=None, database_url="postgresql+asyncpg://u@127.0.0.1/db"
    )
    with pytest.raises(MasterKeyError, match="HERALD_MASTER_KEY is required"):
        load_master_key(settings)


def test_short_master_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="at least 32"):
        load_master_key(Settings(data_dir=tmp_path, master_key="short"))


def test_settings_repr_hides_the_master_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, master_key="z" * 40, redis_url="redis://:pw-123@127.0.0.1/0")
    assert "z" * 40 not in repr(settings) and "pw-123" not in repr(settings)
