"""A `herald worker` whose in-app step stalls after storing its message (before the job's
transaction commits), so that a test can kill the process in the middle of a job.

Run: `python -m tests.engine.slow_worker <marker-file>`; it writes the marker when it stalls.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from herald.config import Settings
from herald.db import Database
from herald.engine.process import serve_worker
from herald.engine.steps.base import StepContext, StepOutcome
from herald.engine.steps.in_app import run_in_app_step
from herald.engine.steps.registry import STEP_EXECUTORS
from herald.kit.crypto import SecretBox, load_master_key
from herald.logs import configure_logging
from herald.startup import prepare_installation


def main(marker: Path) -> None:
    settings = Settings()
    configure_logging(settings.log_level)

    async def stalling_in_app_step(ctx: StepContext) -> StepOutcome:
        outcome = await run_in_app_step(ctx)
        await ctx.session.flush()
        marker.write_text(ctx.job_id)
        await asyncio.sleep(3600)
        return outcome

    async def run() -> None:
        database = Database(settings)
        try:
            await prepare_installation(database, SecretBox(load_master_key(settings)))
            await serve_worker(database, settings, {**STEP_EXECUTORS, "in_app": stalling_in_app_step})
        finally:
            await database.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
