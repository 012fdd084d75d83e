"""Where a prospects crawl spends its CPU: the crawl runs under pyinstrument (a sampling profiler, JSON output) and
the call tree is folded into the costs worth acting on.

Folding: a function's time is the time of its outermost frames (recursion is not counted twice). Buckets name the
costs a reader can act on: placement and trafilatura, page building and link extraction, the Scrapy path every
yielded request takes (spider middlewares, scheduling, fingerprint, dupefilter), downloading, Parquet output; the
ranking lists our own functions (``crawler/``, ``pipelines/``), since Scrapy's async plumbing wraps everything.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

BUCKETS = {
    "placement (pipelines/placement.py, all of it)": ("place_links",),
    "- of which trafilatura": ("bare_extraction",),
    "page building (decode, parse, facts, links)": ("build_page",),
    "- of which link extraction": ("extract_links",),
    "requests yielded -> scheduler (middlewares, fingerprint, dupefilter)": ("Scraper.handle_spider_output_async",
                                                                          "ExecutionEngine.crawl"),
    "- of which dupefilter": ("RFPDupeFilter.request_seen", "RedisDupeFilter.request_seen"),
    "link checks (checker.finish)": ("LinkChecker.finish",),
    "downloading (handlers, HTTP parsing)": ("DownloadHandlers.download_request_async", "Client.doRead"),
    "Parquet output": ("ParquetPipeline.process_item", "ParquetPipeline.close_spider", "PartWriter.add"),
    "logging records": ("Logger._log",),
}
PROJECT = ("crawler/", "pipelines/", "schemas/")  # file_path_short prefixes of our own code


def fold(root: dict) -> tuple[Counter, float]:
    """Inclusive seconds per (function, file) (outermost frames only) and the profile's total."""
    totals: Counter = Counter()

    def walk(frame: dict, active: frozenset) -> None:
        function = frame.get("function", "?")
        if frame.get("class_name"):
            function = f"{frame['class_name']}.{function}"
        key = (function, frame.get("file_path_short", ""))
        if key not in active:
            totals[key] += frame.get("time", 0.0)
            active = active | {key}
        for child in frame.get("children", []):
            walk(child, active)

    walk(root, frozenset())
    return totals, root.get("time", 0.0)


def summarize(profile_json: Path, top: int = 15) -> dict:
    data = json.loads(profile_json.read_text())
    root = data.get("root_frame") or data
    totals, total = fold(root)
    share = lambda t: round(t / total, 3) if total else 0.0  # noqa: E731
    buckets = {}
    for label, names in BUCKETS.items():
        seconds = sum(t for (function, _), t in totals.items() if function in names)
        buckets[label] = {"s": round(seconds, 2), "share": share(seconds)}
    ranked = [(f"{function} ({path})", t) for (function, path), t in totals.most_common()
              if path.startswith(PROJECT) and not function.startswith(("[", "<"))]
    return {"total_s": round(total, 2), "buckets": buckets,
            "top": [{"function": name, "s": round(t, 2), "share": share(t)} for name, t in ranked[:top]]}


def markdown(summary: dict) -> str:
    lines = [f"Profile of the embedded prospects crawl (pyinstrument, {summary['total_s']} s sampled):", "",
             "| cost | s | share |", "|---|---:|---:|"]
    for label, v in summary["buckets"].items():
        lines.append(f"| {label} | {v['s']} | {v['share']:.0%} |")
    lines += ["", "Our own functions by inclusive time: " +
              ", ".join(f"{t['function']} {t['share']:.0%}" for t in summary["top"])]
    return "\n".join(lines)
