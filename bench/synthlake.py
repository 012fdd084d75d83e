"""A synthetic data lake, millions of rows, for timing the reports as the work grows (``bench/run.py --only lake``).

Crawling ten million links takes hours; the reports only read the lake, so the bench writes one directly, with the
project's own schemas (``schemas/__init__.py``, each table's ``schema_for``) and laid out as the crawler lays it
out (``pipelines/parquet.py``): ``<table>/crawl=<id>/part-<worker>-<seq>.parquet``, one part per commit, each
sorted by its table's key, zstd, ``PARQUET_ROW_GROUP_SIZE`` rows per row group.

Two things are generated:

- **one prospects crawl** (``pages``, ``links``, ``checks``, ``contacts``) of ``link_rows`` links: ~40 links per
  page (20-60), pages over many sites of skewed sizes, fetched in a random order across sites (so each commit
  mixes sites, as a crawl of many sites at once does); each page links to its site's navigation (the same 8 pages
  on every page: sitewide), 3 footer targets of its site (external, sitewide), related posts and, in the article,
  internal pages and external targets drawn from a pool with Zipf popularity (a few targets linked from
  thousands of pages, most from one or two). Every distinct external target has one ``checks`` row; ~4% of them
  are broken, ~1.5% unknown.
- **``crawls`` backlinks crawls** (``backlinks``) holding ``backlink_rows`` rows between them: the same backlinks
  input checked again each week, 2% of its rows replaced by new ones each time, each link's state sticky from
  one crawl to the next (85% live, 7% degraded with flags, 5% lost, 3% unverified; 10% of them change per crawl).

Columns the reports never read are filled too (text around links, xpaths, titles...), with text that does not
repeat more than real text does, so the files are as large to read as a crawl's. Generation streams: one commit's
rows are built and written at a time, with pyarrow compute (no per-row Python), and everything is deterministic
for a given ``seed``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.synthweb import _WORDS
from crawler import settings as defaults
from schemas import SORT_KEYS, schema_for

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # the first crawl's start; crawls are a week apart
WEEK = timedelta(days=7)
TLDS = (".com", ".org", ".net")
NAV_LINKS = 8  # navigation links at the top of every page, to the same pages of its site
FOOTER_LINKS = 3  # external template links at the bottom of every page (blogroll, credits)
WORKER = "bench"


@dataclass
class LakeFigures:
    """What was written, for the record."""

    link_rows: int = 0
    pages: int = 0
    sites: int = 0
    checks: int = 0
    broken_targets: int = 0
    backlink_rows: int = 0
    crawls: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)


def crawl_ids(crawls: int) -> list[str]:
    """Crawl ids as the crawler names them (``crawler.runinfo.new_crawl_id``), a week apart, oldest first."""
    return [(T0 + i * WEEK).strftime("%Y%m%d-%H%M%SZ") for i in range(crawls)]


def _hash01(ints: pa.Array, salt: int = 0) -> pa.Array:
    """A deterministic uniform [0, 1) per integer (Knuth's multiplicative hash): the same target is broken in every
    part that links to it."""
    mixed = pc.bit_wise_and(pc.multiply(pc.add(pc.cast(ints, pa.int64()), salt * 7919 + 1), 2654435761), 0xFFFFFFFF)
    return pc.divide(pc.cast(mixed, pa.float64()), float(2**32))


def _index(u: pa.Array, n: int) -> pa.Array:
    """``u`` in [0, 1) scaled to an index in [0, n)."""
    return pc.min_element_wise(pc.cast(pc.floor(pc.multiply(u, float(n))), pa.int64()), n - 1)


def _zipf(u: pa.Array, n: int) -> pa.Array:
    """Zipf-like (exponent 1) indices in [0, n): ``floor(n ** u) - 1``, so P(i) ~ 1 / (i + 1)."""
    return pc.min_element_wise(pc.subtract(pc.cast(pc.floor(pc.power(float(n), u)), pa.int64()), 1), n - 1)


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _ts(start: datetime, offsets_ms: pa.Array) -> pa.Array:
    base = int(start.timestamp() * 1000)
    whole = pc.cast(pc.floor(offsets_ms), pa.int64()) if pa.types.is_floating(offsets_ms.type) else offsets_ms
    return pc.cast(pc.add(pc.cast(whole, pa.int64()), base), pa.timestamp("ms", tz="UTC"))


def _snippets(rng: random.Random, n: int, low: int, high: int) -> pa.Array:
    return pa.array([" ".join(rng.choices(_WORDS, k=rng.randint(low, high))) for _ in range(n)], pa.string())


class _Writer:
    """Writes one crawl's parts of one table as the crawler's Parquet pipeline does (``pipelines/parquet.py``)."""

    def __init__(self, root: Path, table: str, crawl: str, figures: LakeFigures):
        self.schema = schema_for(table)
        self.table = table
        self.folder = root / table / f"crawl={crawl}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seq = 0
        self.figures = figures

    def write(self, columns: dict[str, pa.Array]) -> None:
        rows = len(next(iter(columns.values())))
        if not rows:
            return
        arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(rows, f.type) for f in self.schema]
        table = pa.Table.from_arrays(arrays, schema=self.schema).sort_by([(SORT_KEYS[self.table], "ascending")])
        path = self.folder / f"part-{WORKER}-{self.seq:05d}.parquet"
        pq.write_table(table, path, compression=defaults.PARQUET_COMPRESSION,
                       row_group_size=defaults.PARQUET_ROW_GROUP_SIZE)
        self.seq += 1
        self.figures.files[self.table] = self.figures.files.get(self.table, 0) + 1
        self.figures.bytes[self.table] = self.figures.bytes.get(self.table, 0) + path.stat().st_size


def generate_lake(root: Path, *, link_rows: int, backlink_rows: int | None = None, crawls: int = 3,
                  pages_per_second: float = 60.0, links_per_page: int = 40, seed: int = 0, log=print) -> LakeFigures:
    """Write the lake under ``root``. One part per commit: the rows a crawl at ``pages_per_second`` writes in
    ``PARQUET_COMMIT_INTERVAL`` seconds (the crawler's default part size, before ``scrapy compact``)."""
    root = Path(root)
    figures = LakeFigures(crawls=crawl_ids(crawls))
    pages_per_part = max(1, int(pages_per_second * defaults.PARQUET_COMMIT_INTERVAL))
    _prospects_crawl(root, figures, link_rows, links_per_page, pages_per_part, pages_per_second, seed, log)
    backlink_rows = link_rows if backlink_rows is None else backlink_rows
    _backlinks_crawls(root, figures, backlink_rows, pages_per_part * links_per_page, seed, log)
    return figures


# --- the prospects crawl -------------------------------------------------------------------------------------------
def _prospects_crawl(root, figures, link_rows, links_per_page, pages_per_part, pages_per_second, seed, log) -> None:
    rng = random.Random(seed)
    crawl = figures.crawls[-1]
    start = T0 + (len(figures.crawls) - 1) * WEEK
    # Enough pages for link_rows (2% of the pages answer an error and have no links); the crawl stops at link_rows.
    pages = max(2, int(link_rows / (links_per_page * 0.97)) + 1)
    # Sites of skewed sizes (a few large, many small), ~100 pages each on average; pages of a site are contiguous ids.
    sites = max(2, pages // 100)
    weights = [1 / (k + 1) ** 0.8 for k in range(sites)]
    scale = pages / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[0] += pages - sum(sizes)
    if sizes[0] < 1:  # rounding took too much from the largest site: drop the smallest ones
        while sum(sizes[1:]) >= pages:
            sizes.pop()
        sizes[0] = pages - sum(sizes[1:])
    sites = len(sizes)
    hosts = [f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{k}{TLDS[k % 3]}" for k in range(sites)]
    site_start, page_site, page_path = [], [], []
    for k, n in enumerate(sizes):
        site_start.append(len(page_site))
        page_site.extend([k] * n)
        page_path.extend(["/" if j == 0 else f"/posts/p{j}.html" for j in range(n)])
    page_url = pa.array([f"https://{hosts[s]}{p}" for s, p in zip(page_site, page_path)], pa.string())
    page_site_arr = pa.array(page_site, pa.int64())
    host_arr = pa.array(hosts, pa.string())
    site_start_arr = pa.array(site_start, pa.int64())
    site_size_arr = pa.array(sizes, pa.int64())
    figures.pages, figures.sites = pages, sites
    log(f"lake: {pages:,} pages over {sites:,} sites, {link_rows:,} link rows, parts of {pages_per_part} pages")

    # External targets: 4 paths per host, Zipf popularity by index; verdict by a hash of the index.
    n_targets = max(100, link_rows // 20)
    target_host = [f"{rng.choice(_WORDS)}-resource-{i // 4}{TLDS[i % 3]}" for i in range(0, n_targets, 4)]
    target_host_arr = pa.array([h for h in target_host for _ in range(4)][:n_targets], pa.string())
    target_url = _join("https://", target_host_arr, "/r/", pc.cast(pa.array(range(n_targets), pa.int64()), pa.string()))

    anchors = _snippets(rng, 2000, 1, 5)
    texts = _snippets(rng, 3000, 4, 12)
    titles = _snippets(rng, 5000, 3, 9)
    xpaths = pa.array([f"/html/body/{part}/a[{i}]" for part in ("nav", "main/article/p[2]", "main/article/p[5]",
                                                                 "aside/ul/li[3]", "footer/div") for i in range(1, 9)])
    rels = pa.array([[], ["nofollow"], ["sponsored"], ["ugc"]], pa.list_(pa.string()))

    # Crawl order: a random permutation of the pages; each part holds the next pages_per_part of them.
    order = pc.sort_indices(pc.random(pages, initializer=seed + 1))
    links_w = _Writer(root, "links", crawl, figures)
    pages_w = _Writer(root, "pages", crawl, figures)
    linked: list[pa.Array] = []
    written = 0
    for part, first in enumerate(range(0, pages, pages_per_part)):
        if written >= link_rows:
            break
        pid = order.slice(first, pages_per_part).cast(pa.int64())
        n_pages = len(pid)
        site = pc.take(page_site_arr, pid)
        fetched_ms = pc.multiply(pa.array(range(first, first + n_pages), pa.int64()), 1000.0 / pages_per_second)
        errors = pc.less(_hash01(pid, 3), 0.02)  # 2% of the pages answered an error: no links
        count = pc.add(_index(pc.random(n_pages, initializer=seed * 1000 + part), 41), 20)
        count = pc.if_else(errors, 0, count)
        if written + pc.sum(count).as_py() > link_rows:  # the last part: stop at link_rows exactly
            cum = pc.cumulative_sum(count)
            over = pc.subtract(cum, link_rows - written)
            count = pc.max_element_wise(pc.subtract(count, pc.max_element_wise(over, 0)), 0)
        pages_w.write(_page_rows(pid, site, page_url, host_arr, titles, errors, count, _ts(start, fetched_ms)))
        offsets = pc.cumulative_sum(count)
        n = pc.sum(count).as_py() or 0
        if n:
            offsets = pa.concat_arrays([pa.array([0], pa.int64()), offsets.cast(pa.int64())])
            parent = pc.list_parent_indices(pa.ListArray.from_arrays(offsets, pa.nulls(n, pa.int8())))
            columns, targets = _link_rows(parent, offsets, pid, site, count, n, page_url, host_arr, site_start_arr,
                                          site_size_arr, target_url, target_host_arr, n_targets, anchors, texts,
                                          xpaths, rels, _ts(start, pc.take(fetched_ms, parent)), seed * 1000 + part)
            links_w.write(columns)
            linked.append(targets)
            written += n
        if part % 20 == 0:
            log(f"lake: links {written:,} / {link_rows:,}")
    figures.link_rows = written

    # One check per distinct external target linked, in parts of the same number as the links.
    ids = pc.unique(pa.chunked_array(linked, pa.int64()).combine_chunks()) if linked else pa.array([], pa.int64())
    ids = pc.take(ids, pc.sort_indices(ids))
    checks_w = _Writer(root, "checks", crawl, figures)
    per_part = max(1, -(-len(ids) // max(1, links_w.seq)))
    for first in range(0, len(ids), per_part):
        chunk = ids.slice(first, per_part)
        cols = _check_rows(chunk, target_url, target_host_arr, start, seed)
        figures.broken_targets += pc.sum(pc.equal(cols["verdict"], "broken")).as_py() or 0
        checks_w.write(cols)
    figures.checks = len(ids)

    # Contact points of every other site: an email and a contact page.
    with_contact = pa.array(range(0, sites, 2), pa.int64())
    host = pc.take(host_arr, with_contact)
    home = _join("https://", host, "/")
    fetched = _ts(start, pa.array([0] * len(with_contact), pa.int64()))
    contacts_w = _Writer(root, "contacts", crawl, figures)
    contacts_w.write({"site": pa.concat_arrays([host, host]),
                      "kind": pa.array(["email"] * len(host) + ["contact_page"] * len(host), pa.string()),
                      "value": pa.concat_arrays([_join("editor@", host), _join(home, "contact")]),
                      "label": pa.array(["Email us"] * len(host) + ["Contact"] * len(host), pa.string()),
                      "source_url": pa.concat_arrays([home, home]),
                      "fetched_at": pa.concat_arrays([fetched, fetched])})


def _page_rows(pid, site, page_url, host_arr, titles, errors, count, fetched_at) -> dict:
    n = len(pid)
    url = pc.take(page_url, pid)
    host = pc.take(host_arr, site)
    return {
        "url": url, "final_url": url, "site": host, "url_host_name": host,
        "depth": pc.cast(_index(_hash01(pid, 5), 6), pa.int32()),
        "http_status": pc.if_else(errors, 404, 200),
        "content_type": pa.array(["text/html"] * n, pa.string()),
        "content_charset": pa.array(["utf-8"] * n, pa.string()),
        "content_length": pc.add(_index(_hash01(pid, 6), 40_000), 20_000),
        "fetched_at": fetched_at,
        "title": pc.take(titles, _index(_hash01(pid, 7), len(titles))),
        "h1": pc.take(titles, _index(_hash01(pid, 8), len(titles))),
        "parse_status": pc.if_else(errors, "http_error", "parsed"),
        "links_count": pc.cast(count, pa.int32()),
        "redirect_chain": pa.array([[]] * n, pa.list_(pa.string())),
    }


def _link_rows(parent, offsets, pid, site, count, n, page_url, host_arr, site_start_arr, site_size_arr, target_url,
               target_host_arr, n_targets, anchors, texts, xpaths, rels, fetched_at, seed):
    """One part's link rows: ``parent`` is each row's page (an index into ``pid``)."""
    rand = lambda salt: pc.random(n, initializer=seed * 16 + salt)  # noqa: E731
    src = pc.take(pid, parent)
    src_site = pc.take(site, parent)
    ordinal = pc.subtract(pa.array(range(n), pa.int64()), pc.take(offsets, parent))
    k = pc.take(count, parent)
    nav = pc.less(ordinal, NAV_LINKS)
    footer = pc.and_(pc.invert(nav), pc.greater_equal(ordinal, pc.subtract(k, FOOTER_LINKS)))
    body = pc.invert(pc.or_(nav, footer))
    u_region, u_ext = rand(1), rand(2)
    content = pc.and_(body, pc.less(u_region, 0.6))
    external = pc.or_(footer, pc.and_(content, pc.less(u_ext, 0.3)))

    # Targets: navigation -> the site's first pages; footer -> the site's 3 template targets; article -> Zipf.
    start, size = pc.take(site_start_arr, src_site), pc.take(site_size_arr, src_site)
    nav_page = pc.add(start, pc.min_element_wise(ordinal, pc.subtract(size, 1)))
    any_page = pc.add(start, pc.cast(pc.floor(pc.multiply(rand(3), pc.cast(size, pa.float64()))), pa.int64()))
    internal_page = pc.if_else(nav, nav_page, any_page)
    slot = pc.subtract(ordinal, pc.subtract(k, FOOTER_LINKS))
    footer_target = pc.cast(pc.floor(pc.multiply(_hash01(pc.add(pc.multiply(src_site, 8), slot), 9), n_targets)), pa.int64())
    target = pc.if_else(footer, footer_target, _zipf(rand(4), n_targets))
    target = pc.min_element_wise(target, n_targets - 1)
    ext_target = pc.if_else(external, target, 0)
    url = pc.if_else(external, pc.take(target_url, ext_target), pc.take(page_url, internal_page))
    src_host = pc.take(host_arr, src_site)
    t_host = pc.if_else(external, pc.take(target_host_arr, ext_target), src_host)
    region = pc.if_else(nav, "navigation", pc.if_else(footer, "footer", pc.if_else(content, "content", "sidebar")))

    rel_index = pc.if_else(pc.and_(external, pc.less(rand(5), 0.12)), pc.add(_index(rand(6), 3), 1), 0)
    u_before, u_after, u_anchor = rand(7), rand(8), rand(9)
    anchor = pc.take(anchors, _index(u_anchor, len(anchors)))
    # Text around a link in an article is the page's own: two snippets joined, rarely the same pair twice.
    before = _join(pc.take(texts, _index(u_before, len(texts))), pc.take(texts, _index(rand(10), len(texts))), sep=" ")
    after = _join(pc.take(texts, _index(u_after, len(texts))), pc.take(texts, _index(rand(11), len(texts))), sep=" ")
    null_text = pa.nulls(n, pa.string())
    before = pc.if_else(content, before, null_text)
    after = pc.if_else(content, after, null_text)
    columns = {
        "source_url": pc.take(page_url, src), "source_site": src_host, "target_url": url, "target_host": t_host,
        "target_site": t_host, "external": external, "tag": pa.array(["a"] * n, pa.string()), "anchor_text": anchor,
        "link_type": pa.array(["text"] * n, pa.string()), "rel": pc.take(rels, rel_index),
        "nofollow": pc.equal(rel_index, 1), "sponsored": pc.equal(rel_index, 2), "ugc": pc.equal(rel_index, 3),
        "ordinal": ordinal,
        "xpath": pc.take(xpaths, _index(rand(12), len(xpaths))), "fetched_at": fetched_at, "region": region,
        "in_main_content": content, "region_confidence": _confidence(pc.add(pc.multiply(src, 64), ordinal)),
        "text_before": before, "text_after": after,
        "sentence": pc.if_else(content, _join(before, anchor, after, sep=" "), null_text),
        "heading": pc.if_else(content, pc.take(anchors, _index(rand(13), len(anchors))), null_text),
        "paragraph_index": pc.if_else(content, _index(rand(14), 20), pa.nulls(n, pa.int64())),
        "position": pc.divide(pc.cast(ordinal, pa.float64()), pc.cast(pc.max_element_wise(k, 1), pa.float64())),
        "links_in_block": pc.add(_index(rand(15), 8), 1),
        "block_link_density": pc.multiply(rand(0), 0.5),
    }
    return columns, pc.filter(target, external)


def _confidence(ids: pa.Array) -> pa.Array:
    """A placement confidence per link (``region_confidence``), 3 decimals in [0.3, 1], most of them high as on
    real pages (about 4 links in 5 at 0.9 or more)."""
    return pc.round(pc.subtract(1.0, pc.multiply(pc.power(_hash01(ids, 31), 8.0), 0.7)), 3)


def _check_rows(ids, target_url, target_host_arr, start, seed) -> dict:
    n = len(ids)
    u = _hash01(ids, 11)
    broken = pc.less(u, 0.04)
    unknown = pc.and_(pc.invert(broken), pc.less(u, 0.055))
    reasons = pa.array(["http_404", "http_404", "http_404", "http_410", "dns_nxdomain", "connection_refused",
                        "soft_404", "redirect_loop"], pa.string())
    statuses = pa.array([404, 404, 404, 410, None, None, 200, 301], pa.int32())
    which = _index(_hash01(ids, 12), len(reasons))
    reason = pc.if_else(broken, pc.take(reasons, which),
                        pc.if_else(unknown, pc.if_else(pc.less(_hash01(ids, 13), 0.5), "timeout", "rate_limited"), "ok"))
    status = pc.if_else(broken, pc.take(statuses, which), pc.if_else(unknown, pa.nulls(n, pa.int32()), pa.scalar(200, pa.int32())))
    streak = pc.if_else(broken, pc.add(_index(_hash01(ids, 14), 3), 1), 0)
    checked_ms = pc.cast(pc.floor(pc.multiply(_hash01(ids, 15), 3.6e6 * 4)), pa.int64())
    checked_at = _ts(start, checked_ms)
    first_broken_ms = pc.subtract(checked_ms, pc.multiply(pc.subtract(streak, 1), int(WEEK.total_seconds() * 1000)))
    url = pc.take(target_url, ids)
    host = pc.take(target_host_arr, ids)
    return {
        "url": url, "url_host_name": host, "url_host_registered_domain": host,
        "verdict": pc.if_else(broken, "broken", pc.if_else(unknown, "unknown", "ok")), "reason": reason,
        "http_status": status, "final_url": url, "redirect_chain": pa.array([[]] * n, pa.list_(pa.string())),
        "method": pa.array(["HEAD"] * n, pa.string()), "attempts": pc.if_else(unknown, 4, 1),
        "error": pc.if_else(unknown, "timeout", pa.nulls(n, pa.string())), "checked_at": checked_at,
        "elapsed_ms": pc.add(_index(_hash01(ids, 16), 900), 20), "reused": pc.greater(_hash01(ids, 17), 0.5),
        "first_seen_broken": pc.if_else(broken, _ts(start, first_broken_ms), pa.nulls(n, pa.timestamp("ms", tz="UTC"))),
        "broken_crawls": pc.cast(streak, pa.int32()),
    }


# --- the backlinks crawls ------------------------------------------------------------------------------------------
def _backlinks_crawls(root, figures, backlink_rows, part_rows, seed, log) -> None:
    rng = random.Random(seed + 2)
    per_crawl = backlink_rows // len(figures.crawls)
    if per_crawl < 1:
        return
    churn = per_crawl // 50  # 2% of the input replaced each crawl
    targets = pa.array([f"https://shop.example.com/p/{i}" for i in range(190)]
                       + [f"domain:brand{i}.example.com" for i in range(10)], pa.string())
    anchors = _snippets(rng, 500, 1, 4)
    texts = _snippets(rng, 2000, 4, 10)
    flag_sets = pa.array([["nofollow"], ["anchor_changed"], ["sponsored"], ["nofollow", "anchor_changed"]],
                         pa.list_(pa.string()))
    empty = pa.array([[]], pa.list_(pa.string()))
    written = 0
    for c, crawl in enumerate(figures.crawls):
        start = T0 + c * WEEK
        writer = _Writer(root, "backlinks", crawl, figures)
        base = c * churn
        for first in range(0, per_crawl, part_rows):
            m = min(part_rows, per_crawl - first)
            pair = pa.array(range(base + first, base + first + m), pa.int64())
            page = pc.divide(pair, 2)  # two of our targets per linking page
            blog = pc.cast(pc.divide(page, 16), pa.string())
            source = _join("https://", pc.take(pa.array(_WORDS), pc.remainder(pc.divide(page, 16), len(_WORDS))), "-blog-",
                           blog, ".com/posts/", pc.cast(page, pa.string()), ".html")
            target = pc.take(targets, pc.remainder(pc.add(pc.multiply(page, 7), pc.remainder(pair, 2)), len(targets)))
            # A sticky state per link, re-drawn in 10% of the crawls.
            u_crawl = pc.random(m, initializer=seed * 1000 + c * 100 + first // part_rows)
            state_u = pc.if_else(pc.less(u_crawl, 0.1), pc.divide(u_crawl, 0.1), _hash01(pair, 21))
            live = pc.less(state_u, 0.85)
            degraded = pc.and_(pc.invert(live), pc.less(state_u, 0.92))
            lost = pc.and_(pc.invert(pc.or_(live, degraded)), pc.less(state_u, 0.97))
            present = pc.or_(live, degraded)
            state = pc.if_else(live, "live", pc.if_else(degraded, "degraded", pc.if_else(lost, "lost", "unverified")))
            reason = pc.if_else(lost, pc.if_else(pc.less(_hash01(pair, 22), 0.7), "link_missing", "http_404"),
                                pc.if_else(present, pa.nulls(m, pa.string()), "timeout"))
            flags = pc.if_else(degraded, pc.take(flag_sets, _index(_hash01(pair, 23), len(flag_sets))),
                               pc.take(empty, pa.nulls(m, pa.int64()).fill_null(0)))
            in_main = pc.if_else(present, pc.less(_hash01(pair, 24), 0.95), pa.nulls(m, pa.bool_()))
            checked_ms = pc.multiply(pa.array(range(first, first + m), pa.int64()), 50)
            none = pa.nulls(m, pa.string())
            text_before, text_after = (pc.if_else(present, pc.take(texts, _index(_hash01(pair, salt), len(texts))), none)
                                       for salt in (26, 27))
            writer.write({
                "source_url": source, "target": target,
                "input_line": pc.cast(pc.add(pc.subtract(pair, base), 2), pa.int32()), "link_state": state,
                "reason": reason, "flags": flags, "matches": pc.if_else(present, 1, 0),
                "found_url": pc.if_else(present, target, pa.nulls(m, pa.string())),
                "anchor_text": pc.if_else(present, pc.take(anchors, _index(_hash01(pair, 25), len(anchors))),
                                          pa.nulls(m, pa.string())),
                "rel": pc.take(empty, pa.nulls(m, pa.int64()).fill_null(0)),
                "link_type": pa.array(["text"] * m, pa.string()),
                "region": pc.if_else(present, "content", pa.nulls(m, pa.string())), "in_main_content": in_main,
                "region_confidence": pc.if_else(present, _confidence(pair), pa.nulls(m, pa.float64())),
                "text_before": text_before, "text_after": text_after,
                "expected_rel": pa.array([""] * m, pa.string()),
                "http_status": pc.if_else(pc.equal(reason, "http_404"), 404, pc.if_else(pc.equal(state, "unverified"),
                                                                                        pa.nulls(m, pa.int64()), 200)),
                "final_url": source, "redirect_chain": pc.take(empty, pa.nulls(m, pa.int64()).fill_null(0)),
                "error": pc.if_else(pc.equal(state, "unverified"), "timeout", pa.nulls(m, pa.string())),
                "checked_at": _ts(start, checked_ms), "input_format": pa.array(["linkprospector"] * m, pa.string()),
                "outbound_links": pc.add(_index(_hash01(pair, 28), 60), 5),
                "linked_domains": pc.add(_index(_hash01(pair, 29), 30), 2),
                "sponsored_links": _index(_hash01(pair, 30), 3),
                "page_language": pa.array(["en"] * m, pa.string()),
                "risk_reasons": pc.take(empty, pa.nulls(m, pa.int64()).fill_null(0)),
            })
            written += m
        log(f"lake: backlinks crawl {crawl}: {per_crawl:,} rows")
    figures.backlink_rows = written
