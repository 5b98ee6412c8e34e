"""Return paths (`next`, feedback's `page`): only a path on this site, never a way to another one."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_PATH = 2000


def safe_path(target: object, default: str) -> str:
    """`target` when it is a plain local path (with its query), else `default`.

    Browsers read `/\\host`, `//host` and `/<tab>/host` as another site, and undo %-escapes before they do,
    so the path is judged both as sent and decoded: no scheme, no host, no backslash, no control character
    or space, and no second slash right after the first.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > MAX_PATH:
        return default
    decoded = target
    for _ in range(3):  # %25 hides a %: decode a few rounds, as a chain of redirects could
        decoded = unquote(decoded)
    for text in (target, decoded):
        if "\\" in text or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return default
        if text.startswith("//") or not text.startswith("/"):
            return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return parts.path + (f"?{parts.query}" if parts.query else "")
