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


def random_uuid() -> str:
    """A random (version 4) UUID in its canonical text, as `str(uuid.uuid4())` gives it: a
    trigger without a transactionId gets one. The bytes come from the system's random source a
    pool at a time (one system call per 256 UUIDs: a call per UUID took a tenth of a busy
    server's time under bulk triggers), with no UUID object made."""
    with _counter_lock:
        if not _random_pool:
            _random_pool.extend(os.urandom(_RANDOM_POOL_SIZE))
        raw = _random_pool[-16:]
        del _random_pool[-16:]
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
