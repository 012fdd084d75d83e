"""``python -m demo``: crawl the bundled demo web with the embedded default (no Redis) and show the prospects.

Starts the test web on loopback (three niche sites and a few dozen external targets, one for every verdict), runs
``scrapy crawl prospects`` against it, prints the top prospects and where the Parquet landed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from demo.commands import REPO, crawl_command
from demo.web import TestWeb


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "data" / "demo"), help="OUTPUT_URI of the demo crawl")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    with TestWeb() as web:
        seeds = out / "seeds.txt"
        out.mkdir(parents=True, exist_ok=True)
        seeds.write_text("# the demo web's niche sites\n" + "\n".join(web.seeds) + "\n")
        print(f"demo web on 127.0.0.1:{web.port}: {', '.join(web.seeds)}")
        started = time.monotonic()
        settings = {"CHECK_TIMEOUT": "3", "CHECK_BACKOFF": "0.5", "CHECK_RETRY_AFTER_MAX": "5",
                    "STATS_FILE": str(out / "stats.json"), "LOG_LEVEL": "WARNING", "PROGRESS_INTERVAL": "5"}
        crawl = subprocess.run(crawl_command("prospects", out, web, {"seeds": seeds}, settings), cwd=REPO)
        if crawl.returncode:
            print("the demo crawl failed", file=sys.stderr)
            return crawl.returncode
        import json

        stats = json.loads((out / "stats.json").read_text())
        elapsed = time.monotonic() - started
        print(
            f"\ncrawled {stats.get('pages/crawled', 0)} pages ({stats.get('pages/per_second', 0)} pages/s), "
            f"{stats.get('links/found', 0)} links, {stats.get('checks/done', 0)} checks: "
            f"{stats.get('checks/broken', 0)} broken, {stats.get('checks/ok', 0)} ok, "
            f"{stats.get('checks/unknown', 0)} unknown, in {elapsed:.1f} s\n"
        )
    report = subprocess.run([sys.executable, "-m", "scrapy", "prospects", str(out), "--limit", "10",
                             "--csv", str(out / "prospects.csv")], cwd=REPO)
    print(f"\nParquet tables: {out}/{{pages,links,checks}}/crawl=<id>/part-*.parquet")
    query = f"SELECT verdict, reason, count(*) FROM '{out}/checks/*/*.parquet' GROUP BY ALL"
    print(f"query them, e.g.: .venv/bin/python -c \"import duckdb; duckdb.sql('''{query}''').show()\"")
    return report.returncode


if __name__ == "__main__":
    sys.exit(main())
