"""A sliding-window failure counter for guessable secrets (passwords, later PINs and codes)."""

from __future__ import annotations

from collections import deque


class FailureThrottle:
    """At most `limit` failures per key within `window` seconds; the clock is passed in."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._fails: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until another try is allowed (0 when allowed now)."""
        q = self._recent(key, now)
        return max(0.0, q[0] + self.window - now) if len(q) >= self.limit else 0.0

    def fail(self, key: str, now: float) -> None:
        self._recent(key, now)
        self._fails.setdefault(key, deque()).append(now)

    def clear(self, key: str) -> None:
        self._fails.pop(key, None)
