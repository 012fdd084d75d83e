"""``bench.costs.page_costs`` on synthetic pages alone, without the full benchmark's servers and crawls.

Writes a synthetic web (``bench.synthweb``, the quick size of ``bench.run``) to a temporary folder and measures
its posts as ``bench.run``'s ``costs`` stage does::

    .venv/bin/python -m bench.synth_costs [--count 300]
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

from bench import costs
from bench.synthweb import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="synth-costs-") as folder:
        web = generate(Path(folder) / "web", pages=400, sites=4, peer_pages=30, nginx_port=8080, dynamic_port=8081)
        pages = costs.sample_pages(web.root, [site.host for site in web.sites], web.nginx_port, args.count)
        print(json.dumps(costs.page_costs(pages), indent=1))


if __name__ == "__main__":
    main()
