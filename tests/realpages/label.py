"""Add or replace one page's labels in ``labels.json``: ``python -m tests.realpages.label N < rules`` (``N``,
``warc:N`` or a key, as for ``dump``) where each line of the rules is ``region: selector`` (CSS, or XPath starting
with ``/``) or ``@index region`` (one link)."""

from __future__ import annotations

import json
import sys

from tests.realpages import LABELS, REGIONS_LABELLED, page_key, pages_dir


def main(arg: str) -> None:
    relpath = page_key(arg, pages_dir())
    rules, links = [], {}
    for line in sys.stdin.read().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            index, region = line[1:].split()
            assert region in REGIONS_LABELLED, line
            links[index] = region
        else:
            region, selector = line.split(":", 1)
            assert region.strip() in REGIONS_LABELLED, line
            rules.append([selector.strip(), region.strip()])
    data = json.loads(LABELS.read_text()) if LABELS.exists() else {"pages": []}
    pages = [p for p in data["pages"] if p["page"] != relpath]
    entry = {"page": relpath, "rules": rules}
    if links:
        entry["links"] = links
    pages.append(entry)
    data["pages"] = pages
    LABELS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"{relpath}: {len(rules)} rules, {len(links)} links; {len(pages)} pages labelled")


if __name__ == "__main__":
    main(sys.argv[1])
