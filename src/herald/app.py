"""The ASGI application: routers, middleware and error handlers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from herald import __version__
from herald.activity.endpoints import router as activity_router
from herald.auth.dependencies import require_secret_key
from herald.config import Settings
from herald.db import Database
from herald.engine.process import build_worker, engine_running, first_steps_at_once
from herald.environments.endpoints import router as environments_router
from herald.errors import index_route_methods, install_error_handlers
from herald.events.endpoints import router as events_router
from herald.events.fast_path import TriggerFastPath
from herald.events.intake import SQLITE_BUSY_AT, TriggerIntake
from herald.feed.endpoints import router as feed_router
from herald.feed.endpoints import v1_router as feed_v1_router
from herald.health.endpoints import router as health_router
from herald.idempotency.cleanup import run_idempotency_cleanup
from herald.idempotency.dependencies import IdempotentReplay, claim_idempotency_key, replay_response
from herald.idempotency.middleware import IdempotencyMiddleware
from herald.idempotency.store import DatabaseIdempotencyStore, build_idempotency_store
from herald.inbox.cors import InboxCorsMiddleware
from herald.inbox.endpoints import router as inbox_router
from herald.inbox.endpoints import session_router as inbox_session_router
from herald.integrations.endpoints import router as integrations_router
from herald.jobs.wakeup import JobWakeUp
from herald.kit.crypto import SecretBox, load_master_key
from herald.kit.redis import redis_client
from herald.kit.response_headers import ResponseHeadersMiddleware
from herald.messages.endpoints import router as messages_router
from herald.middleware.body_limit import BodyLimitMiddleware
from herald.middleware.request_context import RequestContextMiddleware
from herald.middleware.unpaired_surrogates import UnpairedSurrogatesMiddleware
from herald.preferences.endpoints import router as preferences_router
from herald.ratelimit.dependencies import enforce_rate_limit
from herald.ratelimit.service import build_rate_limit_service
from herald.realtime.publisher import NullPublisher
from herald.realtime.server import InboxSocketServer, SocketsFirstApp
from herald.realtime.socket_publisher import SocketPublisher
from herald.startup import keep_planner_statistics_fresh, prepare_installation
from herald.subscribers.endpoints import router as subscribers_router
from herald.subscribers.endpoints import v1_router as subscribers_v1_router
from herald.topics.endpoints import router as topics_router
from herald.topics.endpoints import subscriber_router as subscriber_topics_router
from herald.topics.endpoints import v1_router as topics_v1_router
from herald.workflows.endpoints import router as workflows_router

SECRET_KEY_ROUTERS = [
    activity_router,
    environments_router,
    events_router,
    integrations_router,
    messages_router,
    subscribers_router,
    subscribers_v1_router,
    subscriber_topics_router,
    preferences_router,
    topics_router,
    topics_v1_router,
    workflows_router,
    feed_router,
    feed_v1_router,
]
PUBLIC_ROUTERS = [health_router]
# Subscriber-token routes (the browser's Inbox): their own guard, CORS, no rate limit or idempotency.
INBOX_ROUTERS = [inbox_session_router, inbox_router]
# In this order: who is calling, may they (rate limit), has this already run (idempotency).
SECRET_KEY_GUARDS = [Depends(require_secret_key), Depends(enforce_rate_limit), Depends(claim_idempotency_key)]


_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> SocketsFirstApp:
    """The API; with `run_worker` (`herald serve`) the delivery engine runs in the same process."""
    settings = settings or Settings()
    sockets = InboxSocketServer(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings)
        box = SecretBox(load_master_key(settings))
        await prepare_installation(database, box)
        redis = redis_client(settings)
        app.state.database = database
        app.state.secret_box = box
        app.state.rate_limits = build_rate_limit_service(settings, redis)
        app.state.idempotency = build_idempotency_store(settings, database, redis)
        sockets.attach(database, box)
        app.state.realtime = SocketPublisher(sockets.server, database)
        app.state.trigger_intake = TriggerIntake(
            database,
            app.state.job_wakeup,
            settings.fanout_chunk_size,
            first_steps_at_once(settings, app.state.realtime, app.state.job_wakeup),
            busy_at=settings.busy_at_triggers_waiting or (SQLITE_BUSY_AT if database.is_sqlite else None),
        )
        maintenance = [
            asyncio.create_task(
                keep_planner_statistics_fresh(database, settings.planner_statistics_interval_seconds)
            )
        ]
        if isinstance(app.state.idempotency, DatabaseIdempotencyStore):
            maintenance.append(
                asyncio.create_task(
                    run_idempotency_cleanup(database, settings.idempotency_cleanup_interval_seconds)
                )
            )
        try:
            async with contextlib.AsyncExitStack() as stack:
                if run_worker:
                    worker = build_worker(
                        database,
                        settings,
                        app.state.realtime,
                        app.state.job_wakeup,
                        # SQLite: the worker's transactions hold the one write lock the intake's
                        # commits wait for. PostgreSQL's intake waits on the database, not on the
                        # worker; yielding there only delayed deliveries (p99 0.2-1.3 s at 500/s).
                        foreground=app.state.trigger_intake if database.is_sqlite else None,
                    )
                    await stack.enter_async_context(engine_running(database, settings, worker))
                yield
        finally:
            for task in maintenance:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if redis is not None:
                await redis.aclose()
            await database.dispose()

    app = SocketsFirstApp(
        sockets,
        title="Herald",
        version=__version__,
        description="Self-hostable notification infrastructure that speaks Novu's REST API.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.realtime = NullPublisher()
    app.state.job_wakeup = JobWakeUp()
    app.state.rate_limits = None
    app.state.idempotency = None
    install_error_handlers(app)
    app.add_exception_handler(IdempotentReplay, replay_response)
    for router in PUBLIC_ROUTERS:
        app.include_router(router)
    for router in SECRET_KEY_ROUTERS:
        app.include_router(router, dependencies=SECRET_KEY_GUARDS)
    for router in INBOX_ROUTERS:
        app.include_router(router)
    app.state.route_methods = index_route_methods([*PUBLIC_ROUTERS, *SECRET_KEY_ROUTERS, *INBOX_ROUTERS])
    app.add_middleware(TriggerFastPath)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(ResponseHeadersMiddleware)
    app.add_middleware(UnpairedSurrogatesMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(InboxCorsMiddleware, origins=settings.inbox_cors_origins)
    return app
