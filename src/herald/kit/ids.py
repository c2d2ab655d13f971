"""Resource ids shaped like Novu's (MongoDB ObjectIds): 24 hex chars, ordered by time."""

from __future__ import annotations

import itertools
import os
import re
import threading
import time

_PROCESS_RANDOM = os.urandom(5)
_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_counter_lock = threading.Lock()
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def new_id() -> str:
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """`count` new ids at once: 4 bytes of seconds, 5 random bytes per process, a 3-byte counter."""
    with _counter_lock:
        counts = [next(_counter) & 0xFFFFFF for _ in range(count)]
    prefix = int(time.time()).to_bytes(4, "big") + _PROCESS_RANDOM
    return [(prefix + count.to_bytes(3, "big")).hex() for count in counts]


def is_object_id(value: str) -> bool:
    return bool(_OBJECT_ID.match(value))


_random_pool = bytearray()
_RANDOM_POOL_SIZE = 4096
_RANDOM_BYTES = 8


def time_ordered_uuids(count: int) -> list[str]:
    """`count` version 7 UUIDs (RFC 9562) in their canonical text: a trigger without a
    transactionId gets one. Version 7 rather than Novu's random version 4 because the
    transactionId is indexed in four tables (events, notifications, jobs, messages): random keys
    put each insert on another page of those indexes, and a table of 250,000 events took ~40 us
    per row to commit that way, against ~3 with ids in time order (bench/results/triggers.txt).

    48 bits of Unix milliseconds, then (as `rand_a`) 12 bits of the fraction of the
    millisecond, so that ids made one after another land next to each other in an index,
    then 62 random bits. The ids of one call share their first 64 bits (a bulk request's
    triggers); they differ in the random ones. The random bytes come from the system's random
    source a pool at a time (one system call per 512 ids: a call per id took a tenth of a busy
    server's time under bulk triggers), and the text is made by slicing one hex string, with
    no UUID object made (formatting each id from integers took 5% of a bulk request)."""
    milliseconds, fraction = divmod(time.time_ns(), 1_000_000)
    head = (milliseconds << 16) | 0x7000 | (fraction * 4096 // 1_000_000)
    wanted = count * _RANDOM_BYTES
    with _counter_lock:
        if len(_random_pool) < wanted:
            _random_pool.extend(os.urandom(max(_RANDOM_POOL_SIZE, wanted)))
        tails = _random_pool[-wanted:]
        del _random_pool[-wanted:]
    for variant in range(0, wanted, _RANDOM_BYTES):
        tails[variant] = (tails[variant] & 0x3F) | 0x80
    text = tails.hex()
    prefix = f"{head >> 32:08x}-{(head >> 16) & 0xFFFF:04x}-{head & 0xFFFF:04x}-"
    return [f"{prefix}{text[at : at + 4]}-{text[at + 4 : at + 16]}" for at in range(0, 2 * wanted, 16)]
