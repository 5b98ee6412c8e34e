"""The wheel, installed as a user would: built from this checkout, installed into a fresh virtualenv outside it, run
from another folder. The demo seeds and the server answers its sign-in page with every file that page needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import httpx
import pytest

from tests.install.files import SOURCES, healthcheck
from tests.utils import ROOT, csrf_of, run_server

pytestmark = pytest.mark.slow

# What each kind of static file must be served as (a new kind of file fails here until it is added).
CONTENT_TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",),
                 ".svg": ("image/svg+xml",), ".png": ("image/png",), ".ico": ("image/x-icon", "image/vnd.microsoft.icon")}
LINKED = re.compile(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="(/static/[^"?#]+)')
IMPORTED = re.compile(r'''(?:\bimport\b[^"'();]*?\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+\.js)["']''')


@dataclass
class Installed:
    venv: Path
    run_dir: Path  # the working folder: outside the checkout
    data_dir: Path

    @property
    def livesupport(self) -> str:
        return str(self.venv / "bin" / "livesupport")

    def env(self) -> dict[str, str]:
        """The machine's environment without this checkout's virtualenv, and an embedded set-up of its own."""
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        return {**env, "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", "DATA_DIR": str(self.data_dir),
                "DATABASE_URL": "", "REDIS_URL": "", "SECRET_KEY": "", "PYTHONPATH": ""}


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=cwd, env=env)
    assert done.returncode == 0, f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    with tempfile.TemporaryDirectory(prefix="livesupport-wheel-") as tmp:
        base = Path(tmp)
        assert not base.resolve().is_relative_to(ROOT), "the install must be outside the checkout"
        wheels, venv, run_dir = base / "wheels", base / "venv", base / "run"
        run_dir.mkdir()
        # Built from a copy holding only the sources, as in the image: nothing left in the checkout's build/ (a
        # deleted template, say) can reach the wheel.
        source = base / "source"
        source.mkdir()
        for name in SOURCES:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(ROOT / name, source / name)
        _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)])
        [wheel] = wheels.glob("livesupport-*.whl")
        _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
        yield Installed(venv, run_dir, base / "data")


def test_the_installed_package_is_the_wheels_own_with_its_pages_and_data(installed: Installed) -> None:
    where = _run([str(installed.venv / "bin" / "python"), "-c",
                  "import livesupport, livesupport.settings as s, livesupport.store.migrate as m; "
                  "print(livesupport.__file__, s.load().templates_dir, s.load().static_dir, "
                  "m.alembic_config('sqlite://').get_main_option('script_location'))"],
                 cwd=installed.run_dir, env=installed.env()).stdout.split()
    package, templates, static, migrations = (Path(p).resolve() for p in where)
    assert all(p.is_relative_to(installed.venv.resolve()) for p in (package, templates, static, migrations)), where
    assert (templates / "login.html").is_file() and (static / "app.css").is_file(), where
    assert sorted((migrations / "versions").glob("0001_*.py")) and (migrations / "script.py.mako").is_file()
    # The common passwords a new password may not be: read from the package's data/ folder.
    common = _run([str(installed.venv / "bin" / "python"), "-c",
                   "from livesupport.actions.passwords import common_passwords; print(len(common_passwords()))"],
                  cwd=installed.run_dir, env=installed.env())
    assert int(common.stdout) > 10000, common.stdout


async def test_demo_seeds_then_the_server_serves_every_file_the_sign_in_page_needs(installed: Installed) -> None:
    demo = _run([installed.livesupport, "demo", "--no-serve"], cwd=installed.run_dir, env=installed.env())
    assert "Log in as" in demo.stdout, demo.stdout
    assert (installed.data_dir / "livesupport.db").is_file()
    email, password = re.search(r"^\s+(\S+@\S+)\s+(\S+)", demo.stdout.split("Log in as", 1)[1], re.M).groups()  # type: ignore[union-attr]

    async with run_server(installed.env(), command=[installed.livesupport], cwd=installed.run_dir) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            assert (await http.get("/healthz")).status_code == 200
            assert _probe(installed, server.port) == 0, "the image's HEALTHCHECK finds a running server unhealthy"
            login = await http.get("/login")
            assert login.status_code == 200, login.text
            pending = sorted(set(LINKED.findall(login.text)))
            assert "/static/app.css" in pending and any(p.endswith(".js") for p in pending), pending
            seen: dict[str, str] = {}
            while pending:
                path = pending.pop()
                if path in seen:
                    continue
                r = await http.get(path)
                assert r.status_code == 200, f"{path}: {r.status_code}"
                suffix = Path(path).suffix
                kind = r.headers["content-type"].split(";")[0].strip()
                assert kind in CONTENT_TYPES.get(suffix, ()), f"{path} is served as {kind}"
                seen[path] = kind
                if suffix == ".js":  # a module's own imports are fetched by the browser too
                    pending += [urlparse(urljoin(server.url + path, spec)).path for spec in IMPORTED.findall(r.text)]
            assert any(p != "/static/app.js" and p.endswith(".js") and p not in LINKED.findall(login.text)
                       for p in seen), f"no module imported by another was fetched: {sorted(seen)}"

            # The seeded demo data, behind the sign-in form, through the installed templates.
            r = await http.post("/login", data={"email": email, "password": password, "csrf": csrf_of(login.text),
                                                "next": "/tickets"})
            assert r.status_code == 303, r.text
            tickets = await http.get("/tickets")
            assert tickets.status_code == 200 and "Ticket" in tickets.text, tickets.text[:500]
    assert _probe(installed, server.port) == 1, "the image's HEALTHCHECK finds a stopped server healthy"


def _probe(installed: Installed, port: int) -> int:
    """The Dockerfile's HEALTHCHECK command, run by the installed Python against `port` (the image's 8000)."""
    argv = [a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in healthcheck()]
    argv[0] = str(installed.venv / "bin" / argv[0])
    return subprocess.run(argv, capture_output=True, timeout=30, cwd=installed.run_dir, env=installed.env()).returncode
