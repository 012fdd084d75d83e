"""Real pages labelled by region: loading them, deriving each link's expected region, and the held-out split.

The pages are public test corpora kept outside the repository (trafilatura's ``tests/cache`` and Zyte's
article-extraction-benchmark, github.com/adbar/trafilatura and github.com/scrapinghub/article-extraction-benchmark),
found through ``$LINKPROSPECTOR_PAGES``: only labels are stored here, in ``labels.json``. See ``README.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

from crawler.extract.page import decode_html, parse_html
from crawler.urls import resolve_href

HERE = Path(__file__).parent
LABELS = HERE / "labels.json"
REPO = HERE.parent.parent
REGIONS_LABELLED = ("content", "navigation", "header", "footer", "sidebar", "comments", "breadcrumb")


def pages_dir() -> Path | None:
    """Where the real pages are: ``$LINKPROSPECTOR_PAGES``, else the corpus folder CI places beside the clone."""
    candidates = [os.environ.get("LINKPROSPECTOR_PAGES"), REPO.parent / "shared" / "data" / "pages"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def is_held_out(relpath: str) -> bool:
    """The split, fixed before any page was labelled or measured: a third of the pages, by a hash of their path.
    Nobody tunes on these."""
    return int(hashlib.sha1(relpath.encode()).hexdigest(), 16) % 3 == 0


def label_order(relpaths) -> list[str]:
    """The order pages are labelled in (a hash, so the labelled subset is not picked by how the rules do on it)."""
    return sorted(relpaths, key=lambda p: hashlib.sha1(("order:" + p).encode()).hexdigest())


def all_pages(root: Path) -> list[str]:
    found = []
    for folder in ("trafilatura", "article-extraction-benchmark"):
        for entry in json.loads((root / folder / "index.json").read_text()):
            found.append(f"{folder}/{entry['file']}")
    return found


def page_meta(root: Path) -> dict:
    """relpath -> the dataset's index entry (url, main_text / main_text_has / main_text_lacks)."""
    meta = {}
    for folder in ("trafilatura", "article-extraction-benchmark"):
        for entry in json.loads((root / folder / "index.json").read_text()):
            meta[f"{folder}/{entry['file']}"] = entry
    return meta


def load_page(root: Path, relpath: str, url: str | None = None):
    """Decode and parse a page as the spider does; return ``(tree, anchors)`` with the crawlable links."""
    raw = (root / relpath).read_bytes()
    if relpath.endswith(".gz"):
        raw = gzip.decompress(raw)
    text, _ = decode_html(raw, "text/html")
    tree = parse_html(text)
    base = url if url and url.startswith("http") else "https://www.example.com/page.html"
    anchors = [a for a in tree.iter("a", "area") if a.get("href") is not None and resolve_href(a.get("href"), base)[0]]
    return tree, anchors


def select(tree, selector: str) -> list:
    """Elements matching a rule's selector: XPath when it starts with ``/`` or ``(``, CSS otherwise."""
    if selector.startswith(("/", "(")):
        return tree.xpath(selector)
    return tree.cssselect(selector)


def expected_regions(tree, anchors, spec: dict) -> list[str | None]:
    """Each link's labelled region: the rule of its innermost matching container (the link itself counts), or a
    per-link override by anchor index; None when no rule covers it (not scored)."""
    depth_region: dict = {}
    for selector, region in spec["rules"]:
        for element in select(tree, selector):
            depth_region[element] = region  # later rules win on the same element
    expected = []
    for anchor in anchors:
        region = None
        for element in (anchor, *anchor.iterancestors()):
            if element in depth_region:
                region = depth_region[element]
                break
        expected.append(region)
    for index, region in spec.get("links", {}).items():
        expected[int(index)] = region
    return expected
