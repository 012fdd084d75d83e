"""How many CPUs this process may really use: the default of ``PARSE_WORKERS``.

``os.cpu_count()`` and ``os.sched_getaffinity()`` count the machine's cores, not a container's CPU limit: in a
Kubernetes pod limited to 2 CPUs on a 64-core node they say 64, and 64 parse processes of ~100 MB each would be
OOM-killed long before they were useful. The limit is the cgroup's CPU quota (cgroup v2 ``cpu.max``, v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; Linux kernel docs, "Control Group v2", CPU interface files),
rounded up: a pod limited to 1.5 CPUs gets 2 processes, one limited to 500m gets 1.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("https://rp2.alfred511.top/huggingface/sys/fs/cgroup")


def usable_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("https://rp2.alfred511.top/huggingface/proc/self/cgroup")) -> int:
    """The CPUs this process may run on, capped by its cgroup's CPU quota when it has one; at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root, proc_cgroup)
    if limit is not None:
        count = min(count, max(1, math.ceil(limit - 1e-9)))
    return max(1, count)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("https://rp2.alfred511.top/huggingface/proc/self/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in CPUs (1.5 = one and a half), or None when it has none or none can
    be read (not Linux, no cgroup filesystem)."""
    v2, v1 = _own_cgroups(proc_cgroup)
    for folder in _candidates(root, v2):
        text = _read(folder / "cpu.max")
        if text is not None:
            parts = text.split()
            if len(parts) == 2 and parts[0] != "max":
                return _ratio(parts[0], parts[1])
            return None
    for folder in _candidates(root / "cpu", v1) + _candidates(root / "cpu,cpuacct", v1):
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return _ratio(quota, period) if quota.strip() != "-1" else None
    return None


def _own_cgroups(proc_cgroup: Path) -> tuple[str, str]:
    """This process's cgroup paths: the v2 one (``0::/path``) and the v1 ``cpu`` controller's."""
    v2 = v1 = "/"
    text = _read(proc_cgroup) or ""
    for line in text.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        if fields[0] == "0" and fields[1] == "":
            v2 = fields[2] or "/"
        elif "cpu" in fields[1].split(","):
            v1 = fields[2] or "/"
    return v2, v1


def _candidates(base: Path, own: str) -> list[Path]:
    """The process's own cgroup folder first, then the mount's root (a container sees its cgroup as the root)."""
    own_folder = base / own.lstrip("/")
    return [own_folder, base] if own_folder != base else [base]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None
