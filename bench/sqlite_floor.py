"""Benchmark: what SQLite itself costs for the rows one trigger stores, without Herald's Python.

Herald stores the trigger of `bench/triggers.py` (its workflow: one in-app step) and runs that
step. The script then copies exactly the rows that trigger left (event, notification, job,
message, execution detail: the real columns, JSON and sizes) and stores them again and again
with fresh ids through the bare `sqlite3` module: `executemany` per table, a group of triggers
per transaction as the trigger intake's group commit does, on a copy of the migrated database
with Herald's pragmas. Timed apart: the inserts (SQLite's record encoding, every index entry,
the foreign-key checks) and the commit (the write-ahead log's frames).

The baseline, measured in the same run, is the same rows in the same transactions on a copy
without secondary indexes and with foreign keys off: the ratio is what the schema's indexes
and checks cost on top of the rows.

    python bench/sqlite_floor.py                    # 16 and 100 triggers per transaction
    python bench/sqlite_floor.py --groups 50        # 50 per transaction
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.support import DatabaseFactory, start_server
from triggers import TRIGGER as BENCH_TRIGGER
from triggers import WORKFLOW

from herald.kit.ids import new_ids
from herald.logs import configure_logging

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TEMPLATE_TRANSACTION = "floor-template"
TRIGGER = {**BENCH_TRIGGER, "transactionId": TEMPLATE_TRANSACTION}
# Each table's rows of the template trigger, found from the event down.
ROW_QUERIES = {
    "events": "SELECT * FROM events WHERE transaction_id = :tx",
    "notifications": "SELECT * FROM notifications WHERE transaction_id = :tx",
    "jobs": "SELECT * FROM jobs WHERE transaction_id = :tx",
    "messages": "SELECT * FROM messages WHERE transaction_id = :tx",
    "execution_details": (
        "SELECT * FROM execution_details WHERE notification_id IN "
        "(SELECT id FROM notifications WHERE transaction_id = :tx)"
    ),
}
Template = dict[str, tuple[list[str], list[tuple[Any, ...]]]]
"""Each table's column names and the template trigger's rows in it."""
TriggerRows = dict[str, list[tuple[Any, ...]]]
"""One trigger's rows, by table."""
PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def store_template_trigger(work_dir: Path) -> Path:
    """A migrated database holding one trigger stored and run by Herald itself."""
    factory = DatabaseFactory(work_dir)
    settings = factory.settings_for(work_dir / "data")
    server = start_server(settings)
    try:
        with server.client() as client:
            assert client.post("/v2/workflows", json=WORKFLOW).status_code == 201
            assert client.post("/v2/subscribers", json={"subscriberId": "subscriber-1"}).status_code == 201
            assert client.post("/v1/events/trigger", json=TRIGGER).status_code == 201
            deadline = time.monotonic() + 30
            while not client.get("/v1/messages", params={"transactionId": TEMPLATE_TRANSACTION}).json()[
                "data"
            ]:
                if time.monotonic() > deadline:
                    raise RuntimeError("the template trigger's in-app message was not stored")
                time.sleep(0.05)
    finally:
        server.stop()
    return next((work_dir / "data").glob("*.db"))


def template_rows(database: Path) -> Template:
    connection = sqlite3.connect(database)
    try:
        rows: Template = {}
        for table, query in ROW_QUERIES.items():
            cursor = connection.execute(query, {"tx": TEMPLATE_TRANSACTION})
            rows[table] = ([column[0] for column in cursor.description], cursor.fetchall())
        return rows
    finally:
        connection.close()


def copies(template: Template, count: int) -> list[TriggerRows]:
    """`count` copies of the template trigger's rows, each with ids and a transaction id of its
    own (ids inside JSON, such as a job's arguments, renewed too)."""
    old_ids = sorted(
        {row[columns.index("id")] for columns, rows in template.values() for row in rows}, reverse=True
    )
    made: list[TriggerRows] = []
    for number in range(count):
        renamed = dict(zip(old_ids, new_ids(len(old_ids)), strict=True))
        renamed[TEMPLATE_TRANSACTION] = f"floor-{number}"

        def renew(value: Any, renamed: dict[str, str] = renamed) -> Any:
            if not isinstance(value, str):
                return value
            for old, new in renamed.items():
                value = value.replace(old, new)
            return value

        made.append(
            {
                table: [tuple(renew(value) for value in row) for row in rows]
                for table, (_, rows) in template.items()
            }
        )
    return made


def prepare_copy(database: Path, target: Path, bare: bool) -> tuple[int, int]:
    """A copy of the database (with its WAL checkpointed in); `bare` drops the stored tables'
    secondary indexes. The index and foreign-key counts of those tables."""
    source = sqlite3.connect(database)
    source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(database, target)
    connection = sqlite3.connect(target, isolation_level=None)
    try:
        tables = ", ".join(f"'{table}'" for table in ROW_QUERIES)
        indexes = connection.execute(
            f"SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({tables})"
        ).fetchall()
        foreign_keys = sum(
            len(connection.execute(f"PRAGMA foreign_key_list({table})").fetchall()) for table in ROW_QUERIES
        )
        if bare:
            for (name,) in indexes:
                if not name.startswith("sqlite_autoindex"):
                    connection.execute(f'DROP INDEX "{name}"')
        return len(indexes), foreign_keys
    finally:
        connection.close()


def store(
    target: Path,
    columns: dict[str, list[str]],
    triggers: list[TriggerRows],
    group: int,
    foreign_keys: bool,
) -> tuple[float, float]:
    """Seconds spent in the inserts and in the commits."""
    connection = sqlite3.connect(target, isolation_level=None)
    for pragma in (*PRAGMAS, f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}"):
        connection.execute(pragma)
    statements = {
        table: f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        for table, names in columns.items()
    }
    inserting = committing = 0.0
    try:
        for start in range(0, len(triggers), group):
            batch = triggers[start : start + group]
            rows = {table: [row for trigger in batch for row in trigger[table]] for table in statements}
            began = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            for table, statement in statements.items():
                connection.executemany(statement, rows[table])
            inserted = time.perf_counter()
            connection.execute("COMMIT")
            inserting += inserted - began
            committing += time.perf_counter() - inserted
    finally:
        connection.close()
    return inserting, committing


def _size(template: Template) -> int:
    return sum(
        len(str(value)) for _, rows in template.values() for row in rows for value in row if value is not None
    )


def measure(
    database: Path,
    target: Path,
    columns: dict[str, list[str]],
    triggers: list[TriggerRows],
    group: int,
    rounds: int,
) -> dict[str, tuple[float, float]]:
    """The best (inserts, commit) seconds of each variant over alternated rounds."""
    best: dict[str, tuple[float, float]] = {}
    for _ in range(rounds):
        for name, bare in (("Herald's schema", False), ("bare rows", True)):
            prepare_copy(database, target, bare)
            timed = store(target, columns, triggers, group, foreign_keys=not bare)
            if name not in best or sum(timed) < sum(best[name]):
                best[name] = timed
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--triggers", type=int, default=20_000)
    parser.add_argument(
        "--groups", type=int, nargs="+", default=[16, 100], help="triggers per transaction, each measured"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternated runs of each; the best is reported")
    args = parser.parse_args()
    configure_logging("warning")
    work_dir = Path(tempfile.mkdtemp(prefix="herald-floor-"))
    try:
        database = store_template_trigger(work_dir)
        template = template_rows(database)
        columns = {table: names for table, (names, _) in template.items()}
        triggers = copies(template, args.triggers)
        target = work_dir / "floor.db"
        indexes, foreign_keys = prepare_copy(database, target, bare=False)
        lines = [
            f"SQLite floor of one trigger's rows ({sum(len(rows) for _, rows in template.values())} rows: "
            + ", ".join(f"{len(rows)} {table}" for table, (_, rows) in template.items())
            + f"; {_size(template):,} bytes of values"
            + f"; {indexes} indexes and {foreign_keys} foreign keys on those tables), "
            f"{args.triggers:,} triggers, best of {args.rounds}",
            "budget for 20,000 events/s on one core, everything included: 50.0 us per event",
        ]
        per = 1e6 / args.triggers
        for group in args.groups:
            results = measure(database, target, columns, triggers, group, args.rounds)
            for name, (inserting, committing) in results.items():
                lines.append(
                    f"{group} per transaction, {name}: inserts {inserting * per:.1f} us + commit "
                    f"{committing * per:.1f} us = {(inserting + committing) * per:.1f} us per trigger"
                )
            schema, bare_rows = (sum(results[name]) for name in ("Herald's schema", "bare rows"))
            lines.append(
                f"{group} per transaction, indexes and foreign keys: {schema / bare_rows:.2f}x the bare rows"
            )
            print("\n".join(lines[-3:]), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "sqlite_floor.txt").write_text("\n".join(lines) + "\n")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
