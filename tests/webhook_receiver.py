"""A real webhook receiver for tests: an HTTP server on 127.0.0.1 (a thread of its own) that keeps every
request, checks each signature the way docs/integrations.md tells receivers to, and fails when told to."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.utils import free_port


def signed_ok(secret: str, timestamp: str, signature: str, body: bytes) -> bool:
    """The documented check: hex HMAC-SHA256 of "<timestamp>.<body>" under the secret, in a v1= entry."""
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(part.strip()[3:], expected) for part in signature.split(",")
               if part.strip().startswith("v1="))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    fail_tickets: dict[int, int] = field(default_factory=dict)  # ticket id -> how many more times to answer 500
    fail_all: bool = False
    held: threading.Event | None = None  # when given, every request waits for it before being answered
    arrived: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: bytes) -> int:
        with self.lock:
            if self.fail_all:
                return 500
            try:
                ticket = json.loads(body).get("ticket", {}).get("id")
            except ValueError:
                return 400
            if self.fail_tickets.get(ticket, 0) > 0:
                self.fail_tickets[ticket] -= 1
                return 500
            return 200

    def about(self, ticket_id: int) -> list[Received]:
        """The requests about one ticket, in the order they arrived."""
        return [r for r in list(self.requests) if r.json.get("ticket", {}).get("id") == ticket_id]

    def delivered(self, ticket_id: int) -> list[tuple[int, str]]:
        """(seq, event) of the requests about one ticket that were answered 2xx, in order."""
        return [(r.json["seq"], r.json["event"]) for r in self.about(ticket_id) if r.answered == 200]


@contextmanager
def receiver() -> Iterator[Receiver]:
    port = free_port()
    box = Receiver(f"http://127.0.0.1:{port}/hooks/in")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            box.arrived += 1
            if box.held is not None:
                box.held.wait(60)
            status = box.answer(body)
            box.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body, status))
            reply = b'{"ok": true}' if status == 200 else b"receiver failing on purpose"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()
