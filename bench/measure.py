"""Running a crawl (or a peer) as a subprocess and measuring it: wall time, resident memory sampled from /proc, and
the machine's load, so a disturbed figure can be recognised as such (other jobs share the 2 cores)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow.dataset as ds


@dataclass
class Run:
    returncode: int
    wall_s: float
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB) of the process tree
    load_before: float = 0.0
    load_after: float = 0.0
    timed_out: bool = False
    started_at: float = 0.0  # epoch seconds, to line samples up with timestamps in the output
    cpu_own_s: float = 0.0  # CPU seconds (user + system) of the process itself, as last sampled
    cpu_children_s: float = 0.0  # of the processes it started (a parse pool), each as last sampled
    machine_busy_s: float = 0.0  # CPU seconds every core of the machine spent busy during the run, all processes
    machine_idle_s: float = 0.0  # and idle: a run that leaves none was bound by the machine's cores

    @property
    def rss_peak_mb(self) -> float:
        return max((mb for _, mb in self.rss_mb), default=0.0)

    def rss_at(self, fraction: float) -> float:
        """RSS when ``fraction`` of the run had elapsed (0.25: a quarter in), to see whether memory keeps growing."""
        if not self.rss_mb:
            return 0.0
        t = self.wall_s * fraction
        return min(self.rss_mb, key=lambda s: abs(s[0] - t))[1]


def rss_by_progress(run: Run, event_times: list[float], points: int = 10) -> list[tuple[int, float]]:
    """``(events done, RSS MB)`` at ``points`` moments of the run: does memory grow with the crawl, or stay flat?
    ``event_times`` are sorted epoch seconds (e.g. when each page was fetched)."""
    import bisect

    if not run.rss_mb or not event_times:
        return []
    step = max(1, len(run.rss_mb) // points)
    return [(bisect.bisect_right(event_times, run.started_at + t), round(mb, 1)) for t, mb in run.rss_mb[::step]]


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """Every process ``pid`` started, from any of its threads: ``/proc/<pid>/task/<tid>/children`` lists only the
    children one thread forked (proc(5)), and a crawl starts its parse pool from a thread."""
    found = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            pass
    return found


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (``/proc/<pid>/stat`` fields 14 and 15, proc(5))."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return 0.0


def _descendants(pid: int) -> list[int]:
    found, stack = [], _children(pid)
    while stack:
        p = stack.pop()
        found.append(p)
        stack.extend(_children(p))
    return found


def machine_cpu_s() -> tuple[float, float]:
    """``(busy, idle)`` CPU seconds of the whole machine since boot, every core summed (``/proc/stat``; idle
    includes iowait)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    busy = sum(values[:8]) - idle  # user nice system idle iowait irq softirq steal (guest is inside user)
    return busy / _TICK, idle / _TICK


def run_all(cmds: list[list[str]], *, cwd: Path, env: dict | None = None, logs: list[Path], timeout: float,
            stdouts: list[Path | None] | None = None) -> list[Run]:
    """Run the commands side by side to completion (killed after ``timeout`` s), sampling the RSS of each (children
    included) every 0.25 s, and at most 0.25 s apart when one ends."""
    load_before = os.getloadavg()[0]
    busy0, idle0 = machine_cpu_s()
    stdouts = stdouts or [None] * len(cmds)
    files, procs = [], []
    started, started_at = time.monotonic(), time.time()
    for cmd, log, out in zip(cmds, logs, stdouts):
        log_f = open(log, "w")
        out_f = open(out, "w") if out else log_f
        files += [log_f, out_f]
        procs.append(subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out_f, stderr=log_f))
    samples: list[list[tuple[float, float]]] = [[] for _ in procs]
    cpu_own = [0.0] * len(procs)
    cpu_children: list[dict[int, float]] = [{} for _ in procs]  # pid -> CPU seconds, as last sampled
    ended: list[float | None] = [None] * len(procs)
    timed_out = False
    try:
        while any(e is None for e in ended):
            now = time.monotonic() - started
            for i, proc in enumerate(procs):
                if ended[i] is None:
                    if proc.poll() is not None:
                        ended[i] = now
                        continue
                    children = _descendants(proc.pid)  # one walk of the tree per sample, for RSS and CPU
                    if kb := sum(map(_rss_kb, (proc.pid, *children))):
                        samples[i].append((now, kb / 1024))
                        cpu_own[i] = max(cpu_own[i], _cpu_s(proc.pid))
                        for child in children:
                            cpu_children[i][child] = max(cpu_children[i].get(child, 0.0), _cpu_s(child))
            if now > timeout and any(e is None for e in ended):
                timed_out = True
                for i, proc in enumerate(procs):
                    if ended[i] is None:
                        proc.kill()
                        proc.wait()
                        ended[i] = now
                break
            running = [proc for i, proc in enumerate(procs) if ended[i] is None]
            try:  # wakes as soon as the first of them ends: a short run's wall time is not rounded up to 0.25 s
                if running:
                    running[0].wait(0.25)
            except subprocess.TimeoutExpired:
                pass
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        for f in files:
            f.close()
    load_after = os.getloadavg()[0]
    busy1, idle1 = machine_cpu_s()
    return [Run(p.returncode, e or 0.0, s, load_before, load_after, timed_out, started_at, own,
                sum(children.values()), busy1 - busy0, idle1 - idle0)
            for p, e, s, own, children in zip(procs, ended, samples, cpu_own, cpu_children)]


def run(cmd: list[str], *, cwd: Path, env: dict | None = None, log: Path, timeout: float, stdout: Path | None = None) -> Run:
    return run_all([cmd], cwd=cwd, env=env, logs=[log], timeout=timeout, stdouts=[stdout])[0]


def cpu_figures(runs: list[Run], pages: int) -> dict:
    """Where the CPU went, in milliseconds per page over the whole run (start-up included): the crawl processes,
    the processes they started (parse pools), the rest of the machine (the web servers, the bench), and the share
    of the machine's cores left idle. Runs side by side share one machine window: it is counted once."""
    if not runs or not pages:
        return {}
    per_page = lambda s: round(1000 * s / pages, 2)  # noqa: E731
    own = sum(r.cpu_own_s for r in runs)
    children = sum(r.cpu_children_s for r in runs)
    busy, idle = runs[0].machine_busy_s, runs[0].machine_idle_s
    return {"crawl_ms": per_page(own), "pool_ms": per_page(children),
            "rest_ms": per_page(max(busy - own - children, 0.0)), "machine_ms": per_page(busy),
            "idle_share": round(idle / (busy + idle), 3) if busy + idle else None}


def read_rows(out: Path, table: str, columns: list[str]) -> list[dict]:
    path = Path(out) / table
    if not path.exists():
        return []
    return ds.dataset(path, format="parquet", partitioning="hive").to_table(columns=columns).to_pylist()


def rate(count: int, first: datetime | float | None, last: datetime | float | None) -> float:
    """Events per second between the first and the last event (start-up and shut-down excluded)."""
    if not count or first is None or last is None:
        return 0.0
    span = (last - first).total_seconds() if isinstance(first, datetime) else last - first
    return (count - 1) / span if span > 0 else 0.0


def rate_by_part(times: list[datetime], parts: int = 10) -> list[float]:
    """Events per second within each ``parts``-th of the sorted ``times`` (the first tenth of the pages, the
    second...): a crawl whose cost per page grows with its size slows down from one part to the next."""
    if len(times) < 2 * parts:
        return []
    bounds = [round(i * len(times) / parts) for i in range(parts + 1)]
    return [round(rate(b - a, times[a], times[b - 1]), 1) for a, b in zip(bounds, bounds[1:])]


def parquet_bytes(out: Path, table: str) -> int:
    return sum(p.stat().st_size for p in (Path(out) / table).rglob("*.parquet"))
