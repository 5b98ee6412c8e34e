"""Test helpers: a real server process on a free port, and a real WebSocket client."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
QUIET = 1.0  # seconds a test waits, after a barrier (what it expects has all arrived), before it says nothing more did


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@asynccontextmanager
async def run_server(env: dict[str, str], port: int | None = None, command: list[str] | None = None,
                     cwd: Path = ROOT) -> AsyncIterator[Server]:
    """Start `livesupport serve` as its own process; always stop it, even when the test fails. `command` is the
    `livesupport` program to run (this checkout's by default)."""
    port = port or free_port()
    log = Path(tempfile.mkstemp(prefix="livesupport-server-", suffix=".log")[1])
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    program = command or [sys.executable, "-m", "livesupport"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*program, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=full_env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
        )
    server = Server(f"http://127.0.0.1:{port}", port, proc, log)
    try:
        await wait_healthy(server)
        yield server
    except BaseException:
        print(f"--- server log ({server.url}) ---\n{server.output()}")  # shown by pytest with the failure
        raise
    finally:
        stop(proc)
        log.unlink(missing_ok=True)


@asynccontextmanager
async def clocked_server(env: dict[str, str], clock: Any) -> AsyncIterator[str]:
    """The app on a real port of this process, whose clock is `clock` (a test's chosen instant): for pages whose
    answer depends on when they are asked. The scheduled jobs do not run in it. Yields its URL.

    Signing in on it purges the tokens that have expired at its instant: hours or more ahead of the wall clock, run
    it on a database of the test's own (conftest `_deployment`), or every shared server's tokens end."""
    import uvicorn

    from livesupport import settings as config
    from livesupport.web.app import create_app

    port = free_port()
    app = create_app(config.load({**env, "WORKER": "separate"}), clock=clock)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           ws_per_message_deflate=False))
    task = asyncio.create_task(server.serve())
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the in-process server stopped before it started")
            if time.monotonic() > deadline:
                raise RuntimeError("the in-process server did not start")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def wait_healthy(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.output()}")
            try:
                if (await http.get(server.url + "/healthz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{server.output()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Client:
    """A protocol client: sends frames, and waits for the frames it expects."""

    ws: ClientConnection
    inbox: list[dict[str, Any]] = field(default_factory=list)
    _refs: int = 0

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())

    async def request(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Send with a fresh ref and return the answer carrying it."""
        self._refs += 1
        ref = f"r{self._refs}"
        await self.send({**frame, "ref": ref})
        return await self.expect(lambda f: f.get("ref") == ref and f["type"] in ("reply", "joined", "pong"))

    async def expect(self, match: Any = None, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """The first frame (already received or arriving) that matches; removed from the inbox."""
        def ok(f: dict[str, Any]) -> bool:
            return (match is None or match(f)) and all(f.get(k) == v for k, v in fields.items())

        deadline = time.monotonic() + timeout
        while True:
            for i, f in enumerate(self.inbox):
                if ok(f):
                    return self.inbox.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no frame matching {fields or match} in {timeout}s; got {self.inbox[-10:]}")
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                continue
            self.inbox.append(orjson.loads(raw))

    async def drain(self, quiet: float = QUIET) -> list[dict[str, Any]]:
        """Everything that arrives until the line is quiet for `quiet` seconds (after a barrier: nothing more comes)."""
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), quiet)
            except TimeoutError:
                out, self.inbox = self.inbox, []
                return out
            self.inbox.append(orjson.loads(raw))

    async def presence(self, viewers: int, timeout: float = 10, quiet: float = 0.3) -> dict[str, Any]:
        """The presence this client settles on, once it counts `viewers` (earlier frames are discarded)."""
        deadline = time.monotonic() + timeout
        latest: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), quiet)
                self.inbox.append(orjson.loads(raw))
                continue
            except TimeoutError:
                pass
            frames = [f for f in self.inbox if f["type"] == "presence"]
            self.inbox = [f for f in self.inbox if f["type"] != "presence"]
            latest = frames[-1] if frames else latest
            if latest is not None and latest["viewers"] == viewers:
                return latest
        raise AssertionError(f"presence did not settle on {viewers} viewers; last: {latest}")

    async def join(self, topic: str, since: int | None = None) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "join", "topic": topic}
        if since is not None:
            frame["since"] = since
        return await self.request(frame)

    async def close(self) -> None:
        await self.ws.close()


@asynccontextmanager
async def ws_client(server: Server, token: str | None = None, **kwargs: Any) -> AsyncIterator[Client]:
    url = server.ws_url + (f"?token={token}" if token else "")
    async with connect(url, compression=None, max_size=None, **{"open_timeout": 10, **kwargs}) as ws:
        yield Client(ws)


def cli(deployment: Any, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Run the `livesupport` command on a test deployment's database (as an operator would)."""
    env = {**os.environ, **deployment.env(**extra_env)}
    return subprocess.run([sys.executable, "-m", "livesupport", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


async def new_user(deployment: Any, role: str, password: str = "correct horse battery staple", **options: str) -> str:
    """A new account of its own (`livesupport user add`, options as `--org`, `--domain`); its e-mail address."""
    import secrets

    tag = secrets.token_hex(3)
    email = f"{role.replace('_', '-')}-{tag}@t{tag}.test"
    made = await asyncio.to_thread(cli, deployment, "user", "add", "--email", email, "--password", password,
                                   "--role", role, *[f"--{k}={v}" for k, v in options.items()])
    assert made.returncode == 0, made.stderr
    return email


def csrf_of(html: str) -> str:
    """The CSRF token of a page's form."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no csrf field in the form"
    return match.group(1)


@asynccontextmanager
async def signed_in(server: Any, email: str, password: str = "correct horse battery staple") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client signed in through the login form, as a browser would be."""
    async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
        page = await http.get("/login")
        r = await http.post("/login", data={"email": email, "password": password, "csrf": csrf_of(page.text),
                                            "next": "/tickets"})
        assert r.status_code == 303, r.text
        yield http
