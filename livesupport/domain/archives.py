"""The files inside a zip (also jar, apk, docx and the like) or a tar, and the bytes inside gzip, bzip2 and xz, read
within limits so a zip bomb cannot hurt. Pure."""

from __future__ import annotations

import bz2
import io
import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

MAX_DEPTH = 3  # an archive in an archive in an archive, and no deeper
MAX_ENTRIES = 1000  # files in all the archives of one upload together
MAX_EXPANDED = 100 * 1024 * 1024  # bytes they expand to, together
MAX_RATIO = 100  # how much one entry may shrink when compressed (an Office document's XML: about 10)
RATIO_FROM = 1024 * 1024  # entries smaller than this expanded are small whatever their ratio


class ArchiveError(Exception):
    """An archive that cannot be checked: why, in words for the person who sent it, and where it lies."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why, self.path = why, list[str]()


@dataclass(slots=True)
class Budget:
    """What the archives of one upload may still expand to."""

    entries: int = MAX_ENTRIES
    expanded: int = MAX_EXPANDED


def names(data: bytes) -> list[str]:
    """The names of the files in a zip (empty when it cannot be read: `entries` says why)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.namelist()
    except Exception:  # noqa: BLE001
        return []


def entries(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """Each file in the zip with its bytes, refusing an encrypted, unreadable or explosive one."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001  (BadZipFile, but also what a damaged directory raises)
        raise ArchiveError("is a damaged zip archive that cannot be opened, so its contents cannot be checked") from None
    with z:
        infos = [i for i in z.infolist() if not i.is_dir()]
        budget.entries -= len(infos)
        if budget.entries < 0:
            raise ArchiveError(f"holds more than {MAX_ENTRIES} files; send fewer at a time")
        for info in infos:
            if info.flag_bits & 0x1:
                raise ArchiveError(f"is encrypted ({info.filename[-60:]}), so its contents cannot be checked; "
                                   "send it without a password")
            if info.file_size >= RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise ArchiveError(f"holds {info.filename[-60:]}, which expands {info.file_size // max(info.compress_size, 1)}"
                                   f" times (more than {MAX_RATIO}): it looks like a zip bomb")
            budget.expanded -= info.file_size
            if budget.expanded < 0:
                raise ArchiveError(f"expands to more than {MAX_EXPANDED // 1048576} MiB: it looks like a zip bomb")
            try:
                with z.open(info) as f:
                    content = f.read(info.file_size + 1)  # zipfile stops at the declared size and checks the CRC
            except Exception as exc:  # noqa: BLE001  (bad CRC, unknown compression, truncated data)
                raise ArchiveError(f"cannot be read ({info.filename[-60:]}: {type(exc).__name__}), so its contents "
                                   "cannot be checked") from None
            yield info.filename, content


def _decompressor(kind: str) -> zlib._Decompress | bz2.BZ2Decompressor | lzma.LZMADecompressor:
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    return bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()


def decompress(data: bytes, kind: str, budget: Budget) -> bytes:
    """The bytes a gzip, bzip2 or xz file holds (every stream of it), never more than the budget: a bomb stops at the
    limit instead of filling the memory."""
    out, rest, limit = bytearray(), data, budget.expanded + 1
    try:
        while rest and len(out) < limit:
            d = _decompressor(kind)
            out += d.decompress(rest, limit - len(out))
            if not d.eof and len(out) < limit:
                raise EOFError("it ends in the middle")
            rest = d.unused_data.lstrip(b"\0")  # a gzip may hold several members one after another, padded
    except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
        raise ArchiveError(f"is a damaged {kind} file that cannot be read ({exc}), so its contents cannot be "
                           "checked") from None
    if len(out) >= limit:
        raise ArchiveError(f"expands to more than {MAX_EXPANDED // 1048576} MiB: it looks like a compression bomb")
    if len(out) >= RATIO_FROM and len(out) > MAX_RATIO * len(data):
        raise ArchiveError(f"expands {len(out) // len(data)} times (more than {MAX_RATIO}): it looks like a "
                           "compression bomb")
    budget.expanded -= len(out)
    return bytes(out)


def tar_entries(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """Each regular file in a tar with its bytes (links and devices hold none), within the budget."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
        members = archive.getmembers()
    except (tarfile.TarError, EOFError, OSError):
        raise ArchiveError("is a damaged tar archive that cannot be opened, so its contents cannot be checked") from None
    with archive:
        files = [m for m in members if m.isfile()]
        budget.entries -= len(files)
        if budget.entries < 0:
            raise ArchiveError(f"holds more than {MAX_ENTRIES} files; send fewer at a time")
        for member in files:
            budget.expanded -= member.size
            if budget.expanded < 0:
                raise ArchiveError(f"expands to more than {MAX_EXPANDED // 1048576} MiB: it looks like a zip bomb")
            stream = archive.extractfile(member)
            content = stream.read(member.size) if stream is not None else b""
            if len(content) != member.size:
                raise ArchiveError(f"is cut short ({member.name[-60:]}), so its contents cannot be checked")
            yield member.name, content
