"""Which files may be attached: judged by their bytes, never by their names. Pure: bytes in, verdict out."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from livesupport.domain.errors import BadRequestError, RefusedFileError, TooLargeError

MAX_NAME = 255
REFUSED = "Programs, scripts and documents with macros cannot be attached, whatever their names."

# Executable formats by their first bytes.
_EXECUTABLES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"), (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"), (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"#!", "a script"),
    (b"\x00asm", "a WebAssembly program"),
    (b"dex\n", "an Android program"),
)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Storage names (UTF-16 in the OLE2 directory) that only documents with VBA macros have.
_OLE2_MACROS = tuple(n.encode("utf-16-le") for n in ("_VBA_PROJECT", "VBA", "Macros")) + (b"_VBA_PROJECT",)
# Text that is a script for Windows or a browser, wherever it starts.
_SCRIPT_TEXT = re.compile(
    rb"(?i)(<\s*script\b|<\s*hta:application|<\s*job\b|@echo\s+off|\bwscript\.|\bcreateobject\s*\(|"
    rb"\bset-executionpolicy\b|\binvoke-expression\b|\bpowershell(\.exe)?\s+-|^\s*on\s+error\s+resume\s+next)",
    re.MULTILINE,
)
_RISKY_MEMBERS = re.compile(r"(?i)\.(exe|dll|scr|com|msi|bat|cmd|ps1|vbs|vbe|js|jse|wsf|hta|jar|lnk|sh|app)$")


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
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise BadRequestError("The file name contains control characters.")
    if len(name) > MAX_NAME:
        raise TooLargeError(f"The file name is {len(name)} characters; the limit is {MAX_NAME}.")
    return name


def check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise TooLargeError(f"{name} is {size / 1048576:.1f} MiB; files may be up to {limit / 1048576:.0f} MiB.")
    if size == 0:
        raise BadRequestError(f"{name} is empty.")


def judge(name: str, data: bytes) -> Verdict:
    """Refuse programs, scripts and macro documents by their content; say what the rest is."""
    head = data[:16]
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            raise RefusedFileError(f"{name} is {what}. {REFUSED}")
    if head.startswith(_OLE2):
        if any(marker in data for marker in _OLE2_MACROS):
            raise RefusedFileError(f"{name} is an Office document with macros. {REFUSED}")
        return Verdict("application/x-ole-storage")
    if head.startswith(b"PK\x03\x04"):
        return Verdict(_judge_zip(name, data))
    if head.startswith(b"%PDF-"):
        return Verdict("application/pdf")
    for magic, kind in ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                        (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif")):
        if head.startswith(magic):
            return Verdict(kind)
    if _looks_like_text(data):
        if _SCRIPT_TEXT.search(data[:1_000_000]):
            raise RefusedFileError(f"{name} contains a script. {REFUSED}")
        return Verdict("text/plain")
    return Verdict("application/octet-stream")


def _judge_zip(name: str, data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.namelist()
    except zipfile.BadZipFile:
        return "application/octet-stream"
    if any(m.lower().endswith("vbaproject.bin") for m in members):
        raise RefusedFileError(f"{name} is an Office document with macros. {REFUSED}")
    risky = next((m for m in members if _RISKY_MEMBERS.search(m)), None)
    if risky is not None:
        raise RefusedFileError(f"{name} is an archive holding a program or script ({risky[-60:]}). {REFUSED}")
    if "[Content_Types].xml" in members:
        return "application/vnd.openxmlformats-officedocument"
    return "application/zip"


def _looks_like_text(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(sample) - 4  # a character cut at the end of the sample
    return True
