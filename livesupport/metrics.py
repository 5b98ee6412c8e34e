"""Prometheus metrics of one process (served at /metrics)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # the _created series only add noise to every scrape

REGISTRY = CollectorRegistry(auto_describe=True)

CONNECTIONS = Gauge("livesupport_connections", "Open WebSocket connections.", registry=REGISTRY)
TOPICS = Gauge("livesupport_topics", "Topics with at least one subscriber on this process.", registry=REGISTRY)
FRAMES_IN = Counter("livesupport_frames_received_total", "Client frames received, by type.", ["type"],
                    registry=REGISTRY)
REFUSALS = Counter("livesupport_refusals_total", "Client frames refused, by error code.", ["code"], registry=REGISTRY)
EVENTS_STORED = Counter("livesupport_events_stored_total", "Durable events stored by this process.",
                        registry=REGISTRY)
FANOUT_EVENTS = Counter("livesupport_fanout_events_total", "Durable events fanned out to local subscribers.",
                        registry=REGISTRY)
FANOUT_FRAMES = Counter("livesupport_fanout_frames_total", "Event frames queued to local sockets.",
                        registry=REGISTRY)
DELIVERY = Histogram(
    "livesupport_delivery_seconds",
    "One message's way, by stage: queued (frame read to its group commit's start), commit (the transaction), "
    "local (commit to written on this process's sockets), broker (queued for Redis to Redis's answer), "
    "received (commit to read from Redis by another process), remote (commit to written there), "
    "delivered (commit to written, on any process).",
    ["stage"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
STAGES = ("queued", "commit", "local", "broker", "received", "remote", "delivered")
_STAGE = {name: DELIVERY.labels(name) for name in STAGES}  # bound once: no label lookup per observation


def stage(name: str, since_ns: int, now_ns: int | None = None) -> None:
    """Observe a stage that began at `since_ns` (time.monotonic_ns) and ends now (or at `now_ns`)."""
    _STAGE[name].observe(((now_ns if now_ns is not None else time.monotonic_ns()) - since_ns) / 1e9)


def stage_seconds(name: str, seconds: float) -> None:
    """Observe a stage measured another way (across processes: wall clocks)."""
    _STAGE[name].observe(seconds)


REPLAYED = Counter("livesupport_replayed_events_total", "Events sent on join with since.", registry=REGISTRY)
GAP_FILLS = Counter("livesupport_gap_fills_total", "Fetches from the database of events the broker did not bring.",
                    registry=REGISTRY)
GAP_EVENTS = Counter("livesupport_gap_events_total", "Events delivered from such fetches.", registry=REGISTRY)
BROKER_UP = Gauge("livesupport_broker_up", "1 while cross-process delivery works.", registry=REGISTRY)
BROKER_RECONNECTS = Counter("livesupport_broker_reconnects_total", "Times the broker link came back after a loss.",
                            registry=REGISTRY)
SEND_WAITS = Counter("livesupport_send_waits_total", "Frames that found their socket's buffer full and had to wait.",
                     registry=REGISTRY)
SLOW_CONSUMERS = Counter("livesupport_slow_consumers_total", "Connections closed with 1013 for not reading.",
                         registry=REGISTRY)
SETUP_WAITING = Gauge("livesupport_setup_waiting", "Connection set-up work (token lookups, join snapshots) "
                      "waiting for a slot.", registry=REGISTRY)
SETUP_WAIT = Histogram(
    "livesupport_setup_wait_seconds", "How long set-up work waited for a slot.",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY,
)
SHARED_READS = Counter("livesupport_shared_reads_total", "Token lookups and join snapshots answered by a read "
                       "another socket made.",
                       registry=REGISTRY)
REMEMBERED_JOINS = Counter("livesupport_remembered_joins_total", "Join snapshots answered from this process's join "
                           "cache (no read).", registry=REGISTRY)
SHED = Counter("livesupport_shed_connections_total", "New sockets closed with 1013 because set-up work queued "
               "beyond MAX_PENDING_CONNECTS.", registry=REGISTRY)
DB_POOL_IN_USE = Gauge("livesupport_db_pool_in_use", "Database connections checked out of the pool.",
                       registry=REGISTRY)
DB_POOL_PEAK = Gauge("livesupport_db_pool_peak", "The most database connections ever checked out at once.",
                     registry=REGISTRY)
DB_POOL_CAPACITY = Gauge("livesupport_db_pool_capacity", "How many connections the pool may hand out at once "
                         "(pool size + overflow; 0 when unbounded).", registry=REGISTRY)
DB_POOL_WAIT = Histogram(
    "livesupport_db_pool_wait_seconds", "How long a database session waited for a pooled connection.",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30), registry=REGISTRY,
)
