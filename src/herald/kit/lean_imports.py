"""Loading, in the `herald` program, libraries whose optional extras Herald never uses.

Some libraries import every optional package they could use when they are installed: the
Socket.IO and Engine.IO packages import their client transports (requests, aiohttp) and
structlog imports rich for its console renderer and tracebacks. Herald only runs their servers
and renders JSON logs, yet those imports would hold some 15 MB of a `herald serve` process's
memory. The `herald` program therefore loads those libraries once, first, with the extras
hidden: each library sees the package as not installed (its own fallback for that case). The
extras stay importable by anything else afterwards. Tests and other programs that import Herald
do not go through here, so e.g. a test's Socket.IO client keeps its aiohttp transport.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LIBRARIES = ("socketio", "engineio", "structlog")
UNUSED_EXTRAS = ("requests", "aiohttp", "rich")


@contextmanager
def hidden(names: tuple[str, ...]) -> Iterator[None]:
    """Within the block, importing any of `names` that is not loaded yet raises ImportError."""
    hiding = [name for name in names if name not in sys.modules]
    for name in hiding:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not installed"
    try:
        yield
    finally:
        for name in hiding:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def load_libraries_without_unused_extras() -> None:
    """Import LIBRARIES with UNUSED_EXTRAS hidden; a no-op for a library already loaded."""
    if all(library in sys.modules for library in LIBRARIES):
        return
    with hidden(UNUSED_EXTRAS):
        for library in LIBRARIES:
            importlib.import_module(library)
