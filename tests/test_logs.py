"""What the log formatter removes before a line is written: secret fields and secrets in text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from herald.logs import REDACTED, redact_secrets, scrub_text

# The substitutions alone, without the search that lets most texts skip them.
_REFERENCE = [
    (re.compile(r"\b(ApiKey|Bearer|Basic)\s+[^\s\"',;]+", re.I), rf"\1 {REDACTED}"),
    (re.compile(r"((?:token|secret|key|password)=)[^&\s\"']+", re.I), rf"\1{REDACTED}"),
]
_PIECES = ["ApiKey", "bearer", "BASIC", "token", "Secret", "key", "password"]
_PIECES += ["=", " ", "\t", "\n", "&", ",", "x"]


def _reference(text: str) -> str:
    for pattern, replacement in _REFERENCE:
        text = pattern.sub(replacement, text)
    return text


def test_secrets_in_text_are_replaced() -> None:
    assert scrub_text("Authorization: ApiKey sk_live_1") == f"Authorization: ApiKey {REDACTED}"
    assert scrub_text("bearer\tabc.def") == f"bearer {REDACTED}"
    assert scrub_text("GET /x?token=abc&page=2") == f"GET /x?token={REDACTED}&page=2"
    assert scrub_text("PASSWORD=hunter2 at /srv") == f"PASSWORD={REDACTED} at /srv"


def test_text_without_a_secret_is_the_same_object() -> None:
    for text in ("/v1/events/trigger", "POST", "Basically fine", "keyboard=1 is not a key", ""):
        assert scrub_text(text) is text


@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=4)), max_size=12).map("".join))
def test_scrubbing_is_exactly_the_two_substitutions(text: str) -> None:
    assert scrub_text(text) == _reference(text)


def test_secret_fields_are_redacted_at_any_depth() -> None:
    event = {
        "event": "request",
        "authorization": "ApiKey sk_1",
        "api_key": "sk_2",
        "headers": {"X-Secret-Token": "abc", "accept": "application/json"},
        "attempts": [{"password": "hunter2"}, "Bearer xyz"],
        "status": 201,
    }
    assert redact_secrets(None, "info", event) == {
        "event": "request",
        "authorization": REDACTED,
        "api_key": REDACTED,
        "headers": {"X-Secret-Token": REDACTED, "accept": "application/json"},
        "attempts": [{"password": REDACTED}, f"Bearer {REDACTED}"],
        "status": 201,
    }
