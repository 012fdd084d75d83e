"""The command lines that crawl the demo web, shared by the demo, the tests and the benchmark.

A crawl of the demo web is an ordinary ``scrapy crawl`` with the web's names mapped to loopback
(``DNS_OVERRIDES``) and every other name refused (``DNS_OVERRIDES_STRICT``): nothing leaves the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def crawl_command(spider: str, out: Path, web, args: dict, settings: dict | None = None) -> list[str]:
    overrides = ",".join(f"{host}={ip}" for host, ip in web.dns_overrides.items())
    merged = {"OUTPUT_URI": str(out), "DNS_OVERRIDES": overrides, "DNS_OVERRIDES_STRICT": "True", **(settings or {})}
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for key, value in args.items():
        cmd += ["-a", f"{key}={value}"]
    for key, value in merged.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd
