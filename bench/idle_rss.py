"""Benchmark: resident memory of an idle `herald serve` (embedded SQLite).

Starts `herald serve` (the program beside this interpreter, rate limits as configured by
default), waits until GET /v1/health-check answers, lets it settle for a second and reads VmRSS
from /proc/<pid>/status, then stops it. Two cases, each started `--runs` times: a fresh data
directory (the server migrates and bootstraps it) and a restart on an existing one.

    .venv/bin/python bench/idle_rss.py             # 3 runs per case
    .venv/bin/python bench/idle_rss.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import TEST_MASTER_KEY, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "idle_rss.txt"
HERALD = Path(sys.executable).parent / "herald"
TARGET_MB = 150


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def idle_rss(data_dir: Path) -> float:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    environment.update(
        HERALD_DATA_DIR=str(data_dir), HERALD_MASTER_KEY=TEST_MASTER_KEY, HERALD_LOG_LEVEL="warning"
    )
    port = free_port()
    server = subprocess.Popen(
        [str(HERALD), "serve", "--port", str(port)], env=environment, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError("server exited")
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/health-check", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        time.sleep(1)
        return rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work_dir = Path(tempfile.mkdtemp(prefix="herald-rss-"))
    try:
        fresh = [idle_rss(work_dir / f"fresh-{run}") for run in range(args.runs)]
        existing = work_dir / "fresh-0"
        restart = [idle_rss(existing) for _ in range(args.runs)]
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    lines = [
        f"Idle RSS of herald serve (embedded SQLite; target < {TARGET_MB} MB), {args.runs} runs each",
        "fresh data directory: " + ", ".join(f"{value:.1f}" for value in fresh) + " MB",
        "restart on it:        " + ", ".join(f"{value:.1f}" for value in restart) + " MB",
    ]
    print("\n".join(lines))
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
