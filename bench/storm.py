"""The reconnect storm (issue 20): how long N sockets take to connect (and, for livesupport, join a ticket),
against the thin Starlette+Redis forwarder, two processes each, runs interleaved.

    .venv/bin/python bench/storm.py                       # 1,000 joining, then 10,000 reconnecting with since, 3 runs
    .venv/bin/python bench/storm.py --sizes 1000 --runs 1

For livesupport every socket authenticates with a token (all the same client, as after a deploy most sockets
are different tabs of few people... here one) and joins one ticket; the 10,000 size joins with `since` = the
ticket's last seq (caught up: nothing to replay). Thin has nothing to authenticate or join. After each
livesupport run, each process's /metrics say how full the database pool got (peak against its capacity), how
long set-up work waited for a slot, how many joins shared a snapshot read and how many sockets were shed (1013).
A socket closed before it was ready (a shed one too) fails the run: "no error" is part of the target.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import run  # noqa: E402  (bench/run.py: servers, load generator, clean-up)

METRICS = ("livesupport_db_pool_peak", "livesupport_db_pool_capacity", "livesupport_shed_connections_total",
           "livesupport_shared_reads_total", "livesupport_remembered_joins_total", "livesupport_setup_wait_seconds_sum",
           "livesupport_setup_wait_seconds_count", "livesupport_db_pool_wait_seconds_sum",
           "livesupport_db_pool_wait_seconds_count", "livesupport_connections")


def scrape(port: int) -> dict[str, float]:
    req = urllib.request.Request(f"http://{run.HOST}:{port}/metrics",
                                 headers={"Authorization": f"Bearer {run.METRICS_TOKEN}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    out = {}
    for name in METRICS:
        found = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)
        if found:
            out[name] = float(found.group(1))
    return out


def last_seq(port: int, ticket: str, token: str) -> int:
    status, body = run.http_json("GET", f"http://{run.HOST}:{port}/api/tickets/{ticket.split(':')[1]}/events?since=0",
                                 token=token)
    if status != 200:
        raise RuntimeError(f"events: {status} {body}")
    return max((e["seq"] for e in body["events"]), default=0)


def one(bench: run.Bench, kind: str, n: int, since: bool, concurrency: int) -> dict[str, Any]:
    with bench.deploy(kind, f"storm{n}", 2) as dep:  # two processes each
        time.sleep(1.0)
        run.wait_quiet(bench.args.quiet_wait, bench.args.quiet_threshold)
        config: dict[str, Any] = {"kind": kind, "mode": "idle", "ports": dep.ports, "subscribers": n,
                                  "connect_concurrency": concurrency, **dep.loadgen_config}
        if kind == "livesupport" and since:
            config["since"] = last_seq(dep.ports[0], config["topic"], config["token_sub"])
        cpu0 = sum(run.proc_cpu_us(p.pid) for p in dep.procs)
        lg = run.Loadgen(config, bench.workdir, bench.base_env)
        try:
            connected = lg.expect("connected", timeout=600)
            cpu = sum(run.proc_cpu_us(p.pid) for p in dep.procs) - cpu0
        finally:
            done = lg.quit()
        result: dict[str, Any] = {"server": kind, "sockets": n, "since": config.get("since"),
                                  "connect_s": connected["connect_ms"] / 1000,
                                  # the servers' CPU (both processes) from the load generator's start to "connected"
                                  "server_cpu_ms_per_socket": round(cpu / 1000 / n, 3),
                                  "closes": (done or {}).get("frames", {}).get("closes")}
        if kind == "livesupport":
            result["metrics"] = [scrape(p) for p in dep.ports]
    result["log_problems"] = dep.log_problems
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,10000", help="socket counts; the largest reconnects with since")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--servers", default="livesupport,thin")
    p.add_argument("--connect-concurrency", type=int, default=1000, help="handshakes the load generator keeps open")
    p.add_argument("--redis-db", type=int, default=7)
    p.add_argument("--quiet-wait", type=float, default=30)
    p.add_argument("--quiet-threshold", type=float, default=0.3)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    # Each process has its own limit: the load generator holds one file per socket, each server process its share.
    run.raise_nofile(max(sizes) + 1000)
    run.ensure_dependencies()
    workdir = Path(run.tempfile.mkdtemp(prefix="livesupport-storm-"))
    bench = run.Bench(args, workdir)
    results: list[dict[str, Any]] = []
    try:
        for r in range(args.runs):
            for n in sizes:
                for kind in args.servers.split(","):
                    res = one(bench, kind, n, since=n == max(sizes) and len(sizes) > 1, concurrency=args.connect_concurrency)
                    res["run"] = r
                    run.log(json.dumps(res))
                    results.append(res)
    finally:
        run.stop_all()
        bench.drop_database()
        bench.clean_redis()
    print("| sockets | server | connect (+ join) s, each run | median | ratio to thin |")
    print("|---:|---|---|---:|---:|")
    for n in sizes:
        med = {}
        for kind in args.servers.split(","):
            times = [x["connect_s"] for x in results if x["sockets"] == n and x["server"] == kind]
            med[kind] = statistics.median(times)
            ratio = f"{med[kind] / med['thin']:.2f}x" if "thin" in med and kind != "thin" else ""
            print(f"| {n:,} | {kind} | {', '.join(f'{t:.2f}' for t in times)} | {med[kind]:.2f} | {ratio} |")
        if "thin" in med and "livesupport" in med:
            print(f"| {n:,} | livesupport / thin | | | {med['livesupport'] / med['thin']:.2f}x |")
    print()
    print("| sockets | server | server CPU ms per socket, each run | median |")
    print("|---:|---|---|---:|")
    for n in sizes:
        for kind in args.servers.split(","):
            cpus = [x["server_cpu_ms_per_socket"] for x in results if x["sockets"] == n and x["server"] == kind]
            print(f"| {n:,} | {kind} | {', '.join(f'{c:.3f}' for c in cpus)} | {statistics.median(cpus):.3f} |")
    for x in results:
        if x["server"] == "livesupport":
            print(f"run {x['run']} {x['sockets']}: closes {x['closes']}, metrics {x['metrics']}")
    out = Path(__file__).parent / "results" / f"storm-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"raw: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
