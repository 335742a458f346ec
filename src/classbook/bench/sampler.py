"""CPU share and peak memory of the processes taking part in a benchmark run.

A background thread samples every process group every ``interval`` seconds (psutil):
CPU seconds used during the window (as a share of the whole machine: 100 % = every core
busy) and the peak resident set size of each process seen. PostgreSQL is counted as the
server's own processes plus the backends connected to the benchmark's database (other
databases on the same server are not ours).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil


@dataclass
class GroupUsage:
    cpu_seconds: float = 0.0
    peak_rss: dict[str, int] = field(default_factory=dict)  # process label → bytes


def children_of(pid: int) -> Callable[[], list[psutil.Process]]:
    """The process and everything it started (gunicorn's master and workers)."""

    def find() -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    return find


def postgres_for(database: str) -> Callable[[], list[psutil.Process]]:
    """The PostgreSQL server's background processes and the backends of ``database``."""

    def find() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name", "cmdline", "username"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if proc.info["username"] != "postgres" or not cmdline.startswith("postgres"):
                continue
            is_backend = "127.0.0.1(" in cmdline or "[local]" in cmdline
            if not is_backend or f" {database} " in cmdline:
                found.append(proc)
        return found

    return find


class Sampler:
    """``with Sampler({"web": children_of(pid), ...}) as s: ...``; then ``s.report()``."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]], interval=0.5):
        self.groups, self.interval = groups, interval
        self.usage = {name: GroupUsage() for name in groups}
        self._first: dict[tuple[str, int], float] = {}  # cpu time when first seen
        self._last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.seconds = 0.0
        self.machine_busy = 0.0

    def __enter__(self) -> Sampler:
        self._started = time.perf_counter()
        self._machine = psutil.cpu_times()
        self._opening = True
        self._sample()
        self._opening = False
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.seconds = time.perf_counter() - self._started
        now = psutil.cpu_times()
        busy = (now.user - self._machine.user) + (now.system - self._machine.system)
        busy += (now.nice - self._machine.nice) + (getattr(now, "irq", 0) - self._machine.irq)
        busy += getattr(now, "softirq", 0) - self._machine.softirq
        self.machine_busy = busy
        for (name, _pid), last in self._last.items():
            self.usage[name].cpu_seconds += last - self._first[(name, _pid)]

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        for name, find in self.groups.items():
            for proc in find():
                try:
                    with proc.oneshot():
                        times = proc.cpu_times()
                        rss = proc.memory_info().rss
                        label = f"{proc.pid} {' '.join(proc.cmdline()[:3])[-60:]}"
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                key = (name, proc.pid)
                cpu = times.user + times.system
                # A process already running counts from the first sample; one born during
                # the window (the load generator's own start) counts from zero.
                self._first.setdefault(key, cpu if self._opening else 0.0)
                self._last[key] = cpu
                peaks = self.usage[name].peak_rss
                peaks[label] = max(peaks.get(label, 0), rss)

    def report(self) -> dict:
        cores = psutil.cpu_count() or 1
        capacity = self.seconds * cores
        groups = {
            name: {
                "cpu_share_pct": round(100 * usage.cpu_seconds / capacity, 1) if capacity else 0,
                "peak_rss_mb": {
                    label: round(rss / 2**20, 1) for label, rss in sorted(usage.peak_rss.items())
                },
            }
            for name, usage in self.usage.items()
        }
        ours = sum(u.cpu_seconds for u in self.usage.values())
        return {
            "seconds": round(self.seconds, 2),
            "cores": cores,
            "machine_busy_pct": round(100 * self.machine_busy / capacity, 1) if capacity else 0,
            "others_pct": round(100 * max(0.0, self.machine_busy - ours) / capacity, 1)
            if capacity
            else 0,
            "groups": groups,
        }
