#!/usr/bin/env python3
"""livesupport's fan-out benchmark: livesupport, a thin Starlette baseline and python-socketio, side by side.

    .venv/bin/python bench/run.py --size quick

Each server runs as two uvicorn processes sharing Redis (livesupport also shares one
PostgreSQL database), one server at a time; one Node.js load generator (bench/loadgen)
opens the subscribers and the publisher. See bench/README.md for what is measured and how.
Everything this script starts is stopped at the end, on errors and on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import queue
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LOADGEN = BENCH / "loadgen"
HOST = "127.0.0.1"  # the only address this benchmark ever talks to
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS_BASE = "redis://127.0.0.1:6379"
SERVERS = ("livesupport", "thin", "socketio")
SIZES = {
    # subscribers in total (split over the two processes); "idle" sizes open idle connections only
    "quick": {"subscribers": 200, "idle": False},
    "default": {"subscribers": 1000, "idle": False},
    "large": {"per_process": 5000, "idle": True},
}
METRICS_TOKEN = "bench-metrics"
PUB_EMAIL, SUB_EMAIL, PASSWORD = "pub@bench.test", "sub@bench.test", "benchmark-pw"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- processes -----------------------------------------------------------------------------------

STARTED: list[subprocess.Popen[bytes]] = []  # everything we started, stopped in the end whatever happens


def spawn(cmd: list[str], env: dict[str, str], logfile: Path, **kw: Any) -> subprocess.Popen[bytes]:
    with logfile.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=kw.pop("stdout", out), stderr=out,
                                start_new_session=True, **kw)  # its own process group, killed as one
    STARTED.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):  # whatever is left of the group
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)
    if proc in STARTED:
        STARTED.remove(proc)


def stop_all() -> None:
    for proc in list(reversed(STARTED)):
        stop(proc, grace=5.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def run_checked(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> str:
    r = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
    return r.stdout


# -- /proc and Redis counters --------------------------------------------------------------------

def proc_cpu_us(pid: int) -> int:
    """utime + stime of a process (all its threads), in microseconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000 // CLK_TCK


def proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


PG_SHARED = ("walwriter", "wal writer", "checkpointer", "background writer", "autovacuum launcher",
             "logical replication launcher", "stats collector", "bin/postgres")


def postgres_cpu_us(dbname: str | None) -> dict[int, int]:
    """CPU per PostgreSQL process that works for `dbname` (its backends, and the server's shared writers)."""
    if not dbname:
        return {}
    out: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                raw = f.read()
            if not raw[raw.index("(") + 1:raw.rindex(")")].startswith("postgres"):
                continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):
            continue
        if f" {dbname} " in cmdline or any(k in cmdline for k in PG_SHARED):
            fields = raw.rsplit(")", 1)[1].split()
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) * 1_000_000 // CLK_TCK
    return out


def machine_busy_us() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine, all cores, in microseconds."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) * 1_000_000 // CLK_TCK, total * 1_000_000 // CLK_TCK


def wait_quiet(max_wait: float, threshold: float) -> dict[str, float]:
    """Wait (at most max_wait s) until the machine is nearly idle: others' work would skew the figures."""
    started = time.monotonic()
    busy_cores = 0.0
    while True:
        b0, _ = machine_busy_us()
        time.sleep(1.0)
        b1, _ = machine_busy_us()
        busy_cores = (b1 - b0) / 1e6
        waited = time.monotonic() - started
        if busy_cores <= threshold or waited >= max_wait:
            if busy_cores > threshold:
                log(f"the machine is still busy ({busy_cores:.2f} cores) after {waited:.0f} s; measuring anyway")
            return {"waited_s": round(waited, 1), "busy_cores_before": round(busy_cores, 2)}
        if int(waited) % 10 == 0:
            log(f"waiting for a quiet machine: {busy_cores:.2f} cores busy")


class RedisCounters:
    def __init__(self) -> None:
        import redis

        self.r = redis.Redis.from_url(f"{REDIS_BASE}/0", socket_connect_timeout=3, socket_timeout=10)

    def cpu_us(self) -> int:
        info = self.r.info("cpu")
        return int((float(info["used_cpu_sys"]) + float(info["used_cpu_user"])) * 1_000_000)

    def server_info(self) -> dict[str, Any]:
        info = self.r.info("server")
        return {"redis_version": info.get("redis_version"), "redis_pid": info.get("process_id")}

    def close(self) -> None:
        self.r.close()


def clean_redis(db: int, prefix: str) -> int:
    """Delete the keys under our own prefix in our own db (and nothing else)."""
    import redis

    r = redis.Redis.from_url(f"{REDIS_BASE}/{db}", socket_connect_timeout=3, socket_timeout=10)
    try:
        keys = list(r.scan_iter(match=prefix + "*", count=1000))
        if keys:
            r.delete(*keys)
        return len(keys)
    finally:
        r.close()


@dataclass
class Snapshot:
    at: float
    servers: list[int]
    redis: int
    postgres: dict[int, int]
    loadgen: int
    machine_busy: int
    machine_total: int


def snapshot(pids: list[int], loadgen_pid: int | None, rc: RedisCounters, pg_db: str | None) -> Snapshot:
    busy, total = machine_busy_us()
    return Snapshot(
        at=time.monotonic(), servers=[proc_cpu_us(p) for p in pids], redis=rc.cpu_us(), postgres=postgres_cpu_us(pg_db),
        loadgen=proc_cpu_us(loadgen_pid) if loadgen_pid else 0, machine_busy=busy, machine_total=total,
    )


def cpu_between(a: Snapshot, b: Snapshot) -> dict[str, Any]:
    wall = b.at - a.at
    servers = [y - x for x, y in zip(a.servers, b.servers, strict=True)]
    redis_us = b.redis - a.redis
    # processes present at the end; one that started meanwhile counts from zero, one that ended is not seen
    pg = sum(us - a.postgres.get(pid, 0) for pid, us in b.postgres.items())
    lg = b.loadgen - a.loadgen
    busy = b.machine_busy - a.machine_busy
    ours = sum(servers) + redis_us + lg + pg
    return {
        "wall_s": round(wall, 3),
        "server_us": servers,
        "server_util": [round(s / 1e6 / wall, 3) for s in servers],  # 1.0 = one core busy all the time
        "redis_us": redis_us,
        "redis_util": round(redis_us / 1e6 / wall, 3),
        "postgres_us": pg,
        "postgres_util": round(pg / 1e6 / wall, 3),
        "loadgen_us": lg,
        "loadgen_util": round(lg / 1e6 / wall, 3),
        "machine_util": round(busy / 1e6 / wall, 3),  # out of nproc
        # Busy CPU not accounted for by the benchmark's processes: other work on the machine.
        "other_util": round(max(0, busy - ours) / 1e6 / wall, 3),
    }


# -- the load generator ----------------------------------------------------------------------------

class Loadgen:
    def __init__(self, config: dict[str, Any], logdir: Path, env: dict[str, str]) -> None:
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.proc = spawn(["node", str(LOADGEN / "loadgen.js"), json.dumps(config)], env, logdir / "loadgen.log",
                          stdout=subprocess.PIPE, stdin=subprocess.PIPE)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.lines.put({"event": "noise", "text": raw.decode(errors="replace")})
        self.lines.put(None)

    def expect(self, event: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the load generator sent no '{event}' within {timeout:.0f} s")
            try:  # short waits: signals are only handled between them (another thread may take them)
                msg = self.lines.get(timeout=min(left, 0.25))
            except queue.Empty:
                continue
            if msg is None:
                raise RuntimeError(f"the load generator exited ({self.proc.poll()}) before '{event}'")
            if msg.get("event") == "error":
                raise RuntimeError(f"load generator: {msg.get('message')}")
            if msg.get("event") == event:
                return msg
            log(f"load generator: {msg}")

    def command(self, cmd: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(cmd.encode() + b"\n")
        self.proc.stdin.flush()

    def quit(self, timeout: float = 30) -> dict[str, Any] | None:
        try:
            self.command("quit")
            return self.expect("done", timeout)
        except (OSError, RuntimeError, TimeoutError) as exc:
            log(f"load generator did not finish cleanly: {exc}")
            return None
        finally:
            stop(self.proc, grace=5)


# -- the servers under test ----------------------------------------------------------------------

@dataclass
class Deployment:
    kind: str
    ports: list[int]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    loadgen_config: dict[str, Any] = field(default_factory=dict)
    log_problems: dict[str, Any] = field(default_factory=dict)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]


def scan_logs(paths: list[Path]) -> dict[str, Any]:
    """Warnings, errors and tracebacks the servers logged (livesupport logs logfmt; uvicorn's level is warning)."""
    first: list[str] = []
    count = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            low = line.lower()
            if ("level=info" in low or "level=debug" in low) and "traceback" not in low:
                continue
            if any(w in low for w in ("level=warning", "level=error", "level=critical", "traceback", "error", "warning")):
                count += 1
                if len(first) < 10:
                    first.append(f"{path.name}: {line[:300]}")
    return {"count": count, "first": first}


def http_json(method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None,
              timeout: float = 15) -> tuple[int, Any]:
    assert url.startswith(f"http://{HOST}:")
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_healthy(proc: subprocess.Popen[bytes], port: int, logfile: Path, check_json: bool, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}:\n{logfile.read_text()[-3000:]}")
        try:
            body: Any = None
            if check_json:
                status, body = http_json("GET", f"http://{HOST}:{port}/healthz", timeout=2)
            else:
                status = _plain_get(f"http://{HOST}:{port}/healthz")
            if status == 200 and (not check_json or (isinstance(body, dict) and body.get("status") == "ok")):
                return
            last = f"{status} {body}"
        except (OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not become healthy ({last}):\n{logfile.read_text()[-3000:]}")


def _plain_get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.status


# -- livesupport's delivery stages (its /metrics histogram) ------------------------------------------

STAGE_HISTOGRAM = "livesupport_delivery_seconds"


def scrape_stages(ports: list[int]) -> dict[str, dict[float, float]]:
    """Cumulative bucket counts of the per-stage delivery histogram, summed over the processes."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, dict[float, float]] = {}
    for port in ports:
        req = urllib.request.Request(f"http://{HOST}:{port}/metrics",
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        for family in text_string_to_metric_families(text):
            if family.name != STAGE_HISTOGRAM:
                continue
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    buckets = out.setdefault(sample.labels["stage"], {})
                    le = float(sample.labels["le"])
                    buckets[le] = buckets.get(le, 0.0) + sample.value
    return out


def stage_quantiles(before: dict[str, dict[float, float]], after: dict[str, dict[float, float]]) -> dict[str, Any]:
    """Per stage, what was observed between the two scrapes: count, p50 and p99 in ms (interpolated in the
    bucket, as Prometheus's histogram_quantile does)."""
    out: dict[str, Any] = {}
    for stage, buckets in after.items():
        les = sorted(buckets)
        counts = [buckets[le] - before.get(stage, {}).get(le, 0.0) for le in les]
        total = counts[-1] if counts else 0
        if total <= 0:
            continue
        row: dict[str, Any] = {"count": int(total)}
        for q in (0.5, 0.99):
            rank = q * total
            lower, below = 0.0, 0.0
            for le, c in zip(les, counts, strict=True):
                if c >= rank:
                    if le == float("inf"):
                        value = lower
                    else:
                        value = lower + (le - lower) * ((rank - below) / (c - below) if c > below else 0)
                    row[f"p{int(q * 100)}"] = round(value * 1000, 2)
                    break
                lower, below = le, c
        out[stage] = row
    return out


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.tag = secrets.token_hex(4)
        self.py = sys.executable
        self.base_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.redis_db = {"livesupport": args.redis_db, "thin": args.redis_db + 1, "socketio": args.redis_db + 2}
        self.prefix = {k: f"bench-{self.tag}-{k}:" for k in SERVERS}
        self.pg_name: str | None = None
        self.ls_env: dict[str, str] | None = None
        self.tokens: dict[str, str] = {}

    # livesupport's database and accounts: once per run
    def livesupport_env(self) -> dict[str, str]:
        if self.ls_env is not None:
            return self.ls_env
        self.pg_name = f"livesupport_bench_{self.tag}"
        asyncio.run(_pg_execute(f'CREATE DATABASE "{self.pg_name}"'))
        data_dir = self.workdir / "livesupport-data"
        data_dir.mkdir()
        env = {
            **self.base_env,
            "DATABASE_URL": f"{PG_BASE}/{self.pg_name}",
            "REDIS_URL": f"{REDIS_BASE}/{self.redis_db['livesupport']}",
            "REDIS_PREFIX": self.prefix["livesupport"],
            "SECRET_KEY": "bench",
            "DATA_DIR": str(data_dir),
            "METRICS_TOKEN": METRICS_TOKEN,  # the per-stage delivery histogram is read around each phase
            "WS_RATE": "0",  # the per-connection rate limit is off: this measures fan-out, not the limiter
            "CHAT_RATE": "0",  # and so is the per-user chat limit
        }
        ls = [self.py, "-m", "livesupport"]
        run_checked([*ls, "migrate"], env)
        run_checked([*ls, "user", "add", "--email", PUB_EMAIL, "--password", PASSWORD, "--role", "staff",
                     "--tier", "2"], env)
        run_checked([*ls, "user", "add", "--email", SUB_EMAIL, "--password", PASSWORD, "--role", "client",
                     "--org", "Bench"], env)
        self.ls_env = env
        return env

    def drop_database(self) -> None:
        if self.pg_name:
            try:
                asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
                log(f"dropped database {self.pg_name}")
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop database {self.pg_name}: {exc}")

    def clean_redis(self) -> None:
        for kind in SERVERS:
            try:
                n = clean_redis(self.redis_db[kind], self.prefix[kind])
                if n:
                    log(f"removed {n} Redis keys under {self.prefix[kind]} in db {self.redis_db[kind]}")
            except Exception as exc:  # noqa: BLE001
                log(f"could not clean Redis db {self.redis_db[kind]}: {exc}")

    @contextlib.contextmanager
    def deploy(self, kind: str, size: str, procs: int) -> Iterator[Deployment]:
        ports: list[int] = []
        while len(ports) < procs:
            if (port := free_port()) not in ports:
                ports.append(port)
        dep = Deployment(kind, ports)
        logs = [self.workdir / f"{size}-{kind}-p{procs}-{i}.log" for i in range(procs)]
        try:
            if kind == "livesupport":
                env = self.livesupport_env()
                for port, logfile in zip(ports, logs, strict=True):
                    dep.procs.append(spawn([self.py, "-m", "livesupport", "serve", "--host", HOST, "--port", str(port)],
                                           env, logfile))
                for proc, port, logfile in zip(dep.procs, ports, logs, strict=True):
                    wait_healthy(proc, port, logfile, check_json=True)
                url = f"http://{HOST}:{ports[0]}"
                if not self.tokens:
                    for who, email in (("pub", PUB_EMAIL), ("sub", SUB_EMAIL)):
                        status, body = http_json("POST", url + "/api/tokens", {"email": email, "password": PASSWORD})
                        if status != 201:
                            raise RuntimeError(f"POST /api/tokens for {email}: {status} {body}")
                        self.tokens[who] = body["token"]
                status, body = http_json("POST", url + "/api/tickets",
                                         {"subject": f"Fan-out benchmark ({size})", "body": "Opened by bench/run.py."},
                                         token=self.tokens["sub"])
                if status != 201:
                    raise RuntimeError(f"POST /api/tickets: {status} {body}")
                dep.loadgen_config = {"topic": f"ticket:{body['id']}", "token_pub": self.tokens["pub"],
                                      "token_sub": self.tokens["sub"]}
            else:
                module = {"thin": "bench.servers.thin:app", "socketio": "bench.servers.sio:app"}[kind]
                env = {**self.base_env, "BENCH_REDIS_URL": f"{REDIS_BASE}/{self.redis_db[kind]}",
                       # Redis pub/sub channels are not per db: the name is this run's own
                       "BENCH_CHANNEL": self.prefix[kind] + "fanout"}
                for port, logfile in zip(ports, logs, strict=True):
                    dep.procs.append(spawn(
                        [self.py, "-m", "uvicorn", module, "--host", HOST, "--port", str(port),
                         # the options `livesupport serve` runs uvicorn with
                         "--loop", "uvloop", "--http", "httptools", "--ws", "websockets-sansio",
                         "--ws-max-size", "65536", "--ws-per-message-deflate", "False",
                         "--no-access-log", "--log-level", "warning"],
                        env, logfile))
                for proc, port, logfile in zip(dep.procs, ports, logs, strict=True):
                    wait_healthy(proc, port, logfile, check_json=False)
                dep.loadgen_config = {"topic": f"bench-{self.tag}"}
            yield dep
        finally:
            for proc in dep.procs:
                stop(proc)
            dep.log_problems = scan_logs(logs)

    # -- one server, one size ---------------------------------------------------------------------

    def measure(self, kind: str, size: str, rc: RedisCounters, procs: int) -> dict[str, Any]:
        a = self.args
        spec = SIZES[size]
        idle = spec["idle"]
        n = procs * int(a.idle_per_process or spec["per_process"]) if idle else int(a.subscribers or spec["subscribers"])
        result: dict[str, Any] = {"server": kind, "size": size, "mode": "idle" if idle else "fanout", "subscribers": n,
                                  "processes": procs}
        with self.deploy(kind, size, procs) as dep:
            result["ports"] = dep.ports
            time.sleep(1.0)  # let start-up work settle before the baseline RSS
            result["quiet"] = wait_quiet(a.quiet_wait, a.quiet_threshold)
            rss0 = [proc_rss_kb(p) for p in dep.pids]
            config = {
                "kind": kind, "mode": result["mode"], "ports": dep.ports, "subscribers": n, "messages": a.messages,
                "warmup": a.warmup, "rate": a.rate, "duration": a.duration, "window": a.window,
                "payload_bytes": a.payload, "publishers": a.publishers, "grace_ms": int(a.grace * 1000), **dep.loadgen_config,
            }
            lg = Loadgen(config, self.workdir, self.base_env)
            try:
                connected = lg.expect("connected", timeout=120 + n * 0.05)
                result["connect_ms"] = connected["connect_ms"]
                time.sleep(a.settle)  # presence and other join-time work finishes
                rss1 = [proc_rss_kb(p) for p in dep.pids]
                per_proc = n // procs
                result["rss_kb_before"] = rss0
                result["rss_kb_connected"] = rss1
                result["connections_per_process"] = per_proc
                result["rss_kb_per_connection"] = round(
                    sum(r1 - r0 for r0, r1 in zip(rss0, rss1, strict=True)) / (procs * per_proc), 2) if per_proc else None
                if not idle:
                    lg.command("warmup")
                    warm = lg.expect("phase", timeout=180)
                    result["warmup"] = warm
                    if warm["lost"] or warm["delivered"] < warm["expected"]:
                        log(f"{kind}: warm-up incomplete ({warm['delivered']}/{warm['expected']})")
                    for phase, limit in (("full", 400), ("rate", a.duration + 400)):
                        quiet = wait_quiet(a.quiet_wait, a.quiet_threshold)
                        pg_db = self.pg_name if kind == "livesupport" else None
                        h0 = scrape_stages(dep.ports) if kind == "livesupport" else {}
                        s0 = snapshot(dep.pids, lg.proc.pid, rc, pg_db)
                        lg.command(phase)
                        res = lg.expect("phase", timeout=limit)
                        s1 = snapshot(dep.pids, lg.proc.pid, rc, pg_db)
                        if h0:  # where one message's time went, summed over the processes
                            res["stages_ms"] = stage_quantiles(h0, scrape_stages(dep.ports))
                        cpu = cpu_between(s0, s1)
                        delivered = max(res["delivered"], 1)
                        res["cpu"] = cpu
                        res["quiet"] = quiet
                        res["cpu_us_per_delivered"] = round((sum(cpu["server_us"]) + cpu["redis_us"]) / delivered, 2)
                        res["cpu_us_per_delivered_with_postgres"] = round(
                            (sum(cpu["server_us"]) + cpu["redis_us"] + cpu["postgres_us"]) / delivered, 2) if pg_db else None
                        res["loadgen_cpu_us_per_delivered"] = round(res["loadgen_cpu_us"] / delivered, 2)
                        result[phase] = res
                        log(f"{kind} {phase}: {res['delivered']}/{res['expected']} delivered, "
                            f"{res['delivered_per_s']} msg/s, p99 {res['latency_ms']['p99']} ms, "
                            f"lost {res['lost']}, dup {res['duplicated']}, publish->answer p50 {res['ack_ms']['p50']} ms, "
                            f"{res['cpu_us_per_delivered']} µs CPU/delivered, servers at {cpu['server_util']} cores, "
                            f"redis {cpu['redis_util']}, pg {cpu['postgres_util']}, loadgen {cpu['loadgen_util']}, "
                            f"other {cpu['other_util']}")
                else:
                    log(f"{kind}: {n} idle connections, RSS {rss0} -> {rss1} KiB, "
                        f"{result['rss_kb_per_connection']} KiB per connection")
            finally:
                # After an error or Ctrl-C, do not wait for a clean goodbye.
                done = lg.quit(timeout=30 if sys.exc_info()[0] is None else 3)
                if done:
                    frames = result["loadgen_frames"] = done.get("frames") or {}
                    if frames.get("checkFailed") or frames.get("unexpectedCloses") or frames.get("errorFrames"):
                        log(f"{kind}: the load generator saw bad frames or closes: {frames}")
        result["server_log_problems"] = dep.log_problems
        if dep.log_problems.get("count"):
            log(f"{kind}: {dep.log_problems['count']} warning/error lines in the server logs, e.g. "
                f"{dep.log_problems['first'][:2]}")
        return result


async def _pg_execute(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# -- setup -------------------------------------------------------------------------------------------

def ensure_dependencies() -> None:
    if not (LOADGEN / "node_modules" / "ws" / "package.json").exists():
        if shutil.which("npm") is None:
            raise SystemExit("node and npm are needed for the load generator (bench/loadgen)")
        log("installing the load generator: npm ci --prefix bench/loadgen")
        subprocess.run(["npm", "ci", "--prefix", str(LOADGEN), "--no-audit", "--no-fund"], check=True, timeout=300)
    if importlib.util.find_spec("socketio") is None:
        log("installing python-socketio: pip install -r bench/requirements.txt")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")],
                       check=True, timeout=600)
        importlib.invalidate_caches()


def raise_nofile(needed: int) -> dict[str, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, needed)
    if want > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            raise SystemExit(f"need {needed} open files, the hard limit is {hard}: raise it (ulimit -Hn)") from None
    elif want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft2, hard2 = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {"before": soft, "soft": soft2, "hard": hard2}


def version(pkg: str) -> str | None:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info(rc: RedisCounters) -> dict[str, Any]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    ws_version = json.loads((LOADGEN / "node_modules" / "ws" / "package.json").read_text())["version"]
    try:
        pg = asyncio.run(_pg_version())
    except Exception:  # noqa: BLE001
        pg = None
    return {
        "nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
        "python": platform.python_version(), "uvicorn": version("uvicorn"), "starlette": version("starlette"),
        "websockets": version("websockets"), "uvloop": version("uvloop"), "httptools": version("httptools"),
        "redis_py": version("redis"), "python_socketio": version("python-socketio"),
        "python_engineio": version("python-engineio"), "node": node, "node_ws": ws_version,
        "postgresql": pg, **rc.server_info(),
    }


async def _pg_version() -> str:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=10)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


# -- report ------------------------------------------------------------------------------------------

def _f(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _lat(res: dict[str, Any] | None) -> str:
    if not res or not res.get("latency_ms"):
        return "–"
    lat = res["latency_ms"]
    return f"{_f(lat['p50'], 1)} / {_f(lat['p95'], 1)} / {_f(lat['p99'], 1)}"


def _ack(res: dict[str, Any] | None) -> str:
    if not res or not res.get("ack_ms") or res["ack_ms"].get("p50") is None:
        return "–"
    return f"{_f(res['ack_ms']['p50'], 1)} / {_f(res['ack_ms']['p99'], 1)}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×"


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    a = results["args"]
    lines = [
        f"# Fan-out benchmark, {results['started']}",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu_model']}, Linux {m['kernel']}; Python {m['python']}, "
        f"uvicorn {m['uvicorn']}, starlette {m['starlette']}, websockets {m['websockets']}, uvloop {m['uvloop']}, "
        f"redis-py {m['redis_py']}, python-socketio {m['python_socketio']}; Redis {m['redis_version']}, "
        f"PostgreSQL {m['postgresql']}; load generator: Node {m['node']}, ws {m['node_ws']}.",
        "",
        "Each server: uvicorn processes on 127.0.0.1 (as many as each table says) sharing Redis (livesupport also "
        "one PostgreSQL database), one server at a time; subscribers split evenly over the processes, the publisher "
        "on the first. "
        "livesupport runs with WS_RATE=0 and CHAT_RATE=0: its rate limits are off, this measures fan-out, not the limiter. "
        f"Full speed: {a['messages']:,} messages from {a['publishers']} publisher socket(s), at most {a['window']} unanswered; fixed rate: {_f(float(a['rate']), 0)} msg/s "
        f"for {_f(float(a['duration']), 0)} s; bodies of {a['payload']} bytes. CPU = user+sys of all server processes + the "
        "Redis server, per message delivered to a subscriber (PostgreSQL's CPU is shown apart).",
        "",
    ]
    for size, all_rows in results["sizes"].items():
        for procs in sorted({r.get("processes", 2) for r in all_rows}):
            lines += _group_report(size, [r for r in all_rows if r.get("processes", 2) == procs], procs, a)
    return "\n".join(lines)


def median_rows(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One row per server: the median of its rounds, figure by figure (lists element by element)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["server"], []).append(r)
    return {server: (group[0] if len(group) == 1 else {**_median(group), "rounds": len(group)})
            for server, group in groups.items()}


def _median(values: list[Any]) -> Any:
    first = values[0]
    if isinstance(first, bool) or not isinstance(first, (int, float, dict, list)):
        return first
    if isinstance(first, dict):
        keys = [k for k in first if all(isinstance(v, dict) and k in v for v in values)]
        return {k: _median([v[k] for v in values]) for k in keys}
    if isinstance(first, list):
        if not all(isinstance(v, list) and len(v) == len(first) for v in values):
            return first
        return [_median([v[i] for v in values]) for i in range(len(first))]
    nums = sorted(float(v) for v in values if isinstance(v, (int, float)))
    mid = len(nums) // 2
    m = nums[mid] if len(nums) % 2 else (nums[mid - 1] + nums[mid]) / 2
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return int(round(m))  # counts stay whole numbers
    return round(m, 3)


def _round_ratios(rows: list[dict[str, Any]], other: str, rate: str) -> str:
    """livesupport / `other` at the fixed rate, round by round (each livesupport round against the same round of
    `other`, run next to it), then the median of those ratios: on a noisy machine a steadier figure than the ratio
    of the two medians."""
    by_round: dict[int, dict[str, dict[str, Any]]] = {}
    for r in rows:
        if "error" not in r and r.get("rate"):
            by_round.setdefault(r.get("round", 1), {})[r["server"]] = r["rate"]
    pairs = [(x["livesupport"], x[other]) for _, x in sorted(by_round.items()) if "livesupport" in x and other in x]
    parts = []
    for label, get in (("p50", lambda ph: (ph.get("latency_ms") or {}).get("p50")),
                       ("p99", lambda ph: (ph.get("latency_ms") or {}).get("p99")),
                       ("CPU per delivered", lambda ph: ph.get("cpu_us_per_delivered"))):
        ratios = [get(a) / get(b) for a, b in pairs if get(a) is not None and get(b)]
        if ratios:
            parts.append(f"{label} {', '.join(f'{x:.2f}' for x in ratios)} (median **{statistics.median(ratios):.2f}x**)")
    return f"- livesupport / {other} at {rate} msg/s, round by round: " + "; ".join(parts)


def _group_report(size: str, rows: list[dict[str, Any]], procs: int, a: dict[str, Any]) -> list[str]:
    """The tables of one size and one number of processes per server (medians when there were rounds)."""
    lines: list[str] = []
    if not rows:
        return lines
    rounds = max((r.get("round", 1) for r in rows), default=1)
    where = f", {procs} process{'es' if procs != 1 else ''} per server" + (
        f", median of {rounds} interleaved rounds" if rounds > 1 else "")
    by = median_rows([r for r in rows if "error" not in r])
    errors = [r for r in rows if "error" in r]
    if SIZES[size]["idle"]:
        per = next((r["connections_per_process"] for r in by.values()), "?")
        lines += [f"## {size}: {per:,} idle connections per process{where}" if isinstance(per, int) else f"## {size}", "",
                  "| server | connect all (s) | RSS before (MiB, per process) | RSS with connections (MiB) | "
                  "RSS per idle connection (KiB) | minus thin's (KiB) |",
                  "|---|---:|---:|---:|---:|---:|"]
        thin = by.get("thin", {}).get("rss_kb_per_connection")
        for r in by.values():
            rpc = r["rss_kb_per_connection"]
            lines.append(
                f"| {r['server']} | {r['connect_ms'] / 1000:.1f} | "
                f"{' + '.join(f'{x / 1024:.0f}' for x in r['rss_kb_before'])} | "
                f"{' + '.join(f'{x / 1024:.0f}' for x in r['rss_kb_connected'])} | {_f(rpc, 2)} | "
                f"{_f(rpc - thin, 2) if thin is not None and rpc is not None else '–'} |")
        lines += ["", "RSS per idle connection = (VmRSS with the connections open and joined - VmRSS before) / "
                  "connections, summed over both processes."]
    else:
        n = next((r["subscribers"] for r in by.values()), "?")
        lines += [f"## {size}: {n:,} subscribers{where}" if isinstance(n, int) else f"## {size}", "",
                  "| server | delivered msg/s (full speed) | publisher's msg/s accepted | latency p50 / p95 / p99 ms, "
                  f"full speed | latency p50 / p95 / p99 ms, {_f(a['rate'], 0)} msg/s | publish → answer p50 / p99 ms, "
                  f"{_f(a['rate'], 0)} msg/s | lost | duplicated |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in by.values():
            f, rt = r.get("full", {}), r.get("rate", {})
            lines.append(
                f"| {r['server']} | {_f(f.get('delivered_per_s'))} | {_f(f.get('accepted_per_s'))} | {_lat(f)} | "
                f"{_lat(rt)} | {_ack(rt)} | {_f(f.get('lost', 0) + rt.get('lost', 0))} | "
                f"{_f(f.get('duplicated', 0) + rt.get('duplicated', 0))} |")
        lines += ["",
                  f"| server | CPU µs per delivered message, full speed | CPU µs per delivered, {_f(a['rate'], 0)} msg/s | "
                  "with PostgreSQL (full / rate) | cores busy at full speed: server processes / Redis / "
                  "PostgreSQL / load generator / others | RSS KiB per connection* | load generator CPU µs per delivered |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in by.values():
            f, rt = r.get("full", {}), r.get("rate", {})
            c = f.get("cpu")
            busy = (f"{' + '.join(f'{u:.2f}' for u in c['server_util'])} / {c['redis_util']:.2f} / "
                    f"{c['postgres_util']:.2f} / {c['loadgen_util']:.2f} / {c['other_util']:.2f}") if c else "–"
            lines.append(
                f"| {r['server']} | {_f(f.get('cpu_us_per_delivered'))} | {_f(rt.get('cpu_us_per_delivered'))} | "
                f"{_f(f.get('cpu_us_per_delivered_with_postgres'))} / {_f(rt.get('cpu_us_per_delivered_with_postgres'))} | "
                f"{busy} | {_f(r.get('rss_kb_per_connection'), 2)} | {_f(f.get('loadgen_cpu_us_per_delivered'))} |")
        lines += ["", f"\\* with {n // procs if isinstance(n, int) else '?'} connections per process, each joined; "
                  "includes one-off start-up allocations at small sizes (the large size measures idle connections)."]
        ls = by.get("livesupport")
        rate = _f(float(a["rate"]), 0)
        if ls and (stages := (ls.get("rate") or {}).get("stages_ms")):
            lines += ["", f"livesupport's stages at {rate} msg/s, p50 / p99 ms (its delivery histogram, all processes): "
                      + "; ".join(f"{name} {_f(st.get('p50'), 2)} / {_f(st.get('p99'), 2)}"
                                  for name, st in stages.items())]
        if ls:
            lines.append("")
            for other in ("thin", "socketio"):
                o = by.get(other)
                if not o:
                    continue
                lf, of = ls.get("full", {}), o.get("full", {})
                lr, orr = ls.get("rate", {}), o.get("rate", {})
                lines.append(
                    f"- livesupport / {other}: CPU per delivered message "
                    f"{_ratio(lf.get('cpu_us_per_delivered'), of.get('cpu_us_per_delivered'))} at full speed, "
                    f"{_ratio(lr.get('cpu_us_per_delivered'), orr.get('cpu_us_per_delivered'))} at {rate} msg/s; "
                    f"delivered msg/s {_ratio(lf.get('delivered_per_s'), of.get('delivered_per_s'))}; "
                    f"p50 / p99 at {rate} msg/s "
                    f"{_ratio((lr.get('latency_ms') or {}).get('p50'), (orr.get('latency_ms') or {}).get('p50'))} / "
                    f"{_ratio((lr.get('latency_ms') or {}).get('p99'), (orr.get('latency_ms') or {}).get('p99'))}")
                if rounds > 1:
                    lines.append(_round_ratios(rows, other, rate))
            thin_rss = by.get("thin", {}).get("rss_kb_per_connection")
            if thin_rss is not None:
                parts = [f"{k} {_f(by[k]['rss_kb_per_connection'] - thin_rss, 2)} KiB" for k in ("livesupport", "socketio")
                         if by.get(k, {}).get("rss_kb_per_connection") is not None]
                lines.append(f"- RSS per connection minus thin's: {', '.join(parts)}")
        other_util = [max(r[p]["cpu"]["other_util"] for p in ("full", "rate") if r.get(p)) for r in by.values()
                      if r.get("full")]
        if other_util and max(other_util) > 0.15:
            lines += ["", f"Note: up to {max(other_util):.2f} cores were busy with work outside the benchmark "
                      "during a phase; figures of that run are noisy."]
    for r in by.values():
        frames, problems = r.get("loadgen_frames") or {}, r.get("server_log_problems") or {}
        if frames.get("checkFailed") or frames.get("unexpectedCloses") or frames.get("errorFrames"):
            lines += ["", f"**{r['server']}**: the load generator saw {frames.get('checkFailed', 0)} malformed "
                      f"deliveries, {frames.get('errorFrames', 0)} error frames and "
                      f"{frames.get('unexpectedCloses', 0)} unexpected closes ({frames.get('closes')})."]
        if problems.get("count"):
            lines += ["", f"**{r['server']}** logged {problems['count']} warnings or errors, e.g. "
                      f"`{problems['first'][0]}`"]
    for r in errors:
        lines += ["", f"**{r['server']} failed**: {r['error']}"]
    lines.append("")
    return lines


# -- main ------------------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", action="append", choices=list(SIZES),
                   help="quick (200 subscribers), default (1,000), large (5,000 idle connections per process); "
                        "repeat for several (default: quick)")
    p.add_argument("--servers", default=",".join(SERVERS), help="comma-separated subset of " + ",".join(SERVERS))
    p.add_argument("--subscribers", type=int, help="subscribers in total, instead of the size's")
    p.add_argument("--idle-per-process", type=int, help="idle connections per process for 'large' (default 5,000)")
    p.add_argument("--messages", type=int, default=2000, help="messages published at full speed (M)")
    p.add_argument("--warmup", type=int, default=20, help="messages published before measuring (all must arrive)")
    p.add_argument("--rate", type=float, default=50, help="messages per second of the fixed-rate phase")
    p.add_argument("--duration", type=float, default=10, help="seconds of the fixed-rate phase")
    p.add_argument("--window", type=int, default=50, help="most unanswered publishes at full speed")
    p.add_argument("--processes", default="2",
                   help="server processes per server, comma-separated for several deployments, e.g. 1,2,4 (default 2)")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat every measurement this many times, interleaved (round 1 of each server, then "
                        "round 2, ...); the report shows the median of the rounds (default 1)")
    p.add_argument("--publishers", type=int, default=1,
                   help="publisher sockets sharing the window, all on the first process (default 1)")
    p.add_argument("--payload", type=int, default=100, help="bytes of each published body")
    p.add_argument("--grace", type=float, default=10, help="seconds to wait for late deliveries before counting losses")
    p.add_argument("--settle", type=float, default=2, help="seconds between connecting and reading RSS")
    p.add_argument("--redis-db", type=int, default=7,
                   help="Redis db of livesupport; thin uses the next one, socketio the one after (default 7)")
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each phase, wait up to this many seconds for the machine to be idle (0: do not)")
    p.add_argument("--quiet-threshold", type=float, default=0.3, help="cores busy that still count as idle")
    p.add_argument("--keep-logs", action="store_true", help="keep the servers' logs (their folder is printed)")
    args = p.parse_args()
    sizes = args.size or ["quick"]
    kinds = [k.strip() for k in args.servers.split(",") if k.strip()]
    if unknown := set(kinds) - set(SERVERS):
        p.error(f"unknown servers {unknown}")
    try:
        process_counts = [int(x) for x in args.processes.split(",") if x.strip()]
    except ValueError:
        p.error("--processes takes whole numbers, e.g. 1,2,4")
    if not process_counts or min(process_counts) < 1 or args.rounds < 1:
        p.error("--processes and --rounds must be 1 or more")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where it was inherited as ignored

    ensure_dependencies()
    biggest = max((max(process_counts) * (args.idle_per_process or 5000)) if SIZES[s]["idle"] else (args.subscribers or SIZES[s]["subscribers"])
                  for s in sizes)
    limits = raise_nofile(biggest + 1024)
    started = dt.datetime.now(dt.UTC)
    workdir = Path(tempfile.mkdtemp(prefix="livesupport-bench-"))
    rc = RedisCounters()
    bench = Bench(args, workdir)
    results: dict[str, Any] = {
        "started": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "args": {**vars(args), "size": sizes, "servers": kinds, "processes": process_counts},
        "nofile": limits,
        "sizes": {},
    }
    failed = False
    try:
        results["machine"] = machine_info(rc)
        log(f"machine: {results['machine']['nproc']} cores, {results['machine']['cpu_model']}; logs in {workdir}")
        for size in sizes:
            rows = results["sizes"].setdefault(size, [])
            for round_no in range(1, args.rounds + 1):
                for procs in process_counts:
                    for kind in kinds:
                        log(f"--- {size}: {kind}, {procs} process(es), round {round_no} of {args.rounds}")
                        try:
                            row = bench.measure(kind, size, rc, procs)
                        except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
                            failed = True
                            log(f"{kind} failed: {exc}")
                            row = {"server": kind, "size": size, "processes": procs, "error": str(exc)[:4000]}
                        rows.append({**row, "round": round_no})
                        time.sleep(1.0)
    except KeyboardInterrupt:
        failed = True
        results["interrupted"] = True
        log("interrupted: stopping everything")
    finally:
        stop_all()
        bench.drop_database()
        bench.clean_redis()
        rc.close()
        if not args.keep_logs and not failed:
            shutil.rmtree(workdir, ignore_errors=True)
        elif failed:
            log(f"server and load generator logs kept in {workdir}")
    if "machine" not in results:
        return 1
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    path = out_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    results["report"] = report(results)
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(results["report"])
    print(f"Raw results: {path.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
