"""The ASGI application: routers, middleware and error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from herald import __version__
from herald.auth.dependencies import require_secret_key
from herald.config import Settings
from herald.db import Database
from herald.environments.endpoints import router as environments_router
from herald.errors import index_route_methods, install_error_handlers
from herald.health.endpoints import router as health_router
from herald.kit.crypto import SecretBox, load_master_key
from herald.middleware.body_limit import BodyLimitMiddleware
from herald.middleware.request_context import RequestContextMiddleware
from herald.startup import prepare_installation
from herald.workflows.endpoints import router as workflows_router

SECRET_KEY_ROUTERS = [environments_router, workflows_router]
PUBLIC_ROUTERS = [health_router]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings)
        box = SecretBox(load_master_key(settings))
        await prepare_installation(database, box)
        app.state.database = database
        app.state.secret_box = box
        try:
            yield
        finally:
            await database.dispose()

    app = FastAPI(
        title="Herald",
        version=__version__,
        description="Self-hostable notification infrastructure that speaks Novu's REST API.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in PUBLIC_ROUTERS:
        app.include_router(router)
    for router in SECRET_KEY_ROUTERS:
        app.include_router(router, dependencies=[Depends(require_secret_key)])
    app.state.route_methods = index_route_methods([*PUBLIC_ROUTERS, *SECRET_KEY_ROUTERS])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app
