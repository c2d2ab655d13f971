"""Work that must wait until a transaction has committed (realtime events, wake-ups).

`after_commit(session, action)` queues an async action on the session; `Database.session`
takes the queue and runs it once the commit succeeded and the session is closed, and drops
it on rollback. An action that fails is
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


def take_after_commit(session: AsyncSession) -> list[AfterCommitAction]:
    actions: list[AfterCommitAction] = session.info.pop(_KEY, [])
    return actions


async def run_actions(actions: list[AfterCommitAction]) -> None:
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("after_commit_action_failed")
