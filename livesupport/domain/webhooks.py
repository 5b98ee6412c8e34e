"""Webhooks, as rules: which ticket events are sent, to whom, signed how, retried when, refused where.

Pure: no I/O. The sending (resolve, connect, POST) is in actions/webhooks.py; this module decides.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from livesupport.domain.errors import BadRequestError
from livesupport.domain.numbers import parse_int, same_secret

#: The events an endpoint can ask for, with what each means (shown on the pages and in docs/integrations.md).
EVENTS: dict[str, str] = {
    "ticket.created": "a ticket was opened (its first message)",
    "ticket.message": "a message was posted on a ticket",
    "ticket.status": "a ticket's status changed (other than to resolved)",
    "ticket.assigned": "a ticket's engineers changed",
    "ticket.solved": "a ticket was marked resolved",
}
PING = "ping"  # the "Send test event" delivery: no ticket

SOLVED = "resolved"
MAX_URL = 500
MAX_DESCRIPTION = 100
MAX_TRIES = 12  # tries per delivery: with the backoff, about five hours; then it is given up
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)
DISABLE_AFTER = 12  # failed tries in a row, with no success between them ...
DISABLE_SPAN = timedelta(hours=1)  # ... spanning at least this long (a short outage never disables an endpoint)
EXCERPT = 200  # characters of a response body kept in the delivery log

SIGNATURE_HEADER = "Livesupport-Signature"
TIMESTAMP_HEADER = "Livesupport-Timestamp"
DELIVERY_HEADER = "Livesupport-Delivery"
EVENT_HEADER = "Livesupport-Event"
TOLERANCE = 300  # seconds a receiver should accept between our timestamp and its clock


class WebhookUrlError(BadRequestError):
    """An endpoint address we will not send to (not https, a private or loopback address, ...)."""

    code = "bad_url"


def event_name(kind: str, seq: int, data: dict[str, Any]) -> str | None:
    """The webhook event a stored ticket event is, or None when it is not one webhooks send."""
    if kind == "chat":
        return "ticket.created" if seq == 1 else "ticket.message"
    if kind == "status":
        return "ticket.solved" if data.get("status") == SOLVED else "ticket.status"
    if kind == "assignment":
        return "ticket.assigned"
    return None


def check_events(chosen: Iterable[object]) -> list[str]:
    """The events someone ticked, known ones only, in EVENTS' order; at least one."""
    wanted = {str(c) for c in chosen}
    unknown = sorted(wanted - set(EVENTS))
    if unknown:
        raise BadRequestError(f"There is no event called {unknown[0][:40]!r}; choose among {', '.join(EVENTS)}.")
    if not wanted:
        raise BadRequestError("Choose at least one event to send.")
    return [e for e in EVENTS if e in wanted]


def check_description(text: object) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise BadRequestError("The description is text.")
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_DESCRIPTION:
        raise BadRequestError(f"Keep the description under {MAX_DESCRIPTION} characters.")
    return cleaned


LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_NUMERIC_HOST = re.compile(r"[0-9.]+|(0x[0-9a-f]+\.?)+[0-9a-fx.]*")


def check_url(url: object, allow_local: bool) -> str:
    """An endpoint address: https, a public host; plain http to this machine only when `allow_local`."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookUrlError("Give the endpoint's address, e.g. https://example.com/hooks/livesupport.")
    url = url.strip()
    if len(url) > MAX_URL:
        raise WebhookUrlError(f"The address is over {MAX_URL} characters.")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 for c in url):
        raise WebhookUrlError("The address has spaces or characters a URL cannot hold; write international "
                              "domain names in their xn-- form.")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        raise WebhookUrlError("The address is not a URL we can read: check the host, and any [ ] around an "
                              "IPv6 address.") from None
    try:
        port = parts.port
        host = (parts.hostname or "").lower()
    except ValueError:
        raise WebhookUrlError("The address has a port that is not a number from 1 to 65535.") from None
    if not host:
        raise WebhookUrlError("The address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("Put no user name or password in the address; we sign each request instead.")
    if parts.fragment:
        raise WebhookUrlError("The address has a #fragment, which is never sent; leave it out.")
    if port == 0:
        raise WebhookUrlError("The address has a port that is not a number from 1 to 65535.")
    local = host in LOCAL_NAMES
    if parts.scheme == "http" and not (allow_local and local):
        raise WebhookUrlError("The address must start with https:// (we send ticket contents, so only encrypted).")
    if parts.scheme not in ("https", "http"):
        raise WebhookUrlError("The address must start with https://.")
    if local and not allow_local:
        raise WebhookUrlError("That address is this server itself; give one on the internet.")
    literal = _literal(host)
    if literal is not None and not address_allowed(literal, allow_local):
        raise WebhookUrlError("That address is on a private, loopback or reserved network; give one on the "
                              "internet.")
    if literal is None and _NUMERIC_HOST.fullmatch(host):  # 127.1, 2130706433, 0x7f.1: an IP in disguise
        raise WebhookUrlError("Write an IP address in full (four numbers with dots), or use the host's name.")
    if host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        raise WebhookUrlError("That host name is on a local network; give one on the internet.")
    return url


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def address_allowed(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address, allow_local: bool) -> bool:
    """Whether we may connect to this IP: a public one, or loopback when `allow_local` (for tests on one box)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_local
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_link_local)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256 of f"{timestamp}.{body}" under the endpoint's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"v1={signature(secret, timestamp, body)}"


def verify(secret: str, timestamp_header: str, signature_header_value: str, body: bytes, now: datetime,
           tolerance: int = TOLERANCE) -> bool:
    """What a receiver does (docs/integrations.md): a v1 signature matches and the timestamp is recent."""
    stamp = parse_int(timestamp_header, 0, 10**11)
    if stamp is None:
        return False
    if abs(now.timestamp() - stamp) > tolerance:
        return False
    expected = signature(secret, stamp, body)
    given = [p.split("=", 1)[1] for p in signature_header_value.split(",") if p.strip().startswith("v1=")]
    return any(same_secret(g.strip(), expected) for g in given)


def retry_delay(tries: int) -> timedelta:
    """After the n-th failed try: 30 s, 1 min, 2 min, 4 min ... at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, tries - 1)), LAST_RETRY)


def succeeded(status: int | None) -> bool:
    """A 2xx answer is a delivery; anything else (3xx included: we follow no redirect) is a failure."""
    return status is not None and 200 <= status < 300


def should_disable(failures_in_row: int, failing_since: datetime | None, now: datetime) -> bool:
    return failures_in_row >= DISABLE_AFTER and failing_since is not None and now - failing_since >= DISABLE_SPAN


def excerpt(text: str) -> str:
    return " ".join(text.split())[:EXCERPT]


def payload(delivery_id: str, event: str, at: str | None, ticket: dict[str, Any] | None,
            frame: dict[str, Any] | None, visibility: str = "public") -> dict[str, Any]:
    """The JSON body: the delivery id (stable across retries), the event, the ticket, and the ticket event."""
    body: dict[str, Any] = {"id": delivery_id, "event": event, "created_at": at}
    if ticket is not None and frame is not None:
        body.update(ticket=ticket, seq=frame["seq"], kind=frame["kind"], visibility=visibility,
                    actor=frame["actor"], data=frame["data"])
    return body
