"""Where a prospects crawl spends its CPU: the crawl runs under pyinstrument (a sampling profiler, JSON output) and
the call tree is folded into the costs worth acting on.

Folding: a function's time is the time of its outermost frames (recursion is not counted twice), and the generic
plumbing of asyncio, Twisted and Scrapy's async chains is left out of the ranking (it wraps everything, so it says
nothing). Buckets name the costs a reader can act on: placement and trafilatura, page building and link
extraction, the Scrapy path every yielded request takes (spider middlewares, scheduling, fingerprint, dupefilter),
downloading, Parquet output.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

BUCKETS = {
    "placement (pipelines/placement.py, all of it)": ("place_links",),
    "  of which trafilatura": ("bare_extraction",),
    "page building (decode, parse, facts, links)": ("build_page",),
    "  of which link extraction": ("extract_links",),
    "requests yielded -> scheduler (middlewares, fingerprint, dupefilter)": ("Scraper.handle_spider_output_async",
                                                                          "ExecutionEngine.crawl"),
    "  of which dupefilter": ("RFPDupeFilter.request_seen", "RedisDupeFilter.request_seen"),
    "link checks (checker.finish)": ("LinkChecker.finish",),
    "downloading (handlers, HTTP parsing)": ("DownloadHandlers.download_request_async", "Client.doRead"),
    "Parquet output": ("ParquetPipeline.process_item", "ParquetPipeline.close_spider", "PartWriter.add"),
    "logging records": ("Logger._log",),
}
PLUMBING = ("_run_once", "run_forever", "Handle._run", "asyncgen", "as_async_generator", "_evaluate_iterable",
            "process_spider_output_async", "MutableAsyncChain", "_async_chain", "aiter_errback", "callWith",
            "ContextTracker", "<module>", "execute", "_run_print_help", "_run_command", "Command.run", "start",
            "_start_twisted", "Reactor.run", "worker", "fill_queue", "_process_chain", "process_item_async",
            "_process_spidermw_output_async", "start_itemproc_async", "_wait_for_processing", "_scrape",
            "_parallel_asyncio", "<listcomp>", "_run", "Deferred", "_runCallbacks", "_inlineCallbacks", "wrapper")


def _name(frame: dict) -> str:
    return frame.get("function", "?")


def fold(root: dict) -> tuple[Counter, float]:
    """Inclusive seconds per function name (outermost frames only) and the profile's total."""
    totals: Counter = Counter()

    def walk(frame: dict, active: tuple[str, ...]) -> None:
        name = _name(frame)
        if name not in active:
            totals[name] += frame.get("time", 0.0)
            active = active + (name,)
        for child in frame.get("children", []):
            walk(child, active)

    walk(root, ())
    return totals, root.get("time", 0.0)


def summarize(profile_json: Path, top: int = 15) -> dict:
    data = json.loads(profile_json.read_text())
    root = data.get("root_frame") or data
    totals, total = fold(root)
    buckets = {label: round(sum(totals.get(n, 0.0) for n in names), 2) for label, names in BUCKETS.items()}
    ranked = [(n, t) for n, t in totals.most_common() if not any(p in n for p in PLUMBING)]
    return {
        "total_s": round(total, 2),
        "buckets": {k: {"s": v, "share": round(v / total, 3) if total else 0.0} for k, v in buckets.items()},
        "top": [{"function": n, "s": round(t, 2), "share": round(t / total, 3) if total else 0.0} for n, t in ranked[:top]],
    }


def markdown(summary: dict) -> str:
    lines = [f"Profile of the embedded prospects crawl (pyinstrument, {summary['total_s']} s sampled):", "",
             "| cost | s | share |", "|---|---:|---:|"]
    for label, v in summary["buckets"].items():
        lines.append(f"| {label} | {v['s']} | {v['share']:.0%} |")
    lines += ["", "Top functions (inclusive, plumbing left out): " +
              ", ".join(f"{t['function']} {t['share']:.0%}" for t in summary["top"])]
    return "\n".join(lines)
