"""Fresh credentials: secret keys (32 hex chars) and application identifiers (12 chars)."""

from __future__ import annotations

import re
import secrets
import string

_IDENTIFIER_ALPHABET = string.ascii_letters + string.digits
SECRET_KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def new_secret_key() -> str:
    return secrets.token_hex(16)


def new_application_identifier() -> str:
    return "".join(secrets.choice(_IDENTIFIER_ALPHABET) for _ in range(12))


def looks_like_secret_key(value: str) -> bool:
    return bool(SECRET_KEY_PATTERN.match(value))
