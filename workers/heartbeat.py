"""A worker's CPU and memory, sampled with ``psutil`` at each RQ heartbeat (``workers.worker.Worker``)
and stored in ``app.hot.processes`` for the Admin page's system panel.

RQ forks a work horse per job, so the figures cover the worker process and its children: memory is
the resident set of the worker plus its live horse; CPU is the share of one core used since the
previous sample, counted from the CPU time of the worker, its live horse and the horses it has
already reaped (``psutil``'s ``children_user``/``children_system``).
"""
from __future__ import annotations

import os
import socket
import time

import psutil


class ProcessSampler:
    def __init__(self, pid: int | None = None, clock=time.monotonic):
        self.process = psutil.Process(pid or os.getpid())
        self.clock = clock
        self._last: tuple[float, float] | None = None  # (wall, cpu seconds)

    def _cpu_and_rss(self) -> tuple[float, int, int]:
        with self.process.oneshot():
            t = self.process.cpu_times()
            cpu = t.user + t.system + t.children_user + t.children_system
            rss = self.process.memory_info().rss
            children = self.process.children(recursive=True)
        for child in children:
            try:
                ct = child.cpu_times()
                cpu += ct.user + ct.system
                rss += child.memory_info().rss
            except psutil.Error:
                continue  # the horse ended between the listing and the read
        return cpu, rss, len(children)

    def sample(self) -> dict:
        wall = self.clock()
        cpu, rss, children = self._cpu_and_rss()
        percent = None
        if self._last is not None and wall > self._last[0]:
            percent = round(max(0.0, 100.0 * (cpu - self._last[1]) / (wall - self._last[0])), 1)
        self._last = (wall, cpu)
        return {"pid": self.process.pid, "host": socket.gethostname(), "cpu_percent": percent,
                "rss_mb": round(rss / 2**20, 1), "children": children, "at": time.time()}
