"""Provider credentials: which fields are secret, how they are sealed, how they are shown.

The rule, decided per field by name (deny by default):
- Boolean flags (`hmac`, `secure`, `requireTls`, ...) are never secret: kept readable, shown.
- The fields in `PUBLIC_FIELDS` name where and as whom a provider sends (sender address and
  name, host, port, region, domain, header names, response paths, display texts): kept
  readable, shown in full.
- Every other field (API keys, tokens, passwords, user names, account ids, webhook URLs,
  service accounts, TLS options, fields Herald does not know) is secret: all of them are sealed
  together with the master key and only ever shown masked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from herald.kit.crypto import SecretBox

PUBLIC_FIELDS = frozenset(
    {
        "from",
        "senderName",
        "fromAddressOverride",
        "host",
        "port",
        "region",
        "domain",
        "projectName",
        "ipPoolName",
        "apiKeyRequestHeader",
        "secretKeyRequestHeader",
        "idPath",
        "datePath",
        "title",
        "imageUrl",
        "state",
        "externalLink",
        "emailSlugPrefix",
    }
)
MASK = "********"
_SHOWN_SUFFIX = 4
_MIN_LENGTH_FOR_SUFFIX = 12


@dataclass(frozen=True)
class StoredCredentials:
    public: dict[str, Any]
    sealed: str | None


def is_public(field: str, value: Any) -> bool:
    return isinstance(value, bool) or field in PUBLIC_FIELDS


def seal(box: SecretBox, credentials: dict[str, Any]) -> StoredCredentials:
    public = {field: value for field, value in credentials.items() if is_public(field, value)}
    secret = {field: value for field, value in credentials.items() if field not in public}
    return StoredCredentials(public, box.encrypt(json.dumps(secret)) if secret else None)


def unseal(box: SecretBox, stored: StoredCredentials) -> dict[str, Any]:
    secret: dict[str, Any] = json.loads(box.decrypt(stored.sealed)) if stored.sealed else {}
    return {**stored.public, **secret}


def masked(credentials: dict[str, Any]) -> dict[str, Any]:
    """The credentials as answers show them: public fields whole, secret values masked."""
    return {
        field: value if is_public(field, value) else mask_value(value) for field, value in credentials.items()
    }


def mask_value(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    text = str(value)
    if len(text) >= _MIN_LENGTH_FOR_SUFFIX:
        return MASK + text[-_SHOWN_SUFFIX:]
    return MASK


def keep_unchanged_secrets(incoming: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Incoming credentials where a masked value sent back as it was shown keeps the stored secret."""
    return {
        field: current[field]
        if field in current and not is_public(field, value) and value == mask_value(current[field])
        else value
        for field, value in incoming.items()
    }
