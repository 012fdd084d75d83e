"""What link placement costs per page, next to parsing and trafilatura.

Measures, in milliseconds per page, on the placement fixtures and on the HTML responses of WARC files:

- ``parse+links``: lxml parse of the decoded page and the list of ``<a href>``/``<area href>`` (the spider's work
  before placement);
- ``placement``: :func:`place_links` with ``main_content=False`` (regions and text columns, no trafilatura);
- ``trafilatura``: ``bare_extraction`` alone on the parsed tree, with the options placement uses (``fast=True``);
- ``placement+main``: :func:`place_links` with ``main_content="trafilatura"`` (trafilatura on every page; the
  spider's default, ``auto``, pays it only on pages without an article container);
- ``traf default``: ``bare_extraction`` with trafilatura's default ``fast=False``, the cost the fast mode avoids;
- ``tree copy``: ``copy.deepcopy`` of the tree, the copy trafilatura makes of its input (it never mutates ours).

Each figure is the best of ``--repeat`` runs over the whole set, divided by the number of pages. Run from the
repository root::

    .venv/bin/python -m bench.placement_cost [--repeat N] [WARC ...]

Without WARC arguments it reads the files matching ``$SAMPLE_WARCS`` (a glob), if set. Records with
``Content-Encoding: br`` are read from ``raw_stream`` and decompressed here: warcio 1.8.1's ``content_stream()``
fails on them with brotli 1.2 (docs/pitfalls.md §3).
"""

from __future__ import annotations

import argparse
import copy
import glob
import logging
import os
import time
from pathlib import Path

from crawler.extract.page import UnparseablePage, decode_html, parse_html
from crawler.extract.placement import place_links

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "placement"
DEFAULT_WARCS = os.environ.get("SAMPLE_WARCS", "")
MAX_BODY = 5 * 1024 * 1024


def dechunk(data: bytes) -> bytes:
    """Undo HTTP chunked transfer coding (``raw_stream`` keeps it)."""
    out, pos = bytearray(), 0
    while pos < len(data):
        end = data.find(b"\r\n", pos)
        if end < 0:
            break
        size = int(data[pos:end].split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            break
        out += data[end + 2 : end + 2 + size]
        pos = end + 2 + size + 2
    return bytes(out)


def http_body(record) -> bytes:
    headers = record.http_headers
    if (headers.get_header("Content-Encoding") or "").strip().lower() != "br":
        return record.content_stream().read(MAX_BODY)
    import brotli

    raw = record.raw_stream.read(MAX_BODY)
    if "chunked" in (headers.get_header("Transfer-Encoding") or "").lower():
        raw = dechunk(raw)
    return brotli.decompress(raw)


def warc_pages(paths: list[str]) -> list[str]:
    """Decoded HTML of every 200 text/html response in the WARC files."""
    from warcio.archiveiterator import ArchiveIterator

    pages = []
    for path in paths:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = record.http_headers.get_header("Content-Type") or ""
                if "html" not in content_type or record.http_headers.get_statuscode() != "200":
                    continue
                text, _ = decode_html(http_body(record), content_type)
                pages.append(text)
    return pages


def fixture_pages() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(FIXTURES.glob("*.html"))]


def links_of(root) -> list:
    return [element for element in root.iter("a", "area") if element.get("href") is not None]


def best_ms_per_page(work, items, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for item in items:
            work(item)
        best = min(best, time.perf_counter() - started)
    return best * 1000 / max(len(items), 1)


def measure(texts: list[str], repeat: int) -> dict:
    import trafilatura

    def parse_and_list(text):
        links_of(parse_html(text))

    parsed, trees = [], []
    for text in texts:
        try:
            root = parse_html(text)
        except UnparseablePage:
            continue
        parsed.append(text)
        trees.append((root, links_of(root)))
    return {
        "pages": len(trees),
        "links/page": sum(len(links) for _, links in trees) / max(len(trees), 1),
        "parse+links": best_ms_per_page(parse_and_list, parsed, repeat),
        "placement": best_ms_per_page(lambda t: place_links(t[0], t[1], main_content=False), trees, repeat),
        "trafilatura": best_ms_per_page(
            lambda t: trafilatura.bare_extraction(
                t[0], fast=True, include_links=True, include_comments=False, include_tables=True
            ),
            trees,
            repeat,
        ),
        "placement+main": best_ms_per_page(lambda t: place_links(t[0], t[1], main_content="trafilatura"), trees, repeat),
        "traf default": best_ms_per_page(lambda t: trafilatura.bare_extraction(t[0]), trees, repeat),
        "tree copy": best_ms_per_page(lambda t: copy.deepcopy(t[0]), trees, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("warcs", nargs="*", help="WARC files (default: the glob in $SAMPLE_WARCS)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    sets = {"fixtures": fixture_pages()}
    warcs = args.warcs or sorted(glob.glob(DEFAULT_WARCS))
    if DEFAULT_WARCS and not args.warcs and not warcs:  # a quoted glob keeps its quotes: say so, do not skip silently
        print(f"SAMPLE_WARCS={DEFAULT_WARCS!r} matches no file: the WARC set is not measured")
    if warcs:
        sets["warc"] = warc_pages(warcs)
    results = {name: measure(texts, args.repeat) for name, texts in sets.items()}
    columns = ["pages", "links/page", "parse+links", "placement", "trafilatura", "placement+main", "traf default",
               "tree copy"]
    print(f"ms per page (best of {args.repeat} runs)")
    print(f"{'set':<10}" + "".join(f"{c:>16}" for c in columns))
    for name, row in results.items():
        cells = [f"{row[c]:>16d}" if c == "pages" else f"{row[c]:>16.2f}" for c in columns]
        print(f"{name:<10}" + "".join(cells))


if __name__ == "__main__":
    main()
