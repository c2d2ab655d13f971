"""Work that must wait until a transaction has committed (realtime events, wake-ups).

`after_commit(session, action)` queues an async action on the session; `Database.session`
runs the queue once the commit succeeded, and drops it on rollback. An action that fails is
logged and never fails the request or job whose transaction already committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger("herald.after_commit")
AfterCommitAction = Callable[[], Awaitable[None]]
_KEY = "herald_after_commit"


def after_commit(session: AsyncSession, action: AfterCommitAction) -> None:
    session.info.setdefault(_KEY, []).append(action)


def discard_after_commit(session: AsyncSession) -> None:
    session.info.pop(_KEY, None)


async def run_after_commit(session: AsyncSession) -> None:
    actions: list[AfterCommitAction] = session.info.pop(_KEY, [])
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("after_commit_action_failed")
