"""create_app: the Starlette application and its lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from livesupport import metrics
from livesupport import settings as config
from livesupport.actions.accounts import Accounts
from livesupport.actions.feedback import Feedbacks
from livesupport.actions.tickets import StoredHistory, Tickets
from livesupport.clock import Clock, SystemClock
from livesupport.realtime.brokers import broker_for
from livesupport.realtime.hub import Hub, new_origin
from livesupport.realtime.presence import MemoryPresence, RedisPresence
from livesupport.store.database import Database
from livesupport.web import api, observability
from livesupport.web.channels import ws_endpoint
from livesupport.web.observability import RequestIds
from livesupport.web.pages import auth, feedback, tickets
from livesupport.web.security import SecurityHeaders
from livesupport.web.services import Services

log = logging.getLogger("livesupport")


def create_app(settings: config.Settings | None = None, clock: Clock | None = None) -> Starlette:
    settings = settings or config.load()
    clock = clock or SystemClock()
    templates = Jinja2Templates(directory=str(settings.templates_dir))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url, wait_timeout=settings.db_wait_timeout)
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
        metrics.TOPICS.set_function(lambda: len(hub.topics))
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
        *observability.routes,
        WebSocketRoute("/ws", ws_endpoint),
        Mount("/static", StaticFiles(directory=str(settings.static_dir)), name="static"),
    ]
    middleware = [
        Middleware(RequestIds),
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
