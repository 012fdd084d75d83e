"""What typed rows (``schemas/records.py``) cost next to plain dicts of the same values, on a page of 200 links.

Measures, in milliseconds per page (best of ``--repeat`` runs):

- ``page``: ``build_page`` + placement without trafilatura (``crawler/parsepool.py``'s ``page_rows``), the work the
  rows are a part of;
- ``build``: the 200 ``links`` rows made as records, and as dicts of the same values;
- ``pickle``: the page's result pickled and unpickled (what crossing the parse pool's process boundary costs), with
  record rows and with dict rows;
- ``batch``: the rows made into an Arrow batch: the Parquet writer's ``_to_batch`` over records, and
  ``RecordBatch.from_pylist`` over dicts (what the writer did before);
- ``bytes/row``: the size of one row object (without its values, which both share).

Run from the repository root: ``.venv/bin/python -m bench.row_cost [--links N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import time
from datetime import UTC, datetime

import pyarrow as pa

from crawler.extract.record import Fetched
from crawler.items import PageItem
from crawler.lake import LocalLake
from crawler.parsepool import Placement, page_rows
from pipelines.parquet import PartWriter
from schemas.records import LinkRow


def page_html(links: int) -> bytes:
    """A blog post: a navigation bar, then paragraphs of running text with links to other sites, some nofollow."""
    nav = "".join(f'<a href="/section/{i}">Section {i}</a>' for i in range(10))
    body = "".join(
        f'<p>Some words before <a href="https://site{i % 37}.example/path/{i}?q=1"'
        f'{" rel=nofollow" if i % 5 == 0 else ""}>anchor {i}</a> and some after.</p>' for i in range(links - 10))
    return (f"<html><head><title>Post</title></head><body><nav>{nav}</nav><article><h1>Post</h1>{body}</article>"
            "</body></html>").encode()


def builders(names: list[str]):
    """Two functions making a links row from the same local values, as the extractor does: ``LinkRow(name=...)``
    and the dict literal ``{"name": ...}`` it replaced."""
    reads = [f"v[{name!r}]" for name in names]
    source = (f"def as_record(v): return LinkRow({', '.join(f'{n}={r}' for n, r in zip(names, reads))})\n"
              f"def as_dict(v): return {{{', '.join(f'{n!r}: {r}' for n, r in zip(names, reads))}}}\n")
    scope = {"LinkRow": LinkRow}
    exec(source, scope)  # our own source text, built from the record's field names
    return scope["as_record"], scope["as_dict"]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    fetched = Fetched("https://blog.example/post", 200, {"content-type": "text/html; charset=utf-8"},
                      page_html(args.links), datetime.now(UTC), "blog.example", depth=1, extra={"unchanged": False})
    placement = Placement(None, False)
    result, _ = page_rows(fetched, 0, placement)
    records = result.item.links
    assert len(records) == args.links, len(records)
    dicts = [dataclasses.asdict(row) for row in records]
    as_record, as_dict = builders(list(dicts[0]))
    as_dicts = dataclasses.replace(result, item=PageItem(dataclasses.asdict(result.item.page), dicts,
                                                         contacts=[dataclasses.asdict(c) for c in result.item.contacts]))
    writer = PartWriter("links", LocalLake("."), "unused", "bench", row_group_size=1, compression="zstd")
    figures = {
        "page (build_page + placement, no trafilatura)": (best(lambda: page_rows(fetched, 0, placement), args.repeat // 10), None),
        f"build {args.links} rows": (best(lambda: [as_record(v) for v in dicts], args.repeat),
                                     best(lambda: [as_dict(v) for v in dicts], args.repeat)),
        "pickle + unpickle the page's result": (best(lambda: pickle.loads(pickle.dumps(result, 5)), args.repeat),
                                                best(lambda: pickle.loads(pickle.dumps(as_dicts, 5)), args.repeat)),
        "rows -> Arrow batch": (best(lambda: writer._to_batch(records), args.repeat),
                                best(lambda: pa.RecordBatch.from_pylist(dicts, schema=writer.schema), args.repeat)),
    }
    print(f"{args.links} links; ms per page, best of {args.repeat}    records    dicts")
    for name, (record_ms, dict_ms) in figures.items():
        print(f"  {name:<45} {record_ms:8.3f} " + (f"{dict_ms:8.3f}" if dict_ms is not None else ""))
    print(f"  {'pickled bytes':<45} {len(pickle.dumps(result, 5)):8d} {len(pickle.dumps(as_dicts, 5)):8d}")
    print(f"  {'bytes per row object':<45} {sys.getsizeof(records[0]):8d} {sys.getsizeof(dicts[0]):8d}")


if __name__ == "__main__":
    main()
