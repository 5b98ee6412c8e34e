"""The webhook rules: addresses we send to, which events are sent, the signature, retries and disabling."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from livesupport.domain import webhooks as rules

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("url", "allow_local", "ok"), [
    ("https://hooks.example.com/in", False, True),
    ("https://93.184.216.34:8443/in?x=1", False, True),
    ("http://hooks.example.com/in", False, False),  # not encrypted
    ("http://127.0.0.1:9000/in", False, False),
    ("http://127.0.0.1:9000/in", True, True),  # WEBHOOK_ALLOW_LOCAL: this machine, for tests
    ("http://localhost:9000/in", True, True),
    ("https://localhost/in", False, False),
    ("http://10.0.0.1/in", True, False),  # allowing this machine allows no private network
    ("https://10.0.0.1/in", False, False),
    ("https://172.16.5.4/in", False, False),
    ("https://192.168.0.10/in", False, False),
    ("https://169.254.169.254/latest/meta-data", False, False),  # cloud metadata: link-local
    ("https://100.64.0.1/in", False, False),  # carrier-grade NAT
    ("https://0.0.0.0/in", False, False),
    ("https://[::1]/in", False, False),
    ("https://[fe80::1]/in", False, False),
    ("https://[,,=(P", False, False),  # what urlsplit cannot read (found by the fuzz: it was a 500)
    ("https://[x]/in", False, False),
    ("https://a]b/in", False, False),
    ("https://[::ffff:10.0.0.1]/in", False, False),  # IPv4-mapped private
    ("https://224.0.0.1/in", False, False),
    ("https://printer.local/in", False, False),
    ("https://127.1/in", False, False),  # an IP in disguise
    ("https://2130706433/in", False, False),
    ("https://0x7f.0.0.1/in", False, False),
    ("https://0x7f000001/in", False, False),
    ("https://3com.example/in", False, True),
    ("https://db.internal/in", False, False),
    ("https://user:secret@hooks.example.com/in", False, False),
    ("https://hooks.example.com:99999/in", False, False),
    ("https://hooks.example.com/in#part", False, False),
    ("ftp://hooks.example.com/in", False, False),
    ("https:///in", False, False),
    ("https://hooks.exämple.com/in", False, False),
    ("https://hooks.example.com/a b", False, False),
    ("https://example.com/" + "x" * 500, False, False),
    ("", False, False),
    (None, False, False),
])
def test_addresses(url: object, allow_local: bool, ok: bool) -> None:
    if ok:
        assert rules.check_url(url, allow_local) == url
    else:
        with pytest.raises(rules.WebhookUrlError) as refused:
            rules.check_url(url, allow_local)
        assert refused.value.code == "bad_url" and refused.value.message


@pytest.mark.parametrize(("address", "allow_local", "ok"), [
    ("93.184.216.34", False, True), ("2606:2800:220:1:248:1893:25c8:1946", False, True),
    ("127.0.0.1", False, False), ("127.0.0.1", True, True), ("::1", True, True), ("10.1.2.3", True, False),
    ("169.254.169.254", True, False), ("::ffff:127.0.0.1", False, False), ("fd00::5", False, False),
])
def test_connectable_addresses(address: str, allow_local: bool, ok: bool) -> None:
    assert rules.address_allowed(address, allow_local) is ok


@pytest.mark.parametrize(("kind", "seq", "data", "name"), [
    ("chat", 1, {"body": "Help"}, "ticket.created"),
    ("chat", 2, {"body": "Hello"}, "ticket.message"),
    ("status", 3, {"status": "in_progress"}, "ticket.status"),
    ("status", 4, {"status": "resolved"}, "ticket.solved"),
    ("status", 5, {"status": "closed"}, "ticket.status"),
    ("assignment", 6, {"assignees": []}, "ticket.assigned"),
    ("task", 7, {}, None), ("pin", 8, {}, None), ("moved", 9, {}, None), ("member", 10, {}, None),
])
def test_which_ticket_events_are_sent(kind: str, seq: int, data: dict[str, object], name: str | None) -> None:
    assert rules.event_name(kind, seq, data) == name


def test_events_chosen() -> None:
    assert rules.check_events(["ticket.solved", "ticket.created"]) == ["ticket.created", "ticket.solved"]
    with pytest.raises(rules.BadRequestError, match="no event called 'ticket.deleted'"):
        rules.check_events(["ticket.deleted"])
    with pytest.raises(rules.BadRequestError, match="at least one"):
        rules.check_events([])


def test_signature_and_verification() -> None:
    body = b'{"id":"whd_1","event":"ping"}'
    stamp = int(NOW.timestamp())
    header = rules.signature_header("whsec_abc", stamp, body)
    # The documented construction, spelled out: hex HMAC-SHA256 over "<timestamp>.<body>".
    assert header == "v1=" + hmac.new(b"whsec_abc", f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert rules.verify("whsec_abc", str(stamp), header, body, NOW)
    assert rules.verify("whsec_abc", str(stamp), f"v1=deadbeef, {header}", body, NOW)  # any v1 may match
    assert not rules.verify("whsec_abd", str(stamp), header, body, NOW)
    assert not rules.verify("whsec_abc", str(stamp), header, body + b" ", NOW)
    assert not rules.verify("whsec_abc", str(stamp + 1), header, body, NOW)
    assert not rules.verify("whsec_abc", str(stamp), header, body, NOW + timedelta(minutes=6))  # replayed late
    assert not rules.verify("whsec_abc", "１２", header, body, NOW)
    assert not rules.verify("whsec_abc", str(stamp), header.replace("v1=", "v0="), body, NOW)


@pytest.mark.parametrize(("tries", "wait"), [
    (1, timedelta(seconds=30)), (2, timedelta(minutes=1)), (3, timedelta(minutes=2)), (7, timedelta(minutes=32)),
    (8, timedelta(hours=1)), (11, timedelta(hours=1)),
])
def test_backoff(tries: int, wait: timedelta) -> None:
    assert rules.retry_delay(tries) == wait


@pytest.mark.parametrize(("failures", "since", "disable"), [
    (rules.DISABLE_AFTER, NOW - timedelta(hours=2), True),
    (rules.DISABLE_AFTER - 1, NOW - timedelta(hours=2), False),
    (rules.DISABLE_AFTER * 5, NOW - timedelta(minutes=5), False),  # a burst of failures in a short outage
    (rules.DISABLE_AFTER, None, False),
])
def test_disabling(failures: int, since: datetime | None, disable: bool) -> None:
    assert rules.should_disable(failures, since, NOW) is disable


@pytest.mark.parametrize(("status", "ok"), [(200, True), (204, True), (301, False), (404, False), (500, False),
                                            (None, False)])
def test_what_counts_as_delivered(status: int | None, ok: bool) -> None:
    assert rules.succeeded(status) is ok
