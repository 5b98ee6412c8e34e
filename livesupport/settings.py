"""Configuration, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from livesupport.domain.billing import Policy
from livesupport.domain.business_hours import DeskHours
from livesupport.domain.mail_threads import address_of, domain_of
from livesupport.domain.numbers import parse_int
from livesupport.domain.outcomes import Policy as OutcomePolicy
from livesupport.domain.sla import DEFAULT_TARGETS, Target, parse_targets
from livesupport.domain.tickets import Priority
from livesupport.domain.transfers import DEFAULT_DAYS, Kind, parse_days

ROOT = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    """templates/ or static/: the package's own copy (an installed wheel), else the checkout's (`pip install -e`)."""
    packaged = Path(str(resources.files("livesupport"))) / name
    return packaged if packaged.is_dir() else ROOT / name


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    redis_prefix: str
    secret_key: str
    allowed_origins: tuple[str, ...]
    timezone: ZoneInfo
    max_frame_bytes: int = 64 * 1024
    presence_ttl: float = 30.0
    outbound_queue: int = 512
    ws_rate: float = 20.0
    ws_burst: float = 60.0
    db_wait_timeout: float = 10.0
    token_cache_seconds: float = 30.0  # how long a process may remember a token's person (evicted at once anyway)
    connect_concurrency: int = 4  # token lookups and join snapshots run at once (below the database pool's size)
    max_pending_connects: int = 2000  # set-up work queued beyond this: new sockets are closed with 1013
    session_https_only: bool = False  # Secure cookies; on by default behind an https:// BASE_URL
    hsts: bool = False  # Strict-Transport-Security; on by default behind an https:// BASE_URL
    metrics_token: str | None = None  # when set, /metrics wants Authorization: Bearer <it>
    metrics_allow: tuple[str, ...] = ()  # when set, /metrics answers only these addresses / networks
    sla_targets: dict[Priority, Target] = field(default_factory=lambda: parse_targets(DEFAULT_TARGETS))
    max_attachment_bytes: int = 10 * 1024 * 1024
    smtp_url: str | None = None
    mail_from: str = "livesupport <support@localhost>"
    mail_in_domain: str = "localhost"  # replies come to <local>+<token>@ this domain (default: MAIL_FROM's)
    mail_in_rate: float = 0.2  # e-mails a second one sender may send in (12 a minute) ...
    mail_in_burst: float = 30  # ... and at once; past it the sending server is told to try later
    imap_url: str | None = None  # imaps://user:password@host/INBOX: a mailbox the worker reads for e-mail in
    # HOST:PORT: on one machine (the in-process worker), `serve` also takes mail by LMTP there, live without Redis
    mail_in_lmtp: tuple[str, int] | None = None
    base_url: str | None = None  # for links in e-mails; the request's own address when unset
    session_idle_hours: float = 12.0
    session_max_days: float = 7.0
    chat_rate: float = 5.0  # chat messages per second per user, over all their connections to this process
    chat_burst: float = 20.0
    holidays: frozenset[date] = frozenset()  # not business days (billing's cancellation window)
    last_business_days: int = 3
    in_process_worker: bool = True  # run the scheduled jobs inside `serve` (one machine); else `livesupport worker`
    worker_interval: float = 30.0
    company_name: str = "livesupport"  # who "we" are in transfer e-mails and the partner's waiver
    transfer_days: dict[Kind, int] = field(default_factory=lambda: parse_days(DEFAULT_DAYS))
    transfer_link_days: int = 30  # how long a party's personal link works
    transfer_reminder_hours: float = 24.0  # a reminder goes this long before a milestone's deadline
    transfer_desk_email: str | None = None  # staff reminders and escalations; every admin when unset
    notify_coalesce_minutes: float = 5.0  # one e-mail per ticket per follower at most this often
    # Webhooks may go to http://127.0.0.1 / localhost (tests, a receiver on this machine); never in production.
    webhook_allow_local: bool = False
    # REOPEN_DAYS, AUTO_CLOSE_DAYS, WAITING_REMINDER_DAYS, WAITING_RESOLVE_DAYS (domain/outcomes.py)
    outcomes: OutcomePolicy = field(default_factory=OutcomePolicy)

    def billing_policy(self) -> Policy:
        return Policy(self.timezone, self.holidays, self.last_business_days)

    def desk_hours(self) -> DeskHours:
        """The support desk's business hours (reports): Monday to Friday, 09:00-17:00 in the company's zone."""
        return DeskHours(self.timezone, holidays=self.holidays)
    templates_dir: Path = field(default_factory=lambda: _shipped("templates"))
    static_dir: Path = field(default_factory=lambda: _shipped("static"))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secret_key(data_dir: Path) -> str:
    """A key generated on first start and kept in the data folder (when SECRET_KEY is unset)."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR", "data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'livesupport.db'}"
    if database_url.startswith(("postgres://", "postgresql://")):
        # Accept the usual URLs of hosting platforms; we always talk asyncpg.
        database_url = "postgresql+asyncpg://" + database_url.split("://", 1)[1]
    # An origin's scheme and host are case-insensitive, and browsers send them in lower case.
    origins = tuple(o.strip().rstrip("/").lower() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
    base_url = (env.get("BASE_URL") or "").rstrip("/") or None
    https = bool(base_url and base_url.lower().startswith("https://"))
    mail_from = env.get("MAIL_FROM") or "livesupport <support@localhost>"
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        redis_prefix=env.get("REDIS_PREFIX", "livesupport:"),
        secret_key=env.get("SECRET_KEY") or _secret_key(data_dir),
        allowed_origins=origins,
        timezone=ZoneInfo(env.get("COMPANY_TIMEZONE", "America/New_York")),
        max_frame_bytes=_whole(env.get("MAX_FRAME_BYTES", "65536"), "MAX_FRAME_BYTES", 1024, 64 * 1048576),
        presence_ttl=_decimal(env.get("PRESENCE_TTL", "30"), "PRESENCE_TTL", 1, 3600),
        outbound_queue=_whole(env.get("OUTBOUND_QUEUE", "512"), "OUTBOUND_QUEUE", 1, 10**6),
        ws_rate=_decimal(env.get("WS_RATE", "20"), "WS_RATE", 0, 100000),
        ws_burst=_decimal(env.get("WS_BURST", "60"), "WS_BURST", 0, 1000000),
        db_wait_timeout=_decimal(env.get("DB_WAIT_TIMEOUT", "10"), "DB_WAIT_TIMEOUT", 0.1, 600),
        token_cache_seconds=_decimal(env.get("TOKEN_CACHE_SECONDS", "30"), "TOKEN_CACHE_SECONDS", 0, 3600),
        connect_concurrency=_whole(env.get("CONNECT_CONCURRENCY", "4"), "CONNECT_CONCURRENCY", 1, 1000),
        max_pending_connects=_whole(env.get("MAX_PENDING_CONNECTS", "2000"), "MAX_PENDING_CONNECTS", 1, 10**6),
        session_https_only=_flag(env.get("SESSION_HTTPS_ONLY"), "SESSION_HTTPS_ONLY", https),
        hsts=_flag(env.get("HSTS"), "HSTS", https),
        metrics_token=env.get("METRICS_TOKEN") or None,
        metrics_allow=_networks(env.get("METRICS_ALLOW", "")),
        sla_targets=parse_targets(env.get("SLA_TARGETS") or DEFAULT_TARGETS),
        max_attachment_bytes=_whole(env.get("MAX_ATTACHMENT_BYTES", str(10 * 1048576)), "MAX_ATTACHMENT_BYTES", 1,
                                    1024 * 1048576),
        smtp_url=env.get("SMTP_URL") or None,
        mail_from=mail_from,
        mail_in_domain=_mail_domain(env.get("MAIL_IN_DOMAIN"), mail_from),
        imap_url=env.get("IMAP_URL") or None,
        mail_in_lmtp=parse_listen(env["MAIL_IN_LMTP"], "MAIL_IN_LMTP") if env.get("MAIL_IN_LMTP") else None,
        mail_in_rate=_decimal(env.get("MAIL_IN_RATE", "0.2"), "MAIL_IN_RATE", 0, 100000),
        mail_in_burst=_decimal(env.get("MAIL_IN_BURST", "30"), "MAIL_IN_BURST", 1, 1000000),
        base_url=base_url,
        session_idle_hours=_decimal(env.get("SESSION_IDLE_HOURS", "12"), "SESSION_IDLE_HOURS", 0.01, 8760),
        session_max_days=_decimal(env.get("SESSION_MAX_DAYS", "7"), "SESSION_MAX_DAYS", 0.01, 3650),
        chat_rate=_decimal(env.get("CHAT_RATE", "5"), "CHAT_RATE", 0, 100000),
        chat_burst=_decimal(env.get("CHAT_BURST", "20"), "CHAT_BURST", 0, 1000000),
        holidays=_holidays(env.get("HOLIDAYS", "")),
        last_business_days=_business_days(env.get("BILLING_LAST_BUSINESS_DAYS", "3")),
        in_process_worker=_worker_mode(env.get("WORKER", "auto"), bool(env.get("REDIS_URL"))),
        worker_interval=_decimal(env.get("WORKER_INTERVAL", "30"), "WORKER_INTERVAL", 0.05, 86400),
        company_name=(env.get("COMPANY_NAME") or "livesupport").strip()[:100],
        transfer_days=parse_days(env.get("TRANSFER_DAYS") or DEFAULT_DAYS),
        transfer_link_days=_whole(env.get("TRANSFER_LINK_DAYS", "30"), "TRANSFER_LINK_DAYS", 1, 365),
        transfer_reminder_hours=_decimal(env.get("TRANSFER_REMINDER_HOURS", "24"), "TRANSFER_REMINDER_HOURS", 0, 720),
        transfer_desk_email=env.get("TRANSFER_DESK_EMAIL") or None,
        notify_coalesce_minutes=_minutes(env.get("NOTIFY_COALESCE_MINUTES", "5")),
        webhook_allow_local=_flag(env.get("WEBHOOK_ALLOW_LOCAL"), "WEBHOOK_ALLOW_LOCAL", False),
        outcomes=_outcomes(env),
    )


def _outcomes(env: dict[str, str]) -> OutcomePolicy:
    """How long a solved ticket may be reopened, and the worker's closing and chasing rules, in whole days."""
    days = {name: _whole(env.get(name, default), name, 1, 365) for name, default in (
        ("REOPEN_DAYS", "14"), ("AUTO_CLOSE_DAYS", "7"), ("WAITING_REMINDER_DAYS", "3"),
        ("WAITING_RESOLVE_DAYS", "7"))}
    return OutcomePolicy(days["REOPEN_DAYS"], days["AUTO_CLOSE_DAYS"], days["WAITING_REMINDER_DAYS"],
                         days["WAITING_RESOLVE_DAYS"])


def _whole(text: str, name: str, low: int, high: int) -> int:
    value = parse_int(text.strip(), low, high)
    if value is None:
        raise ValueError(f"{name} is a whole number from {low} to {high}, not {text!r}")
    return value


_DECIMAL = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?", re.ASCII)


def _decimal(text: str, name: str, low: float, high: float) -> float:
    """A number such as 30 or 0.5, in ASCII digits (float() would take "1_0", "١٢" and "inf"), from low to high."""
    value = float(text.strip()) if _DECIMAL.fullmatch(text.strip()) else None
    if value is None or not low <= value <= high:
        raise ValueError(f"{name} is a number from {low:g} to {high:g} (e.g. 5 or 0.5), not {text!r}")
    return value


def _flag(text: str | None, name: str, default: bool) -> bool:
    """An on/off setting; unset (or empty) is `default`."""
    if not text:
        return default
    if text.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if text.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} is true or false, not {text!r}")


def _networks(text: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (CIDR), checked now so a typo stops the start."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"METRICS_ALLOW holds addresses or networks like 10.0.0.0/8, not {part!r}") from None
    return tuple(out)


def parse_listen(text: str, what: str = "--lmtp") -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets) to listen on."""
    host, _, port = text.strip().rpartition(":")
    number = parse_int(port, 1, 65535)
    if not host or number is None:
        raise ValueError(f"{what} is HOST:PORT, like 127.0.0.1:8024, not {text!r}")
    return host.strip("[]"), number


def _mail_domain(text: str | None, mail_from: str) -> str:
    """MAIL_IN_DOMAIN, or the domain of MAIL_FROM's address."""
    domain = (text or "").strip().lower() or domain_of(address_of(mail_from))
    if not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", domain, re.ASCII):
        raise ValueError(f"MAIL_IN_DOMAIN is a mail domain like support.example.com (or MAIL_FROM has an address "
                         f"with one), not {domain!r}")
    return domain


def _holidays(text: str) -> frozenset[date]:
    try:
        return frozenset(date.fromisoformat(d.strip()) for d in text.split(",") if d.strip())
    except ValueError:
        raise ValueError(f"HOLIDAYS is a comma-separated list of dates like 2026-12-25, not {text!r}") from None


def _business_days(text: str) -> int:
    if text.strip() not in ("1", "2", "3", "4", "5"):
        raise ValueError(f"BILLING_LAST_BUSINESS_DAYS is a number of business days from 1 to 5, not {text!r}")
    return int(text)


def _minutes(text: str) -> float:
    return _decimal(text, "NOTIFY_COALESCE_MINUTES", 0, 24 * 60)


def _worker_mode(text: str, scaled_out: bool) -> bool:
    """`auto`: inside `serve` on one machine; with Redis, run `livesupport worker` (the Procfile does)."""
    mode = text.strip().lower()
    if mode not in ("auto", "in-process", "separate"):
        raise ValueError(f"WORKER is auto, in-process or separate, not {text!r}")
    return mode == "in-process" or (mode == "auto" and not scaled_out)
