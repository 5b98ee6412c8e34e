"""Attachments over HTTP against a real server: judged by their bytes, stored safely, shown only to who may see them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import Deployment, token_for
from tests.realtime.helpers import all_events, connected, open_ticket
from tests.utils import Server


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


async def upload(srv: Server, d: Deployment, who: str, tid: int, files: list[tuple[str, bytes]],
                 **fields: str) -> httpx.Response:
    token = await token_for(srv, d, who)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.post(f"/api/tickets/{tid}/attachments", data=fields,
                               files=[("file", (name, data)) for name, data in files],
                               headers={"Authorization": f"Bearer {token}"})


async def get(srv: Server, d: Deployment, who: str, url: str) -> httpx.Response:
    token = await token_for(srv, d, who)
    async with httpx.AsyncClient(base_url=srv.url) as http:
        return await http.get(url, headers={"Authorization": f"Bearer {token}"})


def stored_files(d: Deployment) -> list[Path]:
    root = d.data_dir / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def office_with_macros() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buf.getvalue()


OLE2_WITH_MACROS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "_VBA_PROJECT".encode("utf-16-le")
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200 + b"This program cannot be run in DOS mode."


async def test_a_file_both_ways_and_who_may_download_it(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    topic = f"ticket:{tid}"
    async with connected(server, d, "engineer") as eng:
        await eng.join(topic)
        r = await upload(server, d, "client", tid, [("error log.txt", b"550 5.7.1 relaying denied\n")],
                         body="Here is the log")
        assert r.status_code == 201, r.text
        att = r.json()["attachments"][0]
        assert att["name"] == "error log.txt" and att["size"] == 26 and att["type"] == "text/plain"
        ev = await eng.expect(type="event", seq=r.json()["seq"])
        assert ev["data"]["body"] == "Here is the log" and ev["data"]["attachments"] == [att]

        got = await get(server, d, "engineer", att["url"])
        assert got.status_code == 200 and got.content == b"550 5.7.1 relaying denied\n"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert (await get(server, d, "outsider", att["url"])).status_code == 404  # another organisation

        internal = await upload(server, d, "engineer", tid, [("notes.txt", b"admin password is in the vault")],
                                visibility="internal")
        assert internal.status_code == 201, internal.text
        url = internal.json()["attachments"][0]["url"]
        assert (await get(server, d, "client", url)).status_code == 404
        assert (await get(server, d, "engineer", url)).status_code == 200
        refused = await upload(server, d, "client", tid, [("x.txt", b"x")], visibility="internal")
        assert refused.status_code == 403
    assert "vault" not in str(await all_events(server, d, "client", tid))
    async with httpx.AsyncClient(base_url=server.url) as anon:
        assert (await anon.get(att["url"])).status_code == 401


@pytest.mark.parametrize(("name", "data", "status", "code", "words"), [
    ("invoice.pdf", WINDOWS_PROGRAM, 415, "refused_file", "Windows program"),
    ("report.docm", office_with_macros(), 415, "refused_file", "macros"),
    ("budget.xls", OLE2_WITH_MACROS, 415, "refused_file", "macros"),
    ("readme.txt", b"#!/bin/sh\nrm -rf ~\n", 415, "refused_file", "script"),
    ("notes.txt", b"Set o = CreateObject(\"WScript.Shell\")\n", 415, "refused_file", "script"),
    ("photos.zip", None, 415, "refused_file", "archive"),
    ("../../etc/passwd", b"root:x:0:0", 400, "bad_request", "folder"),
    ("big.bin", b"\x01" * (10 * 1024 * 1024 + 1), 413, "too_large", "MiB"),
    ("empty.txt", b"", 400, "bad_request", "empty"),
])
async def test_refusals_store_nothing(server: Server, d: Deployment, name: str, data: bytes | None, status: int,
                                      code: str, words: str) -> None:
    if data is None:  # an archive with a program inside
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("holiday/setup.exe", WINDOWS_PROGRAM)
        data = buf.getvalue()
    tid = await open_ticket(server, d)
    before_files, before_events = stored_files(d), await all_events(server, d, "engineer", tid)
    # A good file in the same request is not stored either: all or nothing.
    r = await upload(server, d, "client", tid, [("fine.txt", b"hello"), (name, data)], body="see attached")
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert stored_files(d) == before_files
    assert await all_events(server, d, "engineer", tid) == before_events


async def test_upload_needs_files_and_a_visible_ticket(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    r = await upload(server, d, "client", tid, [], body="nothing attached")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    r = await upload(server, d, "outsider", tid, [("a.txt", b"a")])
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
