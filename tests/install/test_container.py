"""The image, built and run: it becomes healthy by its own HEALTHCHECK, serves the sign-in page and its files, and
runs as a user other than root. It needs a container engine (`docker info` answering); without one the test is
skipped, even in CI (the one skip the CI hook lets through: tests/conftest.py, the `container_engine` marker)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.utils import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.container_engine]


def _docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def _engine() -> None:
    if shutil.which("docker") is None:
        pytest.skip("no container engine: the docker command is not installed")
    info = _docker("info", timeout=30)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        pytest.skip(f"no container engine: `docker info` fails ({reason})")


@dataclass
class Container:
    name: str
    url: str

    def health(self) -> str:
        return _docker("inspect", "--format", "{{.State.Health.Status}}", self.name).stdout.strip()


@pytest.fixture(scope="module")
def container() -> Iterator[Container]:
    """The image built from this checkout, running alone (SQLite in its /data volume)."""
    _engine()
    tag = f"livesupport-test:{secrets.token_hex(4)}"
    built = _docker("build", "--tag", tag, str(ROOT), timeout=1200)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    started = _docker("run", "--detach", "--publish", "127.0.0.1::8000", "--env", f"SECRET_KEY={secrets.token_hex(24)}",
                      tag)
    assert started.returncode == 0, started.stderr
    name = started.stdout.strip()
    try:
        port = _docker("port", name, "8000/tcp").stdout.split()[0].rsplit(":", 1)[1]
        yield Container(name, f"http://127.0.0.1:{port}")
    except BaseException:
        print(_docker("logs", name).stdout[-6000:])
        raise
    finally:
        _docker("rm", "--force", "--volumes", name)
        _docker("image", "rm", "--force", tag)


def test_the_image_becomes_healthy_and_serves_the_sign_in_page(container: Container) -> None:
    deadline = time.monotonic() + 120
    while (health := container.health()) != "healthy":  # the image's own HEALTHCHECK (on /healthz) says so
        assert health == "starting", f"the container is {health or 'without a health check'}"
        assert time.monotonic() < deadline, "the container did not become healthy"
        time.sleep(1)
    with httpx.Client(base_url=container.url, timeout=10) as http:
        assert http.get("/healthz").status_code == 200
        login = http.get("/login")
        assert login.status_code == 200 and 'href="/static/app.css"' in login.text, login.text[:500]
        css = http.get("/static/app.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    user = _docker("exec", container.name, "id", "-u").stdout.strip()
    assert user and user != "0", f"the server runs as uid {user!r}"
