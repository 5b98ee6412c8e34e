"""One connection's outbound frames: written at once when the socket can take them, queued (bounded) when not.

A slow reader overflows the queue into a 1013 close; it never stalls the fan-out or the others.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from livesupport import metrics
from livesupport.domain.people import Person
from livesupport.realtime.wire import Wire

SLOW_CONSUMER = 1013

Send = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]  # the raw ASGI send of uvicorn


class Outbox:
    """Frames for one socket, in order.

    The fan-out calls `send_nowait` once per frame per recipient, so it is the hottest code there is.
    When nothing is queued, the ASGI send is driven right there: uvicorn writes to the transport
    without suspending unless the socket's buffer is full. Only then does a task take over, finish that
    send and drain what queued up behind it. No task per connection sits waiting, and no task switch
    is paid per frame.
    """

    __slots__ = ("person", "access_epoch", "credential", "maxsize", "frames", "close_code", "close_reason", "topics", "on_close",
                 "_send", "_wire", "_writer", "_space")

    def __init__(self, person: Person, maxsize: int, credential: str = "", send: Send | None = None) -> None:
        self.person = person
        self.access_epoch = 0  # grows when an access change swaps the person: a join in flight asks again
        self.credential = credential  # the hash of the session or token that opened it, to revoke it
        self.maxsize = maxsize
        self.frames: deque[str] = deque()
        self.close_code: int | None = None
        self.close_reason = ""
        self.topics: set[str] = set()
        self.on_close: Callable[[], Any] | None = None
        self._send = send
        self._wire = Wire.of(send)  # the frame's bytes straight to the socket, when that is plainly possible
        self._writer: asyncio.Task[None] | None = None  # finishing a send that had to wait, then the queue
        self._space: asyncio.Future[None] | None = None  # a replay, waiting for room

    def send_nowait(self, text: str) -> None:
        """Live frames: never wait for a slow reader."""
        if self.close_code is not None or self._send is None:
            return
        if self._writer is None:
            wire = self._wire
            if wire is not None and wire.write(text):
                return  # written
            coro = self._send({"type": "websocket.send", "text": text})
            try:
                waiting_on = coro.send(None)
            except StopIteration:
                return  # written
            except Exception:  # noqa: BLE001 - the peer is gone; the read loop notices and cleans up
                self._send = None
                return
            metrics.SEND_WAITS.inc()
            self._writer = asyncio.ensure_future(self._write(coro, waiting_on))  # type: ignore[arg-type]
            return
        if len(self.frames) >= self.maxsize:
            metrics.SLOW_CONSUMERS.inc()
            self.close(SLOW_CONSUMER, "You fell behind; reconnect and resume with since.")
            return
        self.frames.append(text)

    async def send(self, text: str) -> None:
        """Replies to this connection's own requests and replay: wait for room instead of dropping."""
        while len(self.frames) >= self.maxsize and self.close_code is None:
            self._space = asyncio.get_running_loop().create_future()
            await self._space
        self.send_nowait(text)

    async def _write(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        """Finish a send that had to wait for the socket, then write what queued up meanwhile."""
        try:
            try:
                while True:  # drive the suspended send to its end, as a Task would
                    try:
                        if waiting_on is None:  # a bare yield: give the loop one turn
                            await asyncio.sleep(0)
                        else:
                            # Task.__step clears this flag on the future a coroutine yields; we took
                            # that yield ourselves, so we clear it before waiting on the future.
                            waiting_on._asyncio_future_blocking = False
                            await waiting_on
                    except BaseException as exc:  # noqa: BLE001 - hand it to the send, as a Task would
                        waiting_on = coro.throw(exc)
                    else:
                        waiting_on = coro.send(None)
            except StopIteration:
                pass
            frames, send = self.frames, self._send
            while frames and send is not None:
                await send({"type": "websocket.send", "text": frames.popleft()})
                space = self._space
                if space is not None and len(frames) < self.maxsize:
                    self._space = None
                    if not space.done():
                        space.set_result(None)
        except Exception:  # noqa: BLE001 - the peer is gone; the read loop notices and cleans up
            self._send = None
        finally:
            self._writer = None

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self.frames.clear()
            if self._space is not None and not self._space.done():
                self._space.set_result(None)
            if self.on_close is not None:
                self.on_close()

    async def stop(self) -> None:
        """The connection is over: stop writing."""
        self._send = None
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
