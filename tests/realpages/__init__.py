"""Real pages labelled by region: loading them, deriving each link's expected region, and the held-out split.

Two sources, both kept outside the repository (only labels are stored here, in ``labels.json``; see ``README.md``):

- ``pages``: public test corpora (trafilatura's ``tests/cache`` and Zyte's article-extraction-benchmark,
  github.com/adbar/trafilatura and github.com/scrapinghub/article-extraction-benchmark), found through
  ``$LINKPROSPECTOR_PAGES``; a page's key is its path in that folder (``trafilatura/...``);
- ``warc``: HTML responses of real WARC files captured by other tools, found through ``$LINKPROSPECTOR_WARCS``
  or the ``warc`` folder beside the pages; a page's key is ``warc/<file name>@<record offset>``, stable as long as
  the file is, and the record is read with the project's own reader (``crawler.warc.reader``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from crawler.extract.page import decode_html, is_html, parse_html
from crawler.urls import normalize_url, resolve_href
from crawler.warc.reader import iter_warc_responses, read_record

HERE = Path(__file__).parent
LABELS = HERE / "labels.json"
REPO = HERE.parent.parent
REGIONS_LABELLED = ("content", "navigation", "header", "footer", "sidebar", "comments", "breadcrumb")
SOURCES = ("pages", "warc")
WARC_PREFIX = "warc/"
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


def pages_dir() -> Path | None:
    """Where the real pages are: ``$LINKPROSPECTOR_PAGES``, else the corpus folder CI places beside the clone."""
    candidates = [os.environ.get("LINKPROSPECTOR_PAGES"), REPO.parent / "shared" / "data" / "pages"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def warcs_dir(root: Path | None = None) -> Path | None:
    """Where the real WARC files are: ``$LINKPROSPECTOR_WARCS``, else the ``warc`` folder beside the pages."""
    root = root if root is not None else pages_dir()
    candidates = [os.environ.get("LINKPROSPECTOR_WARCS"), root.parent / "warc" if root else None]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def source_of(key: str) -> str:
    return "warc" if key.startswith(WARC_PREFIX) else "pages"


def is_held_out(relpath: str) -> bool:
    """The split, fixed before any page was labelled or measured: a third of the pages, by a hash of their path.
    Nobody tunes on these."""
    return int(hashlib.sha1(relpath.encode()).hexdigest(), 16) % 3 == 0


def label_order(relpaths) -> list[str]:
    """The order pages are labelled in (a hash, so the labelled subset is not picked by how the rules do on it).
    Each source is labelled in its own order: ``label_order(all_pages(root, source))``."""
    return sorted(relpaths, key=lambda p: hashlib.sha1(("order:" + p).encode()).hexdigest())


@dataclass(frozen=True)
class WarcPage:
    """Where one WARC page is, and what its record says about it (read once, when the folder is indexed)."""

    path: Path
    offset: int
    length: int
    url: str
    status: int
    content_type: str | None


@lru_cache(maxsize=4)
def warc_pages(folder: Path) -> dict[str, WarcPage]:
    """key -> WarcPage for the HTML responses of the WARC/ARC files in ``folder`` (files by name, records in file
    order). A URL captured again (a tool fetching it twice within seconds, as after a redirect) is one page, its
    first capture: the copies would otherwise count the same links twice, possibly in both parts of the split."""
    found: dict[str, WarcPage] = {}
    seen: set[str] = set()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WARC_SUFFIXES)):
        for response in iter_warc_responses(path):
            url = normalize_url(response.url)
            if url in seen or not response.body or not is_html(response.content_type, response.body[:512]):
                continue
            seen.add(url)
            key = f"{WARC_PREFIX}{path.name}@{response.warc_record_offset}"
            found[key] = WarcPage(path, response.warc_record_offset, response.warc_record_length, response.url,
                                  response.status, response.content_type)
    return found


def _warc_index(root: Path | None) -> dict[str, WarcPage]:
    folder = warcs_dir(root)
    return warc_pages(folder.resolve()) if folder is not None else {}


def all_pages(root: Path | None, source: str | None = None) -> list[str]:
    """Keys of the pages found, of one source or of both (``root`` is the pages folder, None when missing)."""
    found = []
    if root is not None and source in (None, "pages"):
        for folder in ("trafilatura", "article-extraction-benchmark"):
            for entry in json.loads((root / folder / "index.json").read_text()):
                found.append(f"{folder}/{entry['file']}")
    if source in (None, "warc"):
        found.extend(_warc_index(root))
    return found


def page_meta(root: Path | None) -> dict:
    """key -> the dataset's index entry (url, main_text / main_text_has / main_text_lacks); for a WARC page its
    record's target URI, status, Content-Type and location."""
    meta = {}
    if root is not None:
        for folder in ("trafilatura", "article-extraction-benchmark"):
            for entry in json.loads((root / folder / "index.json").read_text()):
                meta[f"{folder}/{entry['file']}"] = entry
    for key, page in _warc_index(root).items():
        meta[key] = {"url": page.url, "status": page.status, "content_type": page.content_type,
                     "file": page.path.name, "offset": page.offset, "length": page.length}
    return meta


def page_key(arg: str, root: Path | None) -> str:
    """A page named on the command line: ``N`` (the N-th page of the pages source in label order), ``warc:N`` (the
    N-th WARC page in label order) or a key."""
    if arg.isdigit():
        return label_order(all_pages(root, "pages"))[int(arg)]
    if arg.startswith("warc:") and arg[5:].isdigit():
        return label_order(all_pages(root, "warc"))[int(arg[5:])]
    return arg


def load_page(root: Path | None, relpath: str, url: str | None = None):
    """Decode and parse a page as the spider does; return ``(tree, anchors)`` with the crawlable links.

    A WARC page is read back from its record (a ranged read, as the lake's pages are), decoded with its
    Content-Type as the WARC ingest does, and its links resolved against the record's target URI."""
    if relpath.startswith(WARC_PREFIX):
        page = _warc_index(root)[relpath]
        with page.path.open("rb") as stream:
            stream.seek(page.offset)
            data = stream.read(page.length)
        response = read_record(data, page.path.name, page.offset)
        if response is None:
            raise ValueError(f"{relpath}: no whole response record at that offset")
        text, _ = decode_html(response.body, response.content_type)
        return _page_links(parse_html(text), response.url)
    raw = (root / relpath).read_bytes()
    if relpath.endswith(".gz"):
        raw = gzip.decompress(raw)
    text, _ = decode_html(raw, "text/html")
    return _page_links(parse_html(text), url if url and url.startswith("http") else "https://www.example.com/page.html")


def _page_links(tree, base: str):
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
