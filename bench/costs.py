"""Per-page CPU cost of the work a crawl does on each page, measured on the synthetic web's own pages: decode and
parse, page facts and link extraction, link placement (without and with main-content detection) and trafilatura.

Each step runs on its own fresh tree where it may change the tree (trafilatura cleans the tree it is given), and
parsing is timed once, apart, since the crawl parses a page once for all steps.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path


def _timed(fn, items) -> float:
    """Median milliseconds of ``fn`` over ``items``."""
    times = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2] if times else 0.0


def page_costs(pages: list[tuple[str, bytes]]) -> dict[str, float | str]:
    """``pages`` is ``[(url, html bytes)]``; returns median ms per page of each step (or why a step is absent)."""
    from crawler.extract.links import extract_links
    from crawler.extract.page import decode_html, page_facts, parse_html

    out: dict[str, float | str] = {"pages": len(pages), "page_kb": round(sum(len(b) for _, b in pages) / max(1, len(pages)) / 1024, 1)}
    out["parse_ms"] = _timed(lambda p: parse_html(decode_html(p[1], "text/html; charset=utf-8")[0]), pages)
    trees = [(url, parse_html(decode_html(body, "text/html; charset=utf-8")[0])) for url, body in pages]

    def links(p):
        facts = page_facts(p[1], p[0])
        return extract_links(p[1], p[0], facts.base_url, fetched_at=None)

    out["links_ms"] = _timed(links, trees)
    out["links_per_page"] = round(sum(len(links(t).rows) for t in trees) / max(1, len(trees)), 1)
    try:
        from crawler.extract.placement import place_links

        prepared = [(copy.deepcopy(root), url) for url, root in trees]
        prepared = [(root, links((url, root)).elements) for root, url in prepared]
        out["placement_ms"] = _timed(lambda p: place_links(p[0], p[1], main_content=False), prepared)
        prepared = [(copy.deepcopy(root), url) for url, root in trees]
        prepared = [(root, links((url, root)).elements) for root, url in prepared]
        out["placement_main_ms"] = _timed(lambda p: place_links(p[0], p[1]), prepared)  # the default main content
    except Exception as exc:  # placement is another module's work in progress: report, do not fail the run
        out["placement_ms"] = f"not available: {type(exc).__name__}: {exc}"[:200]
    try:
        import trafilatura

        fresh = [copy.deepcopy(root) for _, root in trees]
        out["trafilatura_ms"] = _timed(lambda root: trafilatura.extract(root), fresh)
    except Exception as exc:
        out["trafilatura_ms"] = f"not available: {type(exc).__name__}: {exc}"[:200]
    return out


def buffered_row_bytes(links_dir: Path, limit: int = 20_000) -> dict[str, float]:
    """Memory per ``links`` row while it waits in the Parquet writer's buffer (a Python dict, as the pipeline
    holds it until ``PARQUET_ROW_GROUP_SIZE`` rows) against the same row as Arrow columns."""
    import tracemalloc

    import pyarrow.dataset as ds

    table = ds.dataset(links_dir, format="parquet", partitioning="hive").head(limit)
    if not table.num_rows:
        return {}
    tracemalloc.start()
    rows = table.to_pylist()
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del rows
    return {"link_row_dict_bytes": round(size / table.num_rows), "link_row_arrow_bytes": round(table.nbytes / table.num_rows)}


def sample_pages(root: Path, hosts: list[str], port: int, count: int) -> list[tuple[str, bytes]]:
    """Up to ``count`` pages of the synthetic web, read from disk, spread over the given sites."""
    files = []
    for host in hosts:
        files += [(host, p) for p in sorted((root / host / "posts").glob("*.html"))[: max(1, count // len(hosts))]]
    pages = []
    for host, path in files[:count]:
        url = f"http://{host}:{port}/posts/{path.name}"
        pages.append((url, path.read_bytes()))
    return pages
