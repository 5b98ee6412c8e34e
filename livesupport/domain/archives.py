"""The files inside a zip (also jar, apk, docx and the like), read within limits so a zip bomb cannot hurt. Pure."""

from __future__ import annotations

import io
import zipfile
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
