"""create_app: the Starlette application and its lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from livesupport import settings as config
from livesupport.actions.accounts import Accounts
from livesupport.actions.feedback import Feedbacks
from livesupport.actions.tickets import StoredHistory, Tickets
from livesupport.clock import Clock, SystemClock
from livesupport.realtime.brokers import broker_for
from livesupport.realtime.hub import Hub, new_origin
from livesupport.realtime.presence import MemoryPresence, RedisPresence
from livesupport.store.database import Database
from livesupport.web import api
from livesupport.web.channels import ws_endpoint
from livesupport.web.errors import JSONResponse
from livesupport.web.pages import auth, feedback, tickets
from livesupport.web.security import SecurityHeaders
from livesupport.web.services import Services, services

log = logging.getLogger("livesupport")


async def health(request: Request) -> JSONResponse:
    """ok, or degraded (serving, but cross-process delivery is down), or 503 when the database is away."""
    svc = services(request)
    body: dict[str, object] = {**svc.hub.health(), "database_ok": True}
    try:
        async with svc.db.read() as s:
            await s.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        body.update(database_ok=False, database=str(exc)[:200])
    body["status"] = "ok" if body["broker_ok"] and body["database_ok"] else "degraded"
    return JSONResponse(body, status_code=200 if body["database_ok"] else 503)


def create_app(settings: config.Settings | None = None, clock: Clock | None = None) -> Starlette:
    settings = settings or config.load()
    clock = clock or SystemClock()
    templates = Jinja2Templates(directory=str(settings.templates_dir))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        origin = new_origin()
        broker = broker_for(settings.redis_url, settings.redis_prefix, origin)
        presence: MemoryPresence | RedisPresence = MemoryPresence()
        if settings.redis_url:
            presence = RedisPresence(settings.redis_url, settings.redis_prefix, origin, settings.presence_ttl)
        hub = Hub(broker, presence, StoredHistory(db), origin)
        app.state.services = Services(
            settings=settings, clock=clock, db=db, hub=hub, accounts=Accounts(db, clock, hub),
            tickets=Tickets(db, hub, clock), feedback=Feedbacks(db, clock), templates=templates,
        )
        await presence.start()
        await hub.start()
        sweeper = asyncio.create_task(_sweep(hub, settings.presence_ttl / 6)) if settings.redis_url else None
        log.info("livesupport ready: database %s, %s", settings.database_url.split("://")[0], broker.status)
        try:
            yield
        finally:
            if sweeper:
                sweeper.cancel()
            await hub.stop()
            await presence.stop()
            await db.dispose()

    routes = [
        *auth.routes,
        *tickets.routes,
        *feedback.routes,
        *api.routes,
        Route("/healthz", health),
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=str(settings.static_dir)), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware, secret_key=settings.secret_key, session_cookie="livesupport_session",
            max_age=14 * 24 * 3600, same_site="lax", https_only=settings.session_https_only,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


async def _sweep(hub: Hub, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await hub.sweep_presence()
        except Exception as exc:  # noqa: BLE001
            log.warning("presence sweep failed: %s", exc)


def factory() -> Starlette:
    """For `uvicorn --factory livesupport.web.app:factory`."""
    return create_app()
