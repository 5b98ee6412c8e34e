"""The `livesupport` command: serve, worker, migrate, user add/disable/enable/set, service add, demo."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Callable
from typing import Any

from livesupport import logs
from livesupport import settings as config
from livesupport.clock import SystemClock
from livesupport.domain.numbers import parse_int

ROLES = ["client", "domain_admin", "partner", "staff", "admin", "billing"]


def _serve(settings: config.Settings, host: str, port: int) -> None:
    import uvicorn

    from livesupport.web.app import create_app

    if not settings.base_url and host not in ("0.0.0.0", "::", ""):
        # One machine, one address (the demo): links in e-mails the worker sends point here. Listening on every
        # interface, the public address is unknown: set BASE_URL.
        settings = dataclasses.replace(settings, base_url=f"http://{host}:{port}")
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        # Frames over the protocol's limit are refused by the WebSocket layer before
        # any parsing (close 1009); compression is not negotiated (it costs CPU per frame).
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,
        proxy_headers=True,
        log_config=None,  # our logfmt handler on the root logger (livesupport.logs)
        access_log=False,
    )


def _migrate(settings: config.Settings) -> None:
    from livesupport.store.migrate import upgrade

    upgrade(settings.database_url)


async def _add_user(settings: config.Settings, args: argparse.Namespace) -> None:
    from livesupport.actions.accounts import Accounts
    from livesupport.store.database import Database

    db = Database(settings.database_url, desk=settings.desk_hours())
    try:
        person = await Accounts(db, SystemClock()).add_user(
            email=args.email, password=args.password, role=args.role, name=args.name, org=args.org, tier=args.tier,
            domain=args.domain,
        )
    finally:
        await db.dispose()
    print(f"added {args.email} (id {person.id}, {person.role}{f', level {person.tier}' if person.tier else ''})")


async def _seed(settings: config.Settings, site_url: str) -> list[tuple[str, str, str]]:
    from livesupport.demo import seed, seed_transfer
    from livesupport.store.database import Database

    db = Database(settings.database_url, desk=settings.desk_hours())
    try:
        logins = await seed(db, SystemClock())
        await seed_transfer(db, SystemClock(), settings, settings.base_url or site_url)
        return logins
    finally:
        await db.dispose()


async def _add_service(settings: config.Settings, args: argparse.Namespace) -> None:
    from livesupport.actions.billing import Billing
    from livesupport.domain.tickets import parse_instant
    from livesupport.store.database import Database

    started = parse_instant(args.started, "--started") if args.started else None
    db = Database(settings.database_url, desk=settings.desk_hours())
    try:
        service_id = await Billing(db, SystemClock(), settings.billing_policy()).add_service(
            args.org, args.name, args.monthly_cents, started)
    finally:
        await db.dispose()
    print(f"added service {service_id}: {args.name} for {args.org}, {args.monthly_cents} cents a month")


def _announcing_hub(settings: config.Settings) -> Any:
    """A hub that only announces to the web processes (through Redis when there is one)."""
    from livesupport.realtime.brokers.memory import MemoryBroker
    from livesupport.realtime.hub import Hub, new_origin
    from livesupport.realtime.presence import MemoryPresence, RedisPresence

    broker: Any = MemoryBroker()
    origin = new_origin()
    presence: MemoryPresence | RedisPresence = MemoryPresence()
    connected = None
    if settings.redis_url:  # to tell the web processes (a suspension banner), and to see who is on a ticket
        from livesupport.realtime.brokers import broker_for

        broker = broker_for(settings.redis_url, settings.redis_prefix, "worker")
        presence = RedisPresence(settings.redis_url, settings.redis_prefix, origin, settings.presence_ttl)
        connected = broker.connected
    return Hub(broker, presence, _NoHistory(), origin), presence, connected


async def _manage_user(settings: config.Settings, args: argparse.Namespace) -> None:
    """user disable / enable / set: audited as the command line; sockets on every process follow (Redis)."""
    import getpass
    import socket

    from livesupport.actions.accounts import Accounts
    from livesupport.actions.administration import Actor, Administration
    from livesupport.store.database import Database

    db = Database(settings.database_url, desk=settings.desk_hours())
    hub, presence, connected = _announcing_hub(settings)
    await hub.start()
    if connected is not None:  # what is published before the link is up is lost: the servers would not hear it
        try:
            await asyncio.wait_for(connected.wait(), 10)
        except TimeoutError:
            print("livesupport: Redis is unreachable: the change is made and sessions end, but sockets already open "
                  "on the servers are not told until they reconnect.", file=sys.stderr)
    actor = Actor(None, f"command line ({getpass.getuser()}@{socket.gethostname()})")
    try:
        admin = Administration(Accounts(db, SystemClock(), hub))
        if args.action == "disable":
            person = await admin.disable(actor, args.email)
            print(f"disabled {args.email} (id {person.id}): signed out everywhere, cannot sign in")
        elif args.action == "enable":
            person = await admin.enable(actor, args.email)
            print(f"enabled {args.email} (id {person.id})")
        else:
            person = await admin.change(actor, args.email, args.role, args.tier, args.org)
            print(f"{args.email} (id {person.id}) is now {person.role}"
                  f"{f', level {person.tier}' if person.tier else ''}{f', organisation {args.org}' if args.org else ''}")
        await asyncio.wait_for(hub.flush(), 10)
    finally:
        await hub.stop()
        await presence.stop()
        await db.dispose()


async def _worker(settings: config.Settings, once: bool, now: str | None) -> None:
    from livesupport.actions.billing import Billing
    from livesupport.actions.mail import Mailer
    from livesupport.actions.staff_notices import StaffNotices
    from livesupport.actions.tickets import Tickets
    from livesupport.actions.transfers import transfers_for
    from livesupport.clock import Clock, FixedClock
    from livesupport.domain.tickets import parse_instant
    from livesupport.store.database import Database
    from livesupport.worker import (
        billing_job,
        imap_job,
        imap_poller,
        outcomes_for,
        run_once,
        run_worker,
        update_mail_job,
        webhook_deliveries,
    )

    clock: Clock = SystemClock()
    if now:
        at = parse_instant(now, "--now")
        assert at is not None
        clock = FixedClock(at)
    db = Database(settings.database_url, desk=settings.desk_hours())
    hub, presence, _ = _announcing_hub(settings)
    await hub.start()
    mailer = Mailer(db, clock, settings.mail_from, settings.smtp_url)
    billing = Billing(db, clock, settings.billing_policy(), mailer, hub)
    tickets = Tickets(db, hub, clock, settings.sla_targets)
    jobs = [billing_job(billing), transfers_for(settings, db, clock, hub, mailer).run_due,
            update_mail_job(settings, db, clock, mailer, hub).run, StaffNotices(db, hub, clock).run,
            webhook_deliveries(settings, db, clock, mailer).run, outcomes_for(settings, tickets, mailer).run]
    poller = imap_poller(settings, tickets)
    reading = None
    if poller is not None and once:
        jobs.append(imap_job(poller))
    elif poller is not None:
        reading = asyncio.create_task(poller.run_forever(settings.worker_interval))
    try:
        if once:
            print(await run_once(jobs, mailer, clock))
        else:
            await run_worker(jobs, mailer, clock, settings.worker_interval)
    finally:
        if reading is not None:
            reading.cancel()
        await asyncio.sleep(0.3)  # let the last announcements reach Redis
        await mailer.stop()
        await hub.stop()
        await presence.stop()
        await db.dispose()


async def _mail_in(settings: config.Settings, listen: str) -> None:
    """The LMTP server until stopped: every message through the mail pipeline, announced live through Redis."""
    from livesupport.actions.tickets import Tickets
    from livesupport.mailin.lmtp import lmtp_factory
    from livesupport.mailin.setup import mailbox_for
    from livesupport.store.database import Database

    try:
        host, port = config.parse_listen(listen)
    except ValueError as exc:
        print(f"livesupport: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    db = Database(settings.database_url, wait_timeout=settings.db_wait_timeout, desk=settings.desk_hours())
    hub, presence, _ = _announcing_hub(settings)
    await hub.start()
    mailbox = mailbox_for(settings, Tickets(db, hub, SystemClock(), settings.sla_targets))
    server = await asyncio.get_running_loop().create_server(lmtp_factory(mailbox), host, port)
    if not settings.redis_url:
        logging.getLogger("livesupport.mail_in").warning(
            "REDIS_URL is not set: replies are stored, but open ticket pages see them only when they next load")
    print(f"livesupport mail-in: LMTP on {host}:{port} for *@{settings.mail_in_domain}", flush=True)
    try:
        async with server:
            await server.serve_forever()
    finally:
        await hub.stop()
        await presence.stop()
        await db.dispose()


class _NoHistory:
    """The worker joins no tickets: it only announces."""

    async def latest(self, ticket_id: int) -> int:
        return 0

    async def fetch(self, ticket_id: int, after: int, upto: int | None) -> list[Any]:
        return []


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An option that is a whole number from lo to hi, in ASCII digits (argparse turns the refusal into a message)."""

    def read(text: str) -> int:
        value = parse_int(text, lo, hi)
        if value is None:
            raise argparse.ArgumentTypeError(f"a whole number from {lo} to {hi} (digits 0-9 only), not {text!r}")
        return value

    return read


def command_line() -> argparse.ArgumentParser:
    """The `livesupport` command's arguments (the container's files are checked against them too)."""
    parser = argparse.ArgumentParser(prog="livesupport", description="Real-time ticket collaboration server.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=whole(1, 65535), default=8000)
    worker = sub.add_parser("worker", help="run the scheduled jobs (invoices, fees, suspensions, reminders)")
    worker.add_argument("--once", action="store_true", help="run what is due once, print what was done, exit")
    worker.add_argument("--now", help="with --once: the instant to run at (ISO-8601 with offset)")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    mail_in = sub.add_parser("mail-in", help="receive e-mail by LMTP (from Postfix or Exim) into tickets")
    mail_in.add_argument("--lmtp", default="127.0.0.1:8024", help="HOST:PORT to listen on (127.0.0.1:8024)")
    service = sub.add_parser("service", help="manage services").add_subparsers(dest="action", required=True)
    service_add = service.add_parser("add", help="add a service to an organisation")
    service_add.add_argument("--org", required=True, help="the organisation's name")
    service_add.add_argument("--name", required=True)
    service_add.add_argument("--monthly-cents", type=whole(0, 10**9), required=True,
                             help="the monthly price in cents")
    service_add.add_argument("--started", help="when it started (ISO-8601 with offset; default now)")
    user = sub.add_parser("user", help="manage accounts").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="add an account")
    add.add_argument("--email", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--org", help="organisation name (created when new)")
    add.add_argument("--tier", type=whole(1, 3), help="support level, for staff (1 to 3)")
    add.add_argument("--domain", help="for a domain administrator: the domain they sign in with (acme.com)")
    add.add_argument("--name", help="display name (default: from the e-mail address)")
    for action, text in (("disable", "end their sessions, tokens and sockets everywhere; they cannot sign in"),
                         ("enable", "let a disabled account sign in again")):
        user.add_parser(action, help=text).add_argument("--email", required=True)
    change = user.add_parser("set", help="change an account's role, tier or organisation (open sockets follow)")
    change.add_argument("--email", required=True)
    change.add_argument("--role", choices=ROLES)
    change.add_argument("--tier", type=int, choices=[1, 2, 3], help="support level, for staff")
    change.add_argument("--org", help="the name of an existing organisation")
    demo = sub.add_parser("demo", help="migrate, seed demo data, print the logins and serve")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=whole(1, 65535), default=8000)
    demo.add_argument("--no-serve", action="store_true", help="seed and print, then exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = command_line()
    args = parser.parse_args(argv)

    logs.configure(logging.INFO)
    settings = config.load()
    from livesupport.domain.errors import LivesupportError

    try:
        if args.command == "serve":
            _serve(settings, args.host, args.port)
        elif args.command == "migrate":
            _migrate(settings)
            print("database schema is up to date")
        elif args.command == "user":
            asyncio.run(_add_user(settings, args) if args.action == "add" else _manage_user(settings, args))
        elif args.command == "service":
            asyncio.run(_add_service(settings, args))
        elif args.command == "worker":
            if args.now and not args.once:
                parser.error("--now needs --once")
            asyncio.run(_worker(settings, args.once, args.now))
        elif args.command == "mail-in":
            try:
                asyncio.run(_mail_in(settings, args.lmtp))
            except KeyboardInterrupt:
                pass
        elif args.command == "demo":
            _migrate(settings)
            url = f"http://{args.host}:{args.port}"
            logins = asyncio.run(_seed(settings, url))
            print(f"\nlivesupport demo on {url}  (data in {settings.data_dir})\n\nLog in as any of these:")
            width = max(len(e) for e, _, _ in logins)
            for email, password, who in logins:
                print(f"  {email:<{width}}  {password}   {who}")
            print(f"\nA transfer of service is under way: {url}/transfers as a Level 2 engineer; the partner's and "
                  "the new provider's links to their pages are in their e-mails.")
            print("\nE-mail (sign-in links, warnings, transfer links) is kept in the outbox: log in as root@support.example "
                  f"and open {url}/outbox" if not settings.smtp_url else "\nE-mail goes out through the SMTP server of SMTP_URL")
            print()
            sys.stdout.flush()
            if not args.no_serve:
                _serve(settings, args.host, args.port)
    except LivesupportError as exc:
        print(f"livesupport: {exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
