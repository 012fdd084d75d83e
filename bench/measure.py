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
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _tree_rss_kb(pid: int) -> int:
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += _rss_kb(p)
        stack.extend(_children(p))
    return total


def run_all(cmds: list[list[str]], *, cwd: Path, env: dict | None = None, logs: list[Path], timeout: float,
            stdouts: list[Path | None] | None = None) -> list[Run]:
    """Run the commands side by side to completion (killed after ``timeout`` s), sampling the RSS of each (children
    included) every 0.25 s, and at most 0.25 s apart when one ends."""
    load_before = os.getloadavg()[0]
    stdouts = stdouts or [None] * len(cmds)
    files, procs = [], []
    started, started_at = time.monotonic(), time.time()
    for cmd, log, out in zip(cmds, logs, stdouts):
        log_f = open(log, "w")
        out_f = open(out, "w") if out else log_f
        files += [log_f, out_f]
        procs.append(subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out_f, stderr=log_f))
    samples: list[list[tuple[float, float]]] = [[] for _ in procs]
    ended: list[float | None] = [None] * len(procs)
    timed_out = False
    try:
        while any(e is None for e in ended):
            now = time.monotonic() - started
            for i, proc in enumerate(procs):
                if ended[i] is None:
                    if proc.poll() is not None:
                        ended[i] = now
                    elif (kb := _tree_rss_kb(proc.pid)):
                        samples[i].append((now, kb / 1024))
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
    return [Run(p.returncode, e or 0.0, s, load_before, load_after, timed_out, started_at)
            for p, e, s in zip(procs, ended, samples)]


def run(cmd: list[str], *, cwd: Path, env: dict | None = None, log: Path, timeout: float, stdout: Path | None = None) -> Run:
    return run_all([cmd], cwd=cwd, env=env, logs=[log], timeout=timeout, stdouts=[stdout])[0]


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
