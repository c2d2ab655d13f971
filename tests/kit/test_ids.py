"""Ids: time-ordered UUIDs in their canonical text."""

from __future__ import annotations

import time
import uuid

from herald.kit.ids import time_ordered_uuids


def test_time_ordered_uuids_are_canonical_version_7_distinct_and_in_order() -> None:
    before = time.time_ns() // 1_000_000
    made = [time_ordered_uuids(1)[0] for _ in range(2000)]  # one call each: a trigger's own
    after = time.time_ns() // 1_000_000
    parsed = [uuid.UUID(text) for text in made]
    for text, value in zip(made, parsed, strict=True):
        assert (value.version, value.variant) == (7, uuid.RFC_4122)
        assert str(value) == text
        assert before <= value.int >> 80 <= after  # the Unix milliseconds
    assert len(set(made)) == len(made)
    # The time and the fraction of the millisecond (the first 64 bits) never go back.
    heads = [value.int >> 64 for value in parsed]
    assert heads == sorted(heads)


def test_the_uuids_made_together_share_their_time_and_differ_in_their_random_bits() -> None:
    before = time.time_ns() // 1_000_000
    made = time_ordered_uuids(1000)  # more than one pool of random bytes holds
    parsed = [uuid.UUID(text) for text in made]
    assert all((value.version, value.variant) == (7, uuid.RFC_4122) for value in parsed)
    assert [str(value) for value in parsed] == made
    assert len({value.int >> 64 for value in parsed}) == 1
    assert before <= parsed[0].int >> 80 <= time.time_ns() // 1_000_000
    assert len(set(made)) == len(made)
    assert time_ordered_uuids(1)[0] not in made
