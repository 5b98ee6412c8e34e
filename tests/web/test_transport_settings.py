"""Behind an https:// BASE_URL: Secure cookies and HSTS by default. /metrics limited by a token and an allow-list."""

from __future__ import annotations

import httpx
import pytest

from livesupport import settings as config
from tests.conftest import Deployment
from tests.utils import run_server


@pytest.mark.parametrize(("env", "secure", "hsts"), [
    ({"BASE_URL": "https://support.example"}, True, True),
    ({"BASE_URL": "https://support.example", "SESSION_HTTPS_ONLY": "false", "HSTS": "false"}, False, False),
    ({"BASE_URL": "http://support.example"}, False, False),
    ({"BASE_URL": "http://support.example", "SESSION_HTTPS_ONLY": "true"}, True, False),
])
async def test_secure_cookies_and_hsts_follow_base_url(sqlite_deployment: Deployment, env: dict[str, str],
                                                      secure: bool, hsts: bool) -> None:
    async with run_server(sqlite_deployment.env(**env)) as srv, httpx.AsyncClient(base_url=srv.url) as http:
        page = await http.get("/login")
        missing = await http.get("/no/such/page")
    cookie = page.headers["set-cookie"].lower()
    assert cookie.startswith("livesupport_session=") and ("; secure" in cookie) is secure
    for r in (page, missing):
        assert ("strict-transport-security" in r.headers) is hsts
    if hsts:
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_metrics_want_the_token_when_one_is_set(sqlite_deployment: Deployment) -> None:
    async with run_server(sqlite_deployment.env(METRICS_TOKEN="scrape-me-123")) as srv, \
            httpx.AsyncClient(base_url=srv.url) as http:
        none = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        odd = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me-12é".encode()})
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-me-123"})
    assert none.status_code == wrong.status_code == odd.status_code == 401
    assert none.json()["error"]["code"] == "unauthorized" and "content-security-policy" in none.headers
    assert right.status_code == 200 and "livesupport" in right.text


@pytest.mark.parametrize(("allow", "status"), [("10.0.0.0/8", 403), ("10.0.0.0/8, 127.0.0.1", 200), ("", 200)])
async def test_metrics_answer_only_the_allowed_addresses(sqlite_deployment: Deployment, allow: str,
                                                         status: int) -> None:
    async with run_server(sqlite_deployment.env(METRICS_ALLOW=allow)) as srv, \
            httpx.AsyncClient(base_url=srv.url) as http:
        r = await http.get("/metrics")
    assert r.status_code == status
    if status == 403:
        assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("name", "value"), [
    ("METRICS_ALLOW", "10.0.0.0/33"), ("METRICS_ALLOW", "localhost"), ("HSTS", "maybe"),
    ("MAX_ATTACHMENT_BYTES", "1_000"), ("MAX_ATTACHMENT_BYTES", "１０"), ("OUTBOUND_QUEUE", "-5"),
    ("PRESENCE_TTL", "1_0"), ("WS_RATE", "inf"), ("CHAT_RATE", "nan"), ("SESSION_IDLE_HOURS", "١٢"),
    ("WORKER_INTERVAL", "0"), ("DB_WAIT_TIMEOUT", "-1"), ("NOTIFY_COALESCE_MINUTES", "5e2"),
    ("TRANSFER_REMINDER_HOURS", "10000"), ("SESSION_MAX_DAYS", ""),
])
def test_settings_refuse_what_they_cannot_read(tmp_path: object, name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        config.load({"DATA_DIR": str(tmp_path), "SECRET_KEY": "k", name: value})


def test_settings_read_ordinary_decimals() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        got = config.load({"DATA_DIR": folder, "SECRET_KEY": "k", "WS_RATE": "0.2", "CHAT_RATE": "0",
                           "PRESENCE_TTL": " 6 ", "NOTIFY_COALESCE_MINUTES": "0.5"})
    assert (got.ws_rate, got.chat_rate, got.presence_ttl) == (0.2, 0.0, 6.0)
