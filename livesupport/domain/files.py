"""Which files may be attached: judged by their bytes, never by their names. Pure: bytes in, verdict out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from livesupport.domain import archives
from livesupport.domain import file_formats as formats
from livesupport.domain.errors import BadRequestError, RefusedFileError, TooLargeError

MAX_NAME = 255
REFUSED = "Programs, scripts and documents with macros cannot be attached, whatever their names."

# Names of programs and scripts, refused wherever they are (trailing dots and spaces are dropped by Windows).
_RISKY_NAMES = re.compile(
    r"(?i)\.(exe|dll|scr|com|pif|cpl|ocx|sys|msi|msp|mst|bat|cmd|ps1|psm1|psd1|ps1xml|vbs|vbe|vb|js|jse|wsf|wsh|"
    r"wsc|hta|jar|class|apk|dex|lnk|url|scf|reg|chm|inf|sh|bash|command|app|gadget|application|appx|msix|"
    r"appref-ms)$")
# Invisible characters that can make a name read as something else ("photo\u202egnp.exe" shows "photoexe.png").
_HIDDEN = {"Cc": "a control character", "Cf": "an invisible formatting character", "Co": "a private-use character",
           "Cs": "a broken character", "Cn": "an unassigned character", "Zl": "a line break", "Zp": "a line break"}


class _Found(Exception):
    """A program or script found at `path` (the archives it lies in, outermost first)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what, self.path = what, list[str]()


@dataclass(frozen=True, slots=True)
class Verdict:
    content_type: str  # what the bytes are, for the download


def check_name(name: object) -> str:
    """The name as shown to people; a name with folders in it is refused, not repaired."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequestError("Each file needs a name.")
    name = unicodedata.normalize("NFC", name).strip()
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise BadRequestError(f"The file name {name[:60]!r} contains a folder path; send the file itself.")
    hidden = _hidden(name)
    if hidden is not None:
        raise BadRequestError(f"The file name contains {hidden}, which can disguise what a file is; rename the file "
                              "without it.")
    if len(name) > MAX_NAME:
        raise TooLargeError(f"The file name is {len(name)} characters; the limit is {MAX_NAME}.")
    return name


def _hidden(name: str) -> str | None:
    """The first invisible character of a name, described ("an invisible formatting character (U+202E …)")."""
    c = next((c for c in name if unicodedata.category(c) in _HIDDEN), None)
    if c is None:
        return None
    label = unicodedata.name(c, "")
    return f"{_HIDDEN[unicodedata.category(c)]} (U+{ord(c):04X}{' ' + label if label else ''})"


def check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise TooLargeError(f"{name} is {size / 1048576:.1f} MiB; files may be up to {limit / 1048576:.0f} MiB.")
    if size == 0:
        raise BadRequestError(f"{name} is empty.")


def judge(name: str, data: bytes) -> Verdict:
    """Refuse programs, scripts and macro documents by their content and name, also inside archives; say what the
    rest is. Archives are opened within limits (archives.py), so this may take a moment: run it off the event loop."""
    try:
        content_type = _judge(data, 0, archives.Budget())
        if _risky_name(name):
            raise _Found("named as a program or script")
        return Verdict(content_type)
    except _Found as found:
        where = f"{name} is an archive holding {' › '.join(found.path)}, which is" if found.path else f"{name} is"
        raise RefusedFileError(f"{where} {found.what}. {REFUSED}") from None
    except archives.ArchiveError as bad:
        where = f"{name} holds {' › '.join(bad.path)}, which" if bad.path else name
        raise RefusedFileError(f"{where} {bad.why}.") from None


def _risky_name(name: str) -> bool:
    return _RISKY_NAMES.search(name.rstrip(". ")) is not None


def _judge(data: bytes, depth: int, budget: archives.Budget) -> str:
    """The content type of the bytes; raises _Found or ArchiveError for what is refused."""
    what = formats.program(data)
    if what is not None:
        raise _Found(what)
    head = data[:16]
    if head.startswith(formats.OLE2):
        if formats.ole2_macros(data):
            raise _Found("an Office document with macros")
        return "application/x-ole-storage"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _judge_zip(data, depth, budget)
    compressed = formats.compressed(data)
    if compressed is not None:
        _deeper(depth)
        try:
            _judge(archives.decompress(data, compressed, budget), depth + 1, budget)
        except (_Found, archives.ArchiveError) as refused:
            if refused.path or not isinstance(refused, archives.ArchiveError):
                refused.path.insert(0, f"(its {compressed} contents)")
            raise
        return {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}[compressed]
    if formats.is_tar(data):
        _deeper(depth)
        _judge_members(archives.tar_entries(data, budget), depth, budget)
        return "application/x-tar"
    sealed = formats.sealed_archive(data)
    if sealed is not None:
        raise archives.ArchiveError(f"is {sealed}, whose contents cannot be checked here; send a zip instead")
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    for magic, kind in ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                        (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif")):
        if head.startswith(magic):
            return kind
    found = formats.script(data)
    if found is not None:
        raise _Found(found)
    if formats.looks_like_text(data):
        return "text/plain"
    what, content_type = formats.other(data)
    if what is not None:
        raise _Found(what)
    return content_type


def _deeper(depth: int) -> None:
    if depth >= archives.MAX_DEPTH:
        raise archives.ArchiveError(f"holds archives nested more than {archives.MAX_DEPTH} deep, "
                                    "so its contents cannot be checked")


def _judge_zip(data: bytes, depth: int, budget: archives.Budget) -> str:
    _deeper(depth)
    members = archives.names(data)
    lowered = {m.lower() for m in members}
    if any(m.endswith("vbaproject.bin") for m in lowered):
        raise _Found("an Office document with macros")
    if "androidmanifest.xml" in lowered or any(m.endswith(".dex") for m in lowered):
        raise _Found("an Android app")
    if any(m.endswith(".class") for m in lowered) or "meta-inf/manifest.mf" in lowered and \
            any(m.endswith(".jar") for m in lowered):
        raise _Found("a Java program")
    _judge_members(archives.entries(data, budget), depth, budget)
    if "[content_types].xml" in lowered:
        return "application/vnd.openxmlformats-officedocument"
    return "application/zip"


def _judge_members(members: Iterator[tuple[str, bytes]], depth: int, budget: archives.Budget) -> None:
    for member, content in members:
        hidden = _hidden(member)
        if hidden is not None:
            raise archives.ArchiveError(f"holds a file whose name contains {hidden}, which can disguise what it is")
        try:
            _judge(content, depth + 1, budget)
            if _risky_name(member):
                raise _Found("named as a program or script")
        except (_Found, archives.ArchiveError) as refused:
            refused.path.insert(0, member[-60:])
            raise
