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


class Limit:
    """At most `count` failures per key within `window` seconds (what a stored throttle enforces)."""

    __slots__ = ("name", "count", "window")

    def __init__(self, name: str, count: int, window: float) -> None:
        self.name, self.count, self.window = name, count, window


def wait_after(failures: list[float], limit: Limit, now: float) -> float:
    """Seconds until another try is allowed, given the times of the failures inside the window (0: now)."""
    recent = sorted(t for t in failures if t > now - limit.window)
    if len(recent) < limit.count:
        return 0.0
    return max(0.0, recent[-limit.count] + limit.window - now)


def retry_message(wait: float) -> str:
    if wait < 90:
        return f"Too many attempts. Try again in {max(1, round(wait))} seconds."
    minutes = round(wait / 60)
    return f"Too many attempts. Try again in {minutes} minutes."


class TokenBuckets:
    """Per key: `rate` actions a second on average, `burst` at once (rate 0: no limit). Time is passed in."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[object, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: object, now: float) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        if self.rate <= 0:
            return 0.0
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1, now)
        if len(self._buckets) > 10_000:  # forget the full ones: they are as good as new
            self._buckets = {k: v for k, v in self._buckets.items()
                             if v[0] + (now - v[1]) * self.rate < self.burst}
        return 0.0
