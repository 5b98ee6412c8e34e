"""create_app: the Starlette application and its lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from livesupport import metrics
from livesupport import settings as config
from livesupport.actions.accounts import Accounts
from livesupport.actions.administration import Administration
from livesupport.actions.attachments import MAX_FILES, Attachments
from livesupport.actions.billing import Billing
from livesupport.actions.client_context import ClientContext
from livesupport.actions.contacts import Contacts
from livesupport.actions.feedback import Feedbacks
from livesupport.actions.following import Following
from livesupport.actions.huddle import Huddle
from livesupport.actions.inbound_mail import Mailbox
from livesupport.actions.lists import Lists
from livesupport.actions.magic_links import MagicLinks
from livesupport.actions.mail import Mailer
from livesupport.actions.mail_review import MailReview
from livesupport.actions.phone import PhoneSupport
from livesupport.actions.search_folding import SearchFolding
from livesupport.actions.staff_notices import StaffNotices
from livesupport.actions.throttle import Throttle
from livesupport.actions.tickets import StoredHistory, Tickets
from livesupport.actions.transfer_survey import TransferSurvey
from livesupport.actions.transfers import transfers_for
from livesupport.actions.two_factor import TwoFactor
from livesupport.actions.webhooks import Webhooks
from livesupport.clock import Clock, SystemClock
from livesupport.domain.throttle import TokenBuckets
from livesupport.mailin.setup import mailbox_for
from livesupport.realtime.brokers import broker_for
from livesupport.realtime.hub import Hub, new_origin
from livesupport.realtime.presence import MemoryPresence, RedisPresence
from livesupport.store.database import Database
from livesupport.store.files import LocalFiles
from livesupport.web import (
    api,
    billing_api,
    bulk_api,
    macros_api,
    mail_review_api,
    observability,
    outcomes_api,
    phone_api,
    reports_api,
    views_api,
    webhooks_api,
)
from livesupport.web.access import AccessGuard
from livesupport.web.channels import ws_endpoint
from livesupport.web.connecting import Connecting
from livesupport.web.errors import error_page
from livesupport.web.limits import MULTIPART_OVERHEAD, BodyLimits, Limits
from livesupport.web.observability import RequestIds
from livesupport.web.openapi import views as openapi_views
from livesupport.web.pages import (
    account,
    add_date_filters,
    auth,
    billing,
    feedback,
    http_error,
    macros,
    mail_review,
    notifications,
    phone,
    ratings,
    ticket_list,
    tickets,
    transfer_survey,
    users,
    webhooks,
)
from livesupport.web.pages import reports as reports_page
from livesupport.web.pages import transfers as transfer_pages
from livesupport.web.security import SESSION_COOKIE, SecurityHeaders, read_session
from livesupport.web.services import Services
from livesupport.worker import (
    billing_job,
    imap_poller,
    outcomes_for,
    run_worker,
    update_mail_job,
    webhook_deliveries,
)

log = logging.getLogger("livesupport")


def create_app(settings: config.Settings | None = None, clock: Clock | None = None) -> App:
    settings = settings or config.load()
    clock = clock or SystemClock()
    templates = Jinja2Templates(directory=str(settings.templates_dir))
    add_date_filters(templates.env, settings.timezone)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url, wait_timeout=settings.db_wait_timeout, desk=settings.desk_hours())
        origin = new_origin()
        broker = broker_for(settings.redis_url, settings.redis_prefix, origin)
        presence: MemoryPresence | RedisPresence = MemoryPresence()
        if settings.redis_url:
            presence = RedisPresence(settings.redis_url, settings.redis_prefix, origin, settings.presence_ttl)
        hub = Hub(broker, presence, StoredHistory(db), origin)
        tickets = Tickets(db, hub, clock, settings.sla_targets,  # its join cache lives as long as the token cache's
                          cache_ttl=timedelta(seconds=settings.token_cache_seconds))
        staff_notices = StaffNotices(db, hub, clock)
        tickets.client_messages = staff_notices
        throttle = Throttle(db, clock)
        mailer = Mailer(db, clock, settings.mail_from, settings.smtp_url)
        accounts = Accounts(db, clock, hub, throttle, mailer, timedelta(days=settings.session_max_days),
                            timedelta(hours=settings.session_idle_hours),
                            timedelta(seconds=settings.token_cache_seconds))
        links = MagicLinks(db, clock, throttle, mailer)
        ledger = Billing(db, clock, settings.billing_policy(), mailer, hub)
        transfers = transfers_for(settings, db, clock, hub, mailer)
        hooks = webhook_deliveries(settings, db, clock, mailer)
        outcomes = outcomes_for(settings, tickets, mailer)
        app.state.services = Services(
            settings=settings, clock=clock, db=db, hub=hub, accounts=accounts,
            mailer=mailer, two_factor=TwoFactor(db, clock, throttle), magic_links=links,
            contacts=Contacts(db, clock, accounts, links),
            chat_limits=TokenBuckets(settings.chat_rate, settings.chat_burst),
            billing=ledger, transfers=transfers,
            survey=TransferSurvey(db, clock, transfers, throttle, mailer, settings.timezone),
            phone=PhoneSupport(db, clock, throttle, mailer, links, ledger, tickets, settings.secret_key),
            tickets=tickets, huddle=Huddle(tickets), lists=Lists(db, hub, clock),
            following=Following(tickets, settings.secret_key), administration=Administration(accounts),
            context=ClientContext(db, clock, ledger),
            feedback=Feedbacks(db, clock), templates=templates, webhooks=Webhooks(db, clock, throttle, hooks),
            attachments=Attachments(tickets, LocalFiles(settings.data_dir / "attachments"),
                                    settings.max_attachment_bytes),
            mail_review=MailReview(mailbox := mailbox_for(settings, tickets), accounts),
            outcomes=outcomes, ratings=outcomes.ratings,
            connecting=Connecting(accounts, tickets, settings.connect_concurrency, settings.max_pending_connects),
        )
        hub.on_access_changed = AccessGuard(app.state.services).recheck
        metrics.TOPICS.set_function(lambda: len(hub.topics))
        await presence.start()
        await hub.start()
        sweeper = asyncio.create_task(_sweep(hub, settings.presence_ttl / 6)) if settings.redis_url else None
        folding = None if db.is_sqlite else asyncio.create_task(SearchFolding(db).run_forever())
        pending_mail = asyncio.create_task(mailer.deliver_pending())  # what an earlier run could not send
        jobs = [billing_job(ledger), transfers.run_due, update_mail_job(settings, db, clock, mailer, hub).run,
                staff_notices.run, hooks.run, outcomes.run]
        worker = asyncio.create_task(run_worker(jobs, mailer, clock, settings.worker_interval)) \
            if settings.in_process_worker else None
        poller = imap_poller(settings, tickets) if settings.in_process_worker else None
        reading = asyncio.create_task(poller.run_forever(settings.worker_interval)) if poller else None
        lmtp = await _lmtp_server(settings, mailbox) if settings.in_process_worker and settings.mail_in_lmtp \
            else None
        # What start-up made (modules, the schema, templates: some 150,000 objects) lives as long as the process:
        # kept out of the garbage collector's full passes, which a reconnect storm's new sockets make frequent.
        gc.freeze()
        log.info("livesupport ready: database %s, %s, mail through %s", settings.database_url.split("://")[0],
                 broker.status, mailer.delivery)
        try:
            yield
        finally:
            if sweeper:
                sweeper.cancel()
            if folding:
                folding.cancel()
            pending_mail.cancel()
            await links.settle()
            if worker:
                worker.cancel()
            if reading:
                reading.cancel()
            if lmtp:
                lmtp.close()
            await staff_notices.stop()
            await mailer.stop()
            await hub.stop()
            await presence.stop()
            await db.dispose()

    routes = [
        *auth.routes,
        *account.routes,
        *users.routes,
        *notifications.routes,
        *ticket_list.routes,
        *tickets.routes,
        *feedback.routes,
        *ratings.routes,
        *billing.routes,
        *phone.routes,
        *transfer_survey.routes,
        *transfer_pages.routes,
        *api.routes,
        *bulk_api.routes,
        *macros_api.routes,
        *mail_review_api.routes,
        *outcomes_api.routes,
        *views_api.routes,
        *reports_api.routes,
        *reports_page.routes,
        *billing_api.routes,
        *phone_api.routes,
        *openapi_views.routes,
        *webhooks_api.routes,
        *webhooks.routes,
        *macros.routes,
        *mail_review.routes,
        *observability.routes,
        Mount("/static", StaticFiles(directory=str(settings.static_dir)), name="static"),
    ]
    page = partial(error_page, templates)
    limits = Limits(upload=settings.max_attachment_bytes * MAX_FILES + MULTIPART_OVERHEAD)
    # Outermost first: every answer, the 413s and the 500 page included, passes through SecurityHeaders.
    middleware = [
        Middleware(SecurityHeaders, hsts=settings.hsts),
        Middleware(RequestIds, page=page),
        Middleware(BodyLimits, limits=limits, page=page),
        Middleware(
            SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
            max_age=int(settings.session_max_days * 86400), same_site="lax", https_only=settings.session_https_only,
        ),
    ]
    web = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error})
    return App(web, settings.secret_key)


class App:
    """The ASGI entry: /ws goes straight to the channel (no middleware wrapping every frame); the rest to Starlette."""

    def __init__(self, web: Starlette, secret_key: str) -> None:
        self.web, self.secret_key = web, secret_key

    @property
    def state(self) -> State:
        return self.web.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            scope["app"] = self.web
            ws = WebSocket(scope, receive, send)
            scope["session"] = read_session(ws.cookies, self.secret_key)
            await ws_endpoint(ws, receive, send)
            return
        await self.web(scope, receive, send)


async def _lmtp_server(settings: config.Settings, mailbox: Mailbox) -> asyncio.Server:
    """MAIL_IN_LMTP on one machine: the LMTP server of `livesupport mail-in`, inside this process, so a reply is
    live on open ticket pages without Redis."""
    from livesupport.mailin.lmtp import lmtp_factory

    assert settings.mail_in_lmtp is not None
    host, port = settings.mail_in_lmtp
    server = await asyncio.get_running_loop().create_server(lmtp_factory(mailbox), host, port)
    log.info("taking mail by LMTP on %s:%d for *@%s", host, port, settings.mail_in_domain)
    return server


async def _sweep(hub: Hub, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await hub.sweep_presence()
        except Exception as exc:  # noqa: BLE001
            log.warning("presence sweep failed: %s", exc)


def factory() -> App:
    """For `uvicorn --factory livesupport.web.app:factory`."""
    return create_app()
