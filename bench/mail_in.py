"""How fast e-mail comes in: N replies (1,000 by default) through `livesupport mail-in` (LMTP) to one ticket,
until every one is stored (answered 250) and live (received by an engineer's WebSocket on the ticket).

Starts a real server and `livesupport mail-in` on a fresh database (SQLite and PostgreSQL) sharing the machine's
Redis (its own key prefix, removed at the end), as the tests do; delivers over `--connections` LMTP connections
at once (Postfix's default concurrency per destination is 20), each reusing its connection like Postfix's
connection cache. Prints the time to store all and to see all live, and the rate. Target: 1,000 in <= 30 s.

    .venv/bin/python bench/mail_in.py                      # both databases, 1,000 mails, 8 connections
    .venv/bin/python bench/mail_in.py --db sqlite --mails 200
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import smtplib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import REDIS, _deployment  # noqa: E402
from tests.mailin.helpers import corpus, mail_desk, reply_address  # noqa: E402
from tests.realtime.helpers import connected, open_ticket  # noqa: E402


def send_batch(port: int, sender: str, to: str, mails: list[bytes]) -> int:
    with smtplib.LMTP("127.0.0.1", port, timeout=60) as lmtp:
        for raw in mails:
            refused = lmtp.sendmail(sender, [to], raw)
            assert not refused, refused
    return len(mails)


async def one(kind: str, count: int, connections: int) -> None:
    prefix = f"bench-mail-{secrets.token_hex(4)}:"
    async for d in _deployment(kind):
        async with mail_desk(d, (REDIS, prefix), MAIL_IN_RATE="0") as desk:
            tid = await open_ticket(desk.server, d, "Bench: replies by e-mail")
            alice = d.users["client"]
            to = reply_address(d, tid, "client")
            names = ["gmail.eml", "outlook.eml", "outlook_html_only.eml", "apple_mail.eml", "thunderbird.eml",
                     "iso_8859_1.eml", "shift_jis.eml"]
            mails = [corpus(names[i % len(names)], tid, alice["email"], to, f"b{i}-{secrets.token_hex(3)}")
                     for i in range(count)]
            batches = [mails[i::connections] for i in range(connections)]
            async with connected(desk.server, d, "engineer") as dana:
                await dana.join(f"ticket:{tid}")
                start = time.perf_counter()
                loop = asyncio.get_running_loop()
                with ThreadPoolExecutor(connections) as pool:
                    await asyncio.gather(*(loop.run_in_executor(pool, send_batch, desk.lmtp_port, alice["email"], to,
                                                                b) for b in batches))
                stored = time.perf_counter() - start
                seen = 0
                while seen < count:
                    await dana.expect(type="event", kind="chat", timeout=60)
                    seen += 1
                live = time.perf_counter() - start
            print(f"{kind:8} {count} mails over {connections} LMTP connections: all stored in {stored:.1f} s, "
                  f"all live in {live:.1f} s ({count / live:.0f} a second)", flush=True)
    import redis

    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    for kind in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        asyncio.run(one(kind, args.mails, args.connections))


if __name__ == "__main__":
    main()
