"""Worker processes: `herald worker` beside an API-only server, killed mid-job, competing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from herald.config import Settings
from herald.engine.dispatch import STEP_JOB
from herald.models import ExecutionDetail, Job, Message
from tests.engine.helpers import Rows, create_workflow, in_app, wait_for
from tests.support import TEST_MASTER_KEY, RunningServer

_STEPS = Job.kind == STEP_JOB

REPOSITORY = Path(__file__).resolve().parents[2]


def _environment(settings: Settings, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("HERALD_")}
    environment.update(
        HERALD_DATA_DIR=str(settings.data_dir),
        HERALD_MASTER_KEY=TEST_MASTER_KEY,
        HERALD_LOG_LEVEL="info",
        HERALD_WORKER_POLL_SECONDS="0.2",
        PYTHONPATH=str(REPOSITORY),
        **extra,
    )
    if settings.database_url:
        environment["HERALD_DATABASE_URL"] = settings.database_url
    return environment


def _spawn(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args],
        env=_environment(settings, **extra),
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _started(process: subprocess.Popen[bytes]) -> None:
    """Wait until the worker logs that it runs (its SIGTERM handler is then installed)."""
    stderr = process.stderr
    assert stderr is not None
    os.set_blocking(stderr.fileno(), False)
    seen = bytearray()

    def check() -> bool:
        seen.extend(stderr.read() or b"")
        return b"worker_started" in seen

    wait_for(check, "the worker to start")


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Graceful stop (SIGTERM); returns the exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_a_worker_killed_mid_job_loses_its_lease_and_the_job_runs_once_more(
    queued_api: RunningServer, tmp_path: Path
) -> None:
    with queued_api.client() as client:
        create_workflow(client, "kill", [in_app(body="exactly once")])
        response = client.post(
            "/v1/events/trigger", json={"name": "kill", "to": "a", "transactionId": "tx-kill"}
        )
        assert response.status_code == 201
    marker = tmp_path / "stalled"
    slow = _spawn(
        queued_api.settings, "-m", "tests.engine.slow_worker", str(marker), HERALD_WORKER_LEASE_SECONDS="2"
    )
    try:
        job_id = wait_for(lambda: marker.exists() and marker.read_text(), "the slow worker to stall mid-job")
        rows = Rows(queued_api.settings)
        [job] = rows.jobs(Job.id == job_id)
        assert job.status == "running" and job.attempts == 1
        assert rows.messages() == []  # stored, but not committed
    finally:
        slow.kill()
        slow.wait(timeout=30)
    assert slow.returncode == -signal.SIGKILL

    worker = _spawn(queued_api.settings, "-m", "herald", "worker", HERALD_WORKER_LEASE_SECONDS="2")
    _started(worker)
    try:
        rows.settled("tx-kill")
    finally:
        assert _stop(worker) == 0
    messages = rows.messages(Message.transaction_id == "tx-kill")
    assert [m.content for m in messages] == ["exactly once"]
    [job] = rows.jobs(Job.id == job_id)
    assert job.status == "completed" and job.attempts == 2
    assert len([d for d in rows.details() if d.job_id == job_id]) == 1


def test_two_workers_never_run_the_same_job(api_only: RunningServer) -> None:
    workers = [_spawn(api_only.settings, "-m", "herald", "worker") for _ in range(2)]
    for worker in workers:
        _started(worker)
    try:
        with api_only.client() as client:
            create_workflow(client, "race", [in_app("First", body="1"), in_app("Second", body="2")])
            events = [{"name": "race", "to": f"s{i}", "transactionId": f"tx-race-{i}"} for i in range(60)]
            response = client.post("/v1/events/trigger/bulk", json={"events": events})
            assert response.status_code == 201
        rows = Rows(api_only.settings)
        wait_for(
            lambda: (
                (all(job.status == "completed" for job in rows.jobs()) and len(rows.jobs(_STEPS)) == 120)
                or None
            ),
            "every job to complete",
            timeout=120,
        )
    finally:
        codes = [_stop(worker) for worker in workers]
    assert codes == [0, 0]
    jobs = rows.jobs()
    assert {job.attempts for job in jobs} == {1}
    messages = rows.messages()
    assert len(messages) == 120 and len({m.job_id for m in messages}) == 120
    per_job = Counter(d.job_id for d in rows.details(ExecutionDetail.status == "Success"))
    assert set(per_job.values()) == {1}
    owners = Counter(job.lease_owner.rsplit("/", 1)[0] for job in jobs if job.lease_owner)
    print("jobs per worker:", dict(owners))
