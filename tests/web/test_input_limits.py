"""Request bodies are bounded as they arrive: too large is answered 413 at once, before anything is buffered."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Deployment
from tests.utils import Server, run_server

MiB = 1024 * 1024
SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


def rss(pid: int) -> int:
    """The resident memory of a process, in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
async def small_server(sqlite_deployment: Deployment) -> AsyncIterator[Server]:
    """A server of its own (its memory is measured), with small attachments (1 KiB) so uploads are quick to pass."""
    async with run_server(sqlite_deployment.env(MAX_ATTACHMENT_BYTES="1024")) as srv:
        yield srv


async def send_chunked(server: Server, path: str, total: int, content_type: str, chunk: int = MiB,
                       pattern: bytes = b"a") -> tuple[bytes, int]:
    """POST `total` bytes in chunks, generated as they go (never held whole); stop once the server answers.

    Returns the head of the answer and how many bytes were written before it came.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: {content_type}\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n").encode())
    piece = f"{chunk:x}\r\n".encode() + (pattern * (chunk // len(pattern) + 1))[:chunk] + b"\r\n"
    answer = asyncio.ensure_future(reader.read(65536))
    sent = 0
    try:
        while sent < total and not answer.done():
            writer.write(piece)
            await writer.drain()
            sent += chunk
        if not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionResetError, BrokenPipeError):
        pass
    head = await asyncio.wait_for(whole_answer(reader, await asyncio.wait_for(answer, 30)), 30)
    writer.close()
    return head, sent


async def whole_answer(reader: asyncio.StreamReader, first: bytes) -> bytes:
    """The answer whole: its head and as many bytes after it as its Content-Length says. The server may write its
    head and its body apart, and the first read can end between them."""
    data = first
    try:
        while b"\r\n\r\n" not in data and (more := await reader.read(65536)):
            data += more
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        while length and len(body) < int(length.group(1)) and (more := await reader.read(65536)):
            body += more
    except (ConnectionResetError, BrokenPipeError):  # closed after the answer: what came is all there is
        return data
    return head + b"\r\n\r\n" + body


async def test_a_150_mib_chunked_body_is_refused_at_once_without_growing_the_server(small_server: Server) -> None:
    pid = small_server.proc.pid
    before = rss(pid)
    peak = before
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss(pid))
            await asyncio.sleep(0.01)

    watcher = asyncio.ensure_future(watch())
    started = time.monotonic()
    head, _ = await asyncio.wait_for(
        send_chunked(small_server, "/api/tokens", 150 * MiB, "application/json"), 120)
    elapsed = time.monotonic() - started
    done.set()
    await watcher
    peak = max(peak, rss(pid))
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b'"too_large"' in head and b"content-security-policy" in head.lower()
    assert elapsed < 10
    assert peak - before < 30 * MiB, f"the server grew by {(peak - before) / MiB:.0f} MiB"
    async with httpx.AsyncClient(base_url=small_server.url) as http:  # and it still serves
        assert (await http.get("/healthz")).status_code == 200


@pytest.mark.parametrize(("path", "content_type", "size", "api"), [
    ("/api/tokens", "application/json", 64 * 1024 + 1, True),                    # JSON: 64 KiB
    ("/api/tokens", "text/plain", 64 * 1024 + 1, True),                          # anything else: as JSON
    ("/login", "application/x-www-form-urlencoded", 256 * 1024 + 1, False),      # page forms: 256 KiB
    ("/feedback", "multipart/form-data; boundary=x", 256 * 1024 + 1, False),     # multipart off the upload route
    ("/api/tickets/1/attachments", "multipart/form-data; boundary=x", 1024 * 10 + MiB + 1, True),  # uploads
])
async def test_each_kind_of_body_has_its_limit(small_server: Server, path: str, content_type: str, size: int,
                                               api: bool) -> None:
    async with httpx.AsyncClient(base_url=small_server.url, timeout=30) as http:
        # Declared too large: refused from the header alone.
        r = await http.post(path, content=b"a" * size, headers={"content-type": content_type})
        assert r.status_code == 413, r.text[:300]
        assert all(h in r.headers for h in SECURITY)
        if api:
            assert r.json()["error"]["code"] == "too_large"
        else:
            assert "text/html" in r.headers["content-type"] and "livesupport" in r.text and "too large" in r.text
        # Just within the limit: read, and answered by the route itself (never 413 or 500).
        r = await http.post(path, content=b"a" * (size - 1), headers={"content-type": content_type})
        assert r.status_code not in (413, 500), r.text[:300]
    if not content_type.startswith("multipart/"):  # (a multipart parser refuses these bytes before their size)
        # Chunked (no length declared): counted as it arrives.
        # Form fields of 2 KiB: below the per-field bound, so the body's size is what is refused.
        head, _ = await send_chunked(small_server, path, size + 64 * 1024, content_type, chunk=16 * 1024,
                                     pattern=b"f=" + b"a" * 2045 + b"&")
        assert head.startswith(b"HTTP/1.1 413"), head[:200]


async def test_a_chunked_upload_is_counted_as_it_arrives(small_server: Server, sqlite_deployment: Deployment) -> None:
    user = sqlite_deployment.users["client"]
    async with httpx.AsyncClient(base_url=small_server.url) as http:
        r = await http.post("/api/tokens", json={"email": user["email"], "password": user["password"]})
        token = r.json()["token"]
        r = await http.post("/api/tickets", json={"subject": "Upload limits", "body": "A file follows."},
                            headers={"Authorization": f"Bearer {token}"})
        ticket = r.json()["id"]

    async def body() -> AsyncIterator[bytes]:
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n' \
              b"Content-Type: text/plain\r\n\r\n"
        for _ in range(64):  # 4 MiB of file: over 10 files of 1 KiB plus 1 MiB of overhead
            yield b"a" * 65536
        yield b"\r\n--x--\r\n"

    async with httpx.AsyncClient(base_url=small_server.url, timeout=30) as http:
        r = await http.post(f"/api/tickets/{ticket}/attachments", content=body(),
                            headers={"Authorization": f"Bearer {token}",
                                     "content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert all(h in r.headers for h in SECURITY)


async def test_a_form_with_too_many_fields_is_refused_clearly(small_server: Server) -> None:
    async with httpx.AsyncClient(base_url=small_server.url) as http:
        r = await http.post("/login", content="&".join(f"f{i}=1" for i in range(500)),
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert "too many fields" in r.text.lower() or "fields" in r.text
    assert all(h in r.headers for h in SECURITY)


async def test_the_longest_ticket_a_person_may_write_still_fits(sqlite_deployment: Deployment,
                                                                small_server: Server) -> None:
    """10,000 emoji travel as 120 KB of %-escapes: within the form limits, so the page accepts them."""
    from tests.utils import csrf_of, signed_in

    async with signed_in(small_server, sqlite_deployment.users["client"]["email"]) as http:
        page = await http.get("/tickets/new")
        r = await http.post("/tickets/new", data={"subject": "A long one", "body": "😀" * 10_000,
                                                  "priority": "normal", "csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text[:300]
    assert r.headers["location"].startswith("/tickets/")
