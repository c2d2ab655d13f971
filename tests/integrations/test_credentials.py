"""The credential rule: which fields are sealed and how answers show them."""

from herald.integrations import credentials
from herald.kit.crypto import SecretBox
from tests.support import TEST_MASTER_KEY

BOX = SecretBox(TEST_MASTER_KEY)


def test_secret_fields_are_sealed_and_public_ones_stay_readable() -> None:
    given = {"apiKey": "abcdefghijklmnop", "from": "a@example.com", "hmac": True, "webhookUrl": "https://x/y"}
    stored = credentials.seal(BOX, given)
    assert stored.public == {"from": "a@example.com", "hmac": True}
    assert stored.sealed is not None
    assert "abcdefghijklmnop" not in stored.sealed
    assert "https://x/y" not in stored.sealed
    assert credentials.unseal(BOX, stored) == given


def test_nothing_is_sealed_without_secret_fields() -> None:
    stored = credentials.seal(BOX, {"hmac": False})
    assert stored.sealed is None
    assert credentials.unseal(BOX, stored) == {"hmac": False}


def test_masking_keeps_only_the_last_four_characters_of_long_values() -> None:
    shown = credentials.masked(
        {
            "apiKey": "abcdefghijklmnop",
            "password": "short",
            "unknownField": "0123456789abcdef",
            "tlsOptions": {"key": "-----BEGIN PRIVATE KEY-----xyz1", "rejectUnauthorized": False},
            "region": "eu-west-1",
            "secure": True,
        }
    )
    assert shown == {
        "apiKey": "********mnop",
        "password": "********",
        "unknownField": "********cdef",
        "tlsOptions": {"key": "********xyz1", "rejectUnauthorized": False},
        "region": "eu-west-1",
        "secure": True,
    }


def test_a_masked_value_sent_back_keeps_the_stored_secret() -> None:
    current = {"apiKey": "abcdefghijklmnop", "user": "admin-user"}
    incoming = {"apiKey": "********mnop", "user": "new-admin", "from": "b@example.com"}
    assert credentials.keep_unchanged_secrets(incoming, current) == {
        "apiKey": "abcdefghijklmnop",
        "user": "new-admin",
        "from": "b@example.com",
    }
