"""PARSE_WORKERS' default follows a container's CPU limit, not the node's cores (crawler/cpus.py): cgroup files
as the kernel lays them out, in a temporary folder."""

from __future__ import annotations

import os

from crawler.cpus import cgroup_cpu_limit, usable_cpus


def layout(tmp_path, files: dict, cgroup: str):
    root = tmp_path / "sys-fs-cgroup"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(cgroup)
    return root, proc


def test_cgroup_v2_quota_in_the_process_own_group(tmp_path):
    root, proc = layout(tmp_path, {"kubepods/pod1/cpu.max": "150000 100000\n", "cpu.max": "max 100000\n"},
                        "0::/kubepods/pod1\n")
    assert cgroup_cpu_limit(root, proc) == 1.5
    assert usable_cpus(root, proc) == min(2, len(os.sched_getaffinity(0)))  # 1.5 CPUs: 2 processes


def test_cgroup_v2_container_sees_its_group_as_root_and_no_limit(tmp_path):
    root, proc = layout(tmp_path, {"cpu.max": "50000 100000\n"}, "0::/\n")
    assert cgroup_cpu_limit(root, proc) == 0.5
    assert usable_cpus(root, proc) == 1  # 500m: one process, never zero
    root, proc = layout(tmp_path / "unlimited", {"cpu.max": "max 100000\n"}, "0::/\n")
    assert cgroup_cpu_limit(root, proc) is None
    assert usable_cpus(root, proc) == len(os.sched_getaffinity(0))


def test_cgroup_v1_quota(tmp_path):
    root, proc = layout(tmp_path, {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000\n",
                                   "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"},
                        "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n")
    assert cgroup_cpu_limit(root, proc) == 2.0
    root, proc = layout(tmp_path / "none", {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"},
                        "1:cpu:/\n")
    assert cgroup_cpu_limit(root, proc) is None


def test_no_cgroup_filesystem(tmp_path):
    assert cgroup_cpu_limit(tmp_path / "missing", tmp_path / "missing-proc") is None
    assert usable_cpus(tmp_path / "missing", tmp_path / "missing-proc") >= 1
