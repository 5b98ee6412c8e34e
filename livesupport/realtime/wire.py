"""Event frames written straight to the socket: encoded once per event, not once per recipient.

uvicorn's websockets-sansio protocol (what `livesupport serve` runs) turns every ASGI send into a websockets
`Frame`, serialises it and writes it to the transport. A server's frames are not masked, and no extension is
ever negotiated (compression is off), so one event's frame is the same bytes for every recipient. `Wire`
writes those bytes to the transport itself while the connection is plainly open, and declines (the caller
takes the ASGI send, which waits, closes or refuses as it should) whenever anything else holds: a full
socket buffer, a close begun, a handshake not finished, an extension, a frame of uvicorn's not yet written.
"""

from __future__ import annotations

from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State

_SEEN: list[tuple[str, bytes]] = [("", b""), ("", b"")]  # the last two texts and their frames (staff's, clients')


def frame_of(text: str) -> bytes:
    """The unmasked WebSocket text frame carrying `text` (a fan-out asks for the same text hundreds of times)."""
    for seen, frame in _SEEN:
        if seen is text:
            return frame
    frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])
    _SEEN[1] = _SEEN[0]
    _SEEN[0] = (text, frame)
    return frame


class Wire:
    """The socket under one connection's ASGI send, when that is uvicorn's websockets-sansio protocol."""

    __slots__ = ("_proto", "_conn")

    def __init__(self, proto: Any) -> None:
        self._proto = proto
        self._conn = proto.conn

    @staticmethod
    def of(send: Any) -> Wire | None:
        proto = getattr(send, "__self__", None)
        kind = type(proto)
        if kind.__name__ != "WebSocketsSansIOProtocol" or not kind.__module__.startswith("uvicorn."):
            return None
        needed = ("conn", "transport", "writable", "disconnected", "close_sent", "initial_response",
                  "handshake_complete")
        if not all(hasattr(proto, name) for name in needed):
            return None  # another uvicorn than the one this was written for: the ASGI send it is
        return Wire(proto)

    def write(self, text: str) -> bool:
        """Write `text` as one frame now; False when the ASGI send must do it."""
        proto, conn = self._proto, self._conn
        if (not proto.handshake_complete or proto.close_sent or proto.disconnected or proto.initial_response is not None
                or not proto.writable.is_set() or conn.state is not State.OPEN or conn.expect_continuation_frame
                or conn.extensions or conn.writes):
            return False
        transport = proto.transport
        if transport.is_closing():
            return False
        transport.write(frame_of(text))
        return True
