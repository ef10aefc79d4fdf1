"""Where business metrics live between the process that records them and the scrape that reads them.

Why not prometheus_client's own multi-process mode for these: RQ runs every job in a freshly forked
work horse (a new pid, so a new set of files per job), and workers run in other containers or on other
hosts than the web process that serves ``/metrics``. A shared Redis reaches all of them, so counters,
gauges and histograms recorded by jobs are kept there (one hash per metric, atomic ``HINCRBY`` /
``HINCRBYFLOAT``) and turned into Prometheus metric families at scrape time by :class:`StoreCollector`.
Embedded mode (no Redis, one process) keeps the same layout in a dict.

This is the small part written by hand: the one Redis-backed Prometheus client on PyPI
(prometheus-redis-client) has had no release since 2021.
"""
from __future__ import annotations

import json
import logging
import math
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
KINDS = ("counter", "gauge", "histogram")


@dataclass(frozen=True)
class MetricDef:
    """One metric, defined once. Counters are named without ``_total`` (Prometheus adds it)."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "histogram" and (not self.buckets or list(self.buckets) != sorted(self.buckets)):
            raise ValueError(f"{self.name}: a histogram needs ascending buckets")

    @property
    def exported_name(self) -> str:
        return f"{self.name}_total" if self.kind == "counter" else self.name

    def label_key(self, values: Iterable) -> str:
        values = [str(v) for v in values]
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {len(values)} values")
        return json.dumps(values, separators=(",", ":"))

    def bucket_index(self, value: float) -> int:
        for i, upper in enumerate(self.buckets):
            if value <= upper:
                return i
        return len(self.buckets)  # +Inf


class MetricStore(Protocol):
    def inc(self, metric: MetricDef, labels: Iterable, amount: float = 1.0) -> None: ...
    def set(self, metric: MetricDef, labels: Iterable, value: float) -> None: ...
    def observe(self, metric: MetricDef, labels: Iterable, value: float) -> None: ...
    def read(self, metrics: Iterable[MetricDef]) -> dict[str, dict[str, float]]: ...


def _check_number(metric: MetricDef, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{metric.name}: value must be a finite number, got {value!r}")
    return float(value)


class MemoryMetricStore:
    """Embedded mode: the same hash layout in a dict, guarded by a lock."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, float]] = defaultdict(dict)
        self._lock = threading.Lock()

    def inc(self, metric: MetricDef, labels: Iterable, amount: float = 1.0) -> None:
        key, amount = metric.label_key(labels), _check_number(metric, amount)
        if amount < 0:
            raise ValueError(f"{metric.name}: a counter only goes up, got {amount!r}")
        with self._lock:
            h = self._data[metric.name]
            h[key] = h.get(key, 0.0) + amount

    def set(self, metric: MetricDef, labels: Iterable, value: float) -> None:
        key, value = metric.label_key(labels), _check_number(metric, value)
        with self._lock:
            self._data[metric.name][key] = value

    def observe(self, metric: MetricDef, labels: Iterable, value: float) -> None:
        key, value = metric.label_key(labels), _check_number(metric, value)
        bucket = f"{key}|b{metric.bucket_index(value)}"
        with self._lock:
            h = self._data[metric.name]
            h[bucket] = h.get(bucket, 0.0) + 1
            h[f"{key}|sum"] = h.get(f"{key}|sum", 0.0) + value

    def read(self, metrics: Iterable[MetricDef]) -> dict[str, dict[str, float]]:
        with self._lock:
            return {m.name: dict(self._data.get(m.name, {})) for m in metrics}


class RedisMetricStore:
    """Production: one Redis hash per metric, ``<prefix>:metrics:<name>``, shared by every process."""

    def __init__(self, connection, prefix: str = "cw") -> None:
        self.connection = connection
        self.prefix = prefix

    def key(self, metric: MetricDef) -> str:
        return f"{self.prefix}:metrics:{metric.name}"

    def inc(self, metric: MetricDef, labels: Iterable, amount: float = 1.0) -> None:
        field, amount = metric.label_key(labels), _check_number(metric, amount)
        if amount < 0:
            raise ValueError(f"{metric.name}: a counter only goes up, got {amount!r}")
        self.connection.hincrbyfloat(self.key(metric), field, amount)

    def set(self, metric: MetricDef, labels: Iterable, value: float) -> None:
        field, value = metric.label_key(labels), _check_number(metric, value)
        self.connection.hset(self.key(metric), field, repr(value))

    def observe(self, metric: MetricDef, labels: Iterable, value: float) -> None:
        field, value = metric.label_key(labels), _check_number(metric, value)
        pipe = self.connection.pipeline(transaction=True)
        pipe.hincrby(self.key(metric), f"{field}|b{metric.bucket_index(value)}", 1)
        pipe.hincrbyfloat(self.key(metric), f"{field}|sum", value)
        pipe.execute()

    def read(self, metrics: Iterable[MetricDef]) -> dict[str, dict[str, float]]:
        metrics = list(metrics)
        pipe = self.connection.pipeline(transaction=False)
        for m in metrics:
            pipe.hgetall(self.key(m))
        out = {}
        for m, raw in zip(metrics, pipe.execute()):
            out[m.name] = {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}
        return out


def families(metrics: Iterable[MetricDef], data: dict[str, dict[str, float]]) -> list:
    """Turn the stored hashes into Prometheus metric families."""
    out = []
    for m in metrics:
        raw = data.get(m.name, {})
        if m.kind == "counter":
            fam = CounterMetricFamily(m.name, m.help, labels=m.labels)
            for key, value in sorted(raw.items()):
                fam.add_metric(json.loads(key), value)
        elif m.kind == "gauge":
            fam = GaugeMetricFamily(m.name, m.help, labels=m.labels)
            for key, value in sorted(raw.items()):
                fam.add_metric(json.loads(key), value)
        else:
            fam = HistogramMetricFamily(m.name, m.help, labels=m.labels)
            series: dict[str, dict] = defaultdict(lambda: {"buckets": [0.0] * (len(m.buckets) + 1), "sum": 0.0})
            for field, value in raw.items():
                key, _, part = field.rpartition("|")
                if part == "sum":
                    series[key]["sum"] = value
                elif part.startswith("b") and part[1:].isdigit() and int(part[1:]) <= len(m.buckets):
                    series[key]["buckets"][int(part[1:])] = value
            for key, s in sorted(series.items()):
                cumulative, running = [], 0.0
                for upper, count in zip([*map(_le, m.buckets), "+Inf"], s["buckets"]):
                    running += count
                    cumulative.append((upper, running))
                fam.add_metric(json.loads(key), cumulative, sum_value=s["sum"])
        out.append(fam)
    return out


def _le(upper: float) -> str:
    return repr(float(upper))


class StoreCollector(Collector):
    """Read a :class:`MetricStore` at scrape time; ``candlewise_metrics_store_up`` says if that worked."""

    def __init__(self, store: MetricStore, metrics: Iterable[MetricDef], derived=None) -> None:
        self.store = store
        self.metrics = tuple(metrics)
        self.derived = derived  # callable(data) -> extra families computed from the stored values

    def collect(self):
        up = GaugeMetricFamily("candlewise_metrics_store_up",
                               "1 if the business-metric store (Redis in production) could be read")
        try:
            data = self.store.read(self.metrics)
        except Exception as exc:  # noqa: BLE001 - a scrape must still answer when Redis is down
            log.warning("metric store unreadable: %s: %s", type(exc).__name__, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families(self.metrics, data)
        if self.derived is not None:
            yield from self.derived(data)
