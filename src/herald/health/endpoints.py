"""`GET /v1/health-check`: needs no key; checks that the database answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from herald.db import Database
from herald.kit.time import iso_now

router = APIRouter(tags=["Health"])


@router.get("/v1/health-check", operation_id="HealthController_healthCheck")
async def health_check(request: Request) -> JSONResponse:
    """Liveness and database reachability. Public: no secret key needed."""
    database: Database = request.app.state.database
    if not await database.ping():
        body = {"status": "error", "info": {}, "error": {"db": {"status": "down"}}, "details": {}}
        return JSONResponse({"data": body, "timestamp": iso_now()}, status_code=503)
    up = {"db": {"status": "up"}}
    return JSONResponse({"data": {"status": "ok", "info": up, "error": {}, "details": up}})
