"""The Inbox guard: `Authorization: Bearer <session token>`, and nothing else.

Secret keys are refused here (the Inbox runs in browsers, where no secret key belongs), as
the secret-key guard refuses Bearer tokens on every other route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from herald.auth.dependencies import Box, Session
from herald.errors import HeraldError
from herald.inbox.service import InboxCaller, caller_for_token

INVALID_TOKEN = "Invalid or expired Inbox session token"
MISSING_TOKEN = "Missing authorization header"
WRONG_SCHEME = 'The Inbox accepts only "Authorization: Bearer <session token>"'

session_token_header = APIKeyHeader(
    name="Authorization",
    scheme_name="subscriberSession",
    description='The token of POST /v1/inbox/session: "Authorization: Bearer <token>".',
    auto_error=False,
)


async def require_inbox_session(
    request: Request,
    session: Session,
    box: Box,
    authorization: Annotated[str | None, Security(session_token_header)],
) -> InboxCaller:
    if authorization is None or not authorization.strip():
        raise HeraldError(401, MISSING_TOKEN)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HeraldError(401, WRONG_SCHEME)
    caller = await caller_for_token(session, box, token.strip())
    if caller is None:
        raise HeraldError(401, INVALID_TOKEN)
    request.state.environment_id = caller.scope.environment_id
    return caller


Caller = Annotated[InboxCaller, Depends(require_inbox_session)]
