"""Secrets at rest: AES-GCM under the master key, and SHA-256 lookup hashes."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from herald.config import Settings

MASTER_KEY_FILE = "master.key"
_NONCE_BYTES = 12


class MasterKeyError(RuntimeError):
    """The master key is missing where it must be given, or does not open the stored secrets."""


class SecretBox:
    """Encrypts and decrypts small secrets. Its repr never shows the key."""

    __slots__ = ("_aead",)

    def __init__(self, master_key: str) -> None:
        derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"herald secrets v1").derive(
            master_key.encode()
        )
        self._aead = AESGCM(derived)

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, token: str) -> str:
        raw = base64.urlsafe_b64decode(token.encode())
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None).decode()
        except InvalidTag:
            raise MasterKeyError(
                "A stored secret could not be decrypted: HERALD_MASTER_KEY is not the key it was sealed with"
            ) from None


def lookup_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def load_master_key(settings: Settings) -> str:
    """The configured master key; for the embedded default, one generated once into the data dir."""
    if settings.master_key is not None:
        value = settings.master_key.get_secret_value()
        if len(value) < 32:
            raise MasterKeyError("HERALD_MASTER_KEY must be at least 32 characters long")
        return value
    if not settings.uses_embedded_database:
        raise MasterKeyError(
            "HERALD_MASTER_KEY is required when HERALD_DATABASE_URL is set; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return _read_or_create_key_file(settings.data_dir / MASTER_KEY_FILE)


def _read_or_create_key_file(path: Path) -> str:
    """Create the key file atomically (link of a finished temp file), so racing starts agree."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()
