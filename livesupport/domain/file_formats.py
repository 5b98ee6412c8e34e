"""What a run of bytes is: programs, scripts and macro documents by their content. Pure: bytes in, words out."""

from __future__ import annotations

import re

import puremagic

# Executable formats by their first bytes.
_EXECUTABLES = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xfe\xed\xfa\xce", "a macOS program"), (b"\xfe\xed\xfa\xcf", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"), (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"\x00asm", "a WebAssembly program"),
    (b"dex\n", "an Android program"),
    (b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F", "a Windows shortcut"),
    (b"ITSF", "a Windows help file (it can run programs)"),
    (b"REGEDIT", "a Windows registry file"),
    (b"Windows Registry Editor", "a Windows registry file"),
)
_SEALED = ((b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!\x1a\x07", "a RAR archive"),
           (b"MSCF\x00\x00\x00\x00", "a Windows cabinet"))
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Storage names (UTF-16 in the OLE2 directory) that only documents with VBA macros have.
_OLE2_MACROS = tuple(n.encode("utf-16-le") for n in ("_VBA_PROJECT", "VBA", "Macros")) + (b"_VBA_PROJECT",)
# The class ids of a Windows Installer package, patch and transform (the root storage's CLSID).
_INSTALLER_CLSIDS = tuple(bytes.fromhex(f"{n}100c0000000000c000000000000046") for n in ("84", "86", "82"))
# What puremagic (a second opinion, by signatures this module does not list) may call a program.
_PUREMAGIC_PROGRAMS = {".exe", ".dll", ".sys", ".scr", ".cpl", ".ocx", ".com", ".msi", ".lnk", ".chm", ".reg",
                       ".class", ".dex", ".apk", ".jar", ".appimage", ".elf", ".o", ".so", ".dylib", ".wasm"}
# The marks of a script for Windows (batch, PowerShell, VBScript, JScript, HTA) or a browser, in lowered text,
# wherever they are. Each starts with a literal, so each is a fast scan: no file is slow to check.
_SCRIPT_MARKS = tuple(re.compile(p.replace(" +", "[ \t]+").replace(" *", "[ \t]*")) for p in (
    r"<script\b", r"< +script\b", r"<hta:application", r"< +hta:application", r"<job\b", r"@echo +off\b",
    r"wscript\.", r"createobject *\(", r"getobject *\(", r"activexobject *\(", r"executeglobal\b",
    r"execute *\(? *\"", r"scripting\.filesystemobject", r"shell\.application", r"adodb\.stream",
    r"msxml2\.(server)?xmlhttp", r"on +error +resume +next", r"\n *end +(sub|function) *\r?\n",
    r"set-executionpolicy", r"invoke-(expression|webrequest|restmethod|command|item)\b", r"iex *[($]",
    r"powershell(\.exe)? +-", r"start-(process|bitstransfer)\b", r"new-object\b", r"add-type\b",
    r"set-itemproperty\b", r"new-itemproperty\b", r"get-(wmiobject|ciminstance)\b", r"add-mppreference\b",
    r"set-mppreference\b", r"register-scheduledtask\b", r"\$env:\w", r"-encodedcommand\b",
    r"download(string|file|data) *\(", r"frombase64string *\(", r"cmd(\.exe)? +/[ck]\b", r"%~dp0",
    r"reg +(add|delete) +hk", r"schtasks +/create", r"bitsadmin +/transfer", r"certutil +-urlcache",
    r"\[internetshortcut\]", r"curl\b[^\n|]*\| *(ba|z)?sh\b",
))
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
SCAN = 16 * 1024 * 1024  # characters of a file searched for the marks of a script (all of an attachment's)


def program(data: bytes) -> str | None:
    """What program format the bytes are, if any (for example "a Linux program")."""
    head = data[:32]
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            return what
    if head.startswith(OLE2):
        if _ole2_clsid(data) in _INSTALLER_CLSIDS:
            return "a Windows installer"
        return None
    return None


def sealed_archive(data: bytes) -> str | None:
    """An archive format whose insides are not checked here (zip, tar, gzip, bzip2 and xz are): what it is, if one."""
    head = data[:8]
    for magic, what in _SEALED:
        if head.startswith(magic):
            return what
    return None


def compressed(data: bytes) -> str | None:
    """The compression ("gzip", "bzip2", "xz") of a file that is one stream of compressed bytes, if it is one."""
    if data.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if data[:3] == b"BZh" and data[3:4] in b"123456789" and data[4:10] == b"1AY&SY":
        return "bzip2"
    return "xz" if data.startswith(b"\xfd7zXZ\x00") else None


def is_tar(data: bytes) -> bool:
    return data[257:262] == b"ustar"


def other(data: bytes) -> tuple[str | None, str]:
    """For bytes none of the checks here knows, puremagic's opinion: (a program it names, or None; a MIME type)."""
    try:
        matches = puremagic.magic_string(data[:65536])
    except (puremagic.PureError, ValueError):  # no signature known (or too few bytes): nothing to add
        return None, "application/octet-stream"
    for m in matches:
        if m.confidence >= 0.4 and (m.extension.lower() in _PUREMAGIC_PROGRAMS or "executable" in m.name.lower()):
            return f"a program ({m.name})", "application/octet-stream"
    mime = next((m.mime_type for m in matches if m.mime_type and "/" in m.mime_type), "")
    safe = mime.split("/")[0] in ("image", "audio", "video") or mime in ("application/pdf",)
    return None, mime if safe else "application/octet-stream"


def ole2_macros(data: bytes) -> bool:
    return any(marker in data for marker in _OLE2_MACROS)


def _ole2_clsid(data: bytes) -> bytes:
    """The root storage's class id: the first directory entry's bytes 80..96."""
    if len(data) < 0x34:
        return b""
    sector = 1 << min(int.from_bytes(data[0x1E:0x20], "little"), 16)
    first_dir = int.from_bytes(data[0x30:0x34], "little")
    start = (first_dir + 1) * sector + 0x50
    return data[start:start + 16]


def script(data: bytes) -> str | None:
    """Which script the bytes are, if any: read as text whatever their encoding (BOM, UTF-16, none)."""
    for text in _readings(data[:SCAN * 2]):
        if text.lstrip("\ufeff \t\r\n").startswith("#!"):
            return "a script"
        text = text[:SCAN].lower()
        for mark in _SCRIPT_MARKS:
            found = mark.search(text)
            if found is not None:
                return f"a script ({found.group(0).strip()[:30]!r})"
    return None


def _readings(sample: bytes) -> list[str]:
    """The ways the bytes may be read as text: by their BOM, as UTF-16 when every other byte is zero, as bytes."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return [sample[len(bom):].decode(encoding, "ignore"), sample.decode("latin-1")]
    readings = [sample.decode("latin-1")]  # any byte run: the marks searched for are ASCII
    head = sample[:8192]
    if len(head) >= 4:
        zeros_odd, zeros_even = head[1::2].count(0), head[0::2].count(0)
        if zeros_odd > len(head) // 4:
            readings.append(sample.decode("utf-16-le", "ignore"))
        if zeros_even > len(head) // 4:
            readings.append(sample.decode("utf-16-be", "ignore"))
    return readings


def looks_like_text(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(sample) - 4  # a character cut at the end of the sample
    return True
