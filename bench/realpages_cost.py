"""CPU per page of ``place_links`` (default settings) on the real pages of the pages folder (``tests/realpages``).

Each page is loaded as ``tests/realpages.load_page`` does, then placed ``--repeat`` times on its own tree; a page's
cost is its best run in process CPU time (``time.process_time``: other work on a shared machine does not count).
Prints the mean and median milliseconds per page::

    .venv/bin/python -m bench.realpages_cost [--repeat 3] [--source pages|warc] [--cold]

The model remembers weighed parts across pages (``model.Model.memo``: a site's pages repeat their menus and class
names), so the repeats of a page find its parts remembered; ``--cold`` empties that memory before every run, as
for a page of a site the process has never seen (``Model.forget``).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

from crawler.extract.placement import place_links
from crawler.extract.placement.model import shipped_model
from tests.realpages import all_pages, load_page, pages_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", default="pages", choices=("pages", "warc"))
    parser.add_argument("--cold", action="store_true", help="forget the model's remembered parts before each run")
    args = parser.parse_args()
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    root = pages_dir()
    model = shipped_model()
    costs, links = [], 0
    for key in all_pages(root, args.source):
        tree, anchors = load_page(root, key)
        links += len(anchors)
        best = float("inf")
        for _ in range(args.repeat):
            if args.cold and model is not None:
                model.forget()
            started = time.process_time()
            place_links(tree, anchors)
            best = min(best, time.process_time() - started)
        costs.append(best * 1000)
    print(f"{len(costs)} pages, {links / max(len(costs), 1):.1f} links/page, best of {args.repeat}: "
          f"mean {statistics.mean(costs):.2f} ms/page, median {statistics.median(costs):.2f} ms/page, "
          f"total {sum(costs):.0f} ms")


if __name__ == "__main__":
    main()
