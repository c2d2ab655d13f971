"""Caches of configuration (which environment a secret key opens, a workflow's definition) that
stay exact across every process of an embedded database.

Every request reads its secret key and every trigger its workflow; on SQLite under load each
of those reads costs as much as a tenth of the request (another connection's commit empties
the reading connection's page cache, so the read goes back to the file, with its locks). Both
change rarely, and a change must count at once: a regenerated key stops opening its
environment the moment the regeneration answers, in every process on the database.

So: the database file has a sibling, `<file>-herald-generation`, of eight bytes that every
process maps into memory (`SharedGeneration`). A session that changed a configuration table
(an ORM flush of one of its rows, or an INSERT, UPDATE or DELETE statement on it) writes new
random bytes there once its transaction has committed, before its request answers; a cached
value counts only while those bytes are the ones seen just before it was read from the
database. Reading them is a memory access, no system call. A process that dies between its
commit and that write leaves other processes a stale value, so an entry also expires
`TTL_SECONDS` after its read: the bound of staleness in that one case.

PostgreSQL servers may run on several machines, where no file is shared: there (and for a
database with no file) nothing is cached and every use reads the database.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Hashable
from itertools import chain
from typing import Any, Generic, NamedTuple, TypeVar

import structlog
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

log = structlog.get_logger("herald.configuration_cache")
V = TypeVar("V")
TTL_SECONDS = 1.0
_MAX_ENTRIES = 10_000
_WIDTH = 8
_GENERATION_KEY = "herald_shared_generation"
_CHANGED_KEY = "herald_configuration_changed"
_TABLES_KEY = "herald_configuration_tables"


class SharedGeneration:
    """Eight bytes in a file mapped by every process on one database; new ones after each
    committed configuration change."""

    def __init__(self, path: str) -> None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < _WIDTH:
                os.ftruncate(descriptor, _WIDTH)
            self._map = mmap.mmap(descriptor, _WIDTH)
        finally:
            os.close(descriptor)

    @classmethod
    def beside(cls, database_file: str) -> SharedGeneration | None:
        """The generation of this database file, or None (no caching) if it cannot be mapped."""
        try:
            return cls(f"{database_file}-herald-generation")
        except OSError as error:
            log.warning("configuration_cache_off", reason=str(error))
            return None

    def current(self) -> bytes:
        return b"" if self._map.closed else self._map[:_WIDTH]

    def advance(self) -> None:
        if not self._map.closed:
            self._map[:_WIDTH] = os.urandom(_WIDTH)

    def close(self) -> None:
        self._map.close()


class ReadToken(NamedTuple):
    """What was current just before a value was read from the database."""

    generation: bytes
    read_at: float


class ConfigurationCache(Generic[V]):
    """Values read from the database, each kept while no configuration change has committed
    since it was read (and for `TTL_SECONDS` at most). Without a shared generation, nothing."""

    def __init__(self, generation: SharedGeneration | None, ttl_seconds: float = TTL_SECONDS) -> None:
        self._generation = generation
        self._ttl_seconds = ttl_seconds
        self._entries: dict[Hashable, tuple[V, ReadToken]] = {}

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None or self._generation is None:
            return None
        value, token = entry
        if (
            token.generation != self._generation.current()
            or time.monotonic() - token.read_at >= self._ttl_seconds
        ):
            del self._entries[key]
            return None
        return value

    def token(self) -> ReadToken | None:
        """Take it before reading the value that `put` will keep."""
        if self._generation is None:
            return None
        return ReadToken(self._generation.current(), time.monotonic())

    def put(self, key: Hashable, value: V, token: ReadToken | None) -> None:
        if token is None:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (value, token)


def track_configuration_changes(
    session_class: type[Session], info: dict[str, Any], generation: SharedGeneration, tables: frozenset[str]
) -> None:
    """Make sessions whose `info` holds what this sets advance `generation` after a commit that
    changed one of `tables`. The listeners are on `session_class`; sessions without that
    info (another database's) are left alone. A change noted in a transaction that then rolled
    back advances it at the session's next commit: a needless re-read, never a stale value."""
    info[_GENERATION_KEY] = generation
    info[_TABLES_KEY] = tables
    if not event.contains(session_class, "after_flush", _note_flushed_change):
        event.listen(session_class, "after_flush", _note_flushed_change)
        event.listen(session_class, "do_orm_execute", _note_statement_change)
        event.listen(session_class, "after_commit", _advance_after_commit)


def _note_flushed_change(session: Session, _flush: UOWTransaction) -> None:
    tables: frozenset[str] | None = session.info.get(_TABLES_KEY)
    if tables is None or session.info.get(_CHANGED_KEY):
        return
    for instance in chain(session.new, session.dirty, session.deleted):
        table = getattr(type(instance), "__tablename__", None)
        if table in tables:
            session.info[_CHANGED_KEY] = True
            return


def _note_statement_change(state: ORMExecuteState) -> None:
    tables: frozenset[str] | None = state.session.info.get(_TABLES_KEY)
    if tables is None or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in tables:
        state.session.info[_CHANGED_KEY] = True


def _advance_after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED_KEY, False):
        generation: SharedGeneration = session.info[_GENERATION_KEY]
        generation.advance()
