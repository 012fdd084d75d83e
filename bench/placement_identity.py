"""Every row ``place_links`` gives (default settings) on every real page and placement fixture, dumped as JSON.

A speed change to placement must not change a single row: dump before and after and compare the files (sha256).
Runs against the code of the current directory, so the same script checks another checkout::

    cd /path/to/checkout && python /path/to/bench/placement_identity.py rows.json [--drop COLUMN ...]

Real pages come from both ``tests/realpages`` sources (the pages folder and the WARC files), all of them, labelled
or not; fixtures are loaded as ``tests/test_placement.py`` loads them. ``--drop`` leaves a column out of every
row, to compare with a checkout that did not have it yet.

Recorded (374 pages, 42,221 rows, the 283 real pages, 38 WARC pages and 53 fixtures), sha256 of the file:

- ``0cbf409556ac946cf8e8be68a409c432f13d08cdff4a86337420675de0531fae``: with ``region_confidence``;
- ``43791194c75320dc1267872ffc0bd186248dec5b736cabe8c95d0b55c12cf74c``: with ``--drop region_confidence``, the
  same as the rows before the column existed (its addition changed no region nor any other column).
"""

from __future__ import annotations

import json
import logging
import os
import sys

sys.path.insert(0, os.getcwd())  # the checkout being checked, not this script's


def dump(out_path: str, drop: tuple[str, ...] = ()) -> None:
    import crawler
    from crawler.extract.placement import place_links
    from tests.realpages import all_pages, load_page, pages_dir
    from tests.test_placement import fixture_pages, load_fixture

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    print(f"placement from {os.path.dirname(crawler.__file__)}", file=sys.stderr)
    root = pages_dir()
    result = {}
    for key in all_pages(root):
        tree, anchors = load_page(root, key)
        result[key] = place_links(tree, anchors)
    for path in fixture_pages():
        tree, anchors, _ = load_fixture(path)
        result[f"fixtures/{path.name}"] = place_links(tree, anchors)
    for rows in result.values():
        for row in rows:
            for column in drop:
                del row[column]
    with open(out_path, "w", encoding="utf-8") as stream:
        json.dump(result, stream, sort_keys=True, ensure_ascii=False, indent=0)
    print(f"{len(result)} pages, {sum(len(rows) for rows in result.values())} rows -> {out_path}", file=sys.stderr)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the JSON file to write")
    parser.add_argument("--drop", action="append", default=[], metavar="COLUMN", help="leave COLUMN out of every row")
    args = parser.parse_args()
    dump(args.out, tuple(args.drop))
