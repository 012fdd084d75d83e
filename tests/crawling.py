"""Run real crawls in subprocesses, as a user would (``scrapy crawl ...`` in the project folder), and read what
they wrote back from the Parquet lake."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyarrow.dataset as ds

from demo.commands import REPO
from demo.commands import crawl_command as demo_crawl_command

# Short timeouts and backoffs so a test crawl of the whole test web takes seconds; the semantics are unchanged.
FAST_CHECKS = {"CHECK_TIMEOUT": "2", "CHECK_BACKOFF": "0.2", "CHECK_RETRY_AFTER_MAX": "3", "DOWNLOAD_TIMEOUT": "5"}


@dataclass
class Crawl:
    returncode: int
    log: str
    stats: dict
    out: Path

    def table(self, name: str) -> list[dict]:
        return read_table(self.out, name)


def read_table(out: Path, name: str) -> list[dict]:
    path = Path(out) / name
    if not path.exists():
        return []
    return ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pylist()


def crawl_command(spider: str, out: Path, web, args: dict, settings: dict | None = None, stats_file: Path | None = None) -> list[str]:
    merged = {"LOG_LEVEL": "INFO", **FAST_CHECKS, **(settings or {})}
    if stats_file:
        merged["STATS_FILE"] = str(stats_file)
    return demo_crawl_command(spider, out, web, args, merged)


def run_crawl(spider: str, out: Path, web, args: dict, settings: dict | None = None, env: dict | None = None, timeout: float = 240) -> Crawl:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stats_file = out / f"stats-{spider}-{len(list(out.glob('stats-*')))}.json"
    proc = subprocess.run(
        crawl_command(spider, out, web, args, settings, stats_file),
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return Crawl(proc.returncode, proc.stdout + proc.stderr, stats, out)


def start_worker(spider: str, out: Path, web, args: dict, settings: dict, env: dict, log_path: Path) -> subprocess.Popen:
    """A cluster worker in the background; its log goes to ``log_path``."""
    out.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w")
    return subprocess.Popen(
        crawl_command(spider, out, web, args, settings, out / f"stats-{log_path.stem}.json"),
        cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )
