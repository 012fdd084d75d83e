"""Each crawl builds on the last (crawler/recrawl.py): three crawls of the test web into one lake.

c1 (version 1) checks everything; c2 (version 1, default CHECK_MAX_AGE) must ask no target that c1 judged ok and
carry those rows, and ask every broken or unknown one again; c3 (version 2, CHECK_MAX_AGE=0) asks everything again,
and sees ``ok-resource.com/changing`` die.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyarrow as pa
import pytest

from crawler.lake import LocalLake
from crawler.recrawl import EarlierChecks, earlier_crawls
from crawler.urls import normalize_url
from tests.crawling import REPO, read_table, run_crawl
from tests.records import check_row


def _crawl(web, out, crawl_id: str, version: int, settings: dict | None = None):
    web.reset_counters()
    web.version = version
    result = run_crawl("prospects", out, web, {"seeds": ",".join(web.seeds)}, {"CRAWL_ID": crawl_id, **(settings or {})})
    assert result.returncode == 0, result.log[-3000:]
    result.requests = list(web.requests)
    result.checks = {r["url"]: r for r in read_table(out, "checks") if r["crawl"] == crawl_id}
    return result


@pytest.fixture(scope="module")
def crawls(web, tmp_path_factory):
    out = tmp_path_factory.mktemp("recrawl")
    try:
        c1 = _crawl(web, out, "c1", 1)
        c2 = _crawl(web, out, "c2", 1)
        c3 = _crawl(web, out, "c3", 2, {"CHECK_MAX_AGE": "0"})
    finally:
        web.version = 1
    return c1, c2, c3


def asked(crawl, url: str) -> bool:
    """Whether the test web saw a request for ``url`` (host and path) during ``crawl``."""
    parts = urlsplit(url)
    return any(h == parts.hostname and p.split("?")[0] == parts.path for _, h, p in crawl.requests)


def test_second_crawl_asks_no_target_checked_ok_and_carries_its_row(crawls, web):
    c1, c2, _ = crawls
    ok = {u for u, (verdict, _) in web.expected_checks.items() if verdict == "ok"}
    assert {u for u, r in c1.checks.items() if r["verdict"] == "ok"} == ok
    assert all(asked(c1, u) for u in ok)  # the counter works: crawl 1 asked them
    assert [u for u in ok if asked(c2, u)] == []
    assert not any(h == "ok-resource.com" for _, h, _ in c2.requests)  # not even a redirect hop or a HEAD
    for url in ok:
        row, first = c2.checks[url], c1.checks[url]
        assert row["reused"] is True and row["verdict"] == "ok"
        assert row["checked_at"] == first["checked_at"]  # when it was really asked
        assert (row["http_status"], row["final_url"], row["redirect_chain"]) == \
            (first["http_status"], first["final_url"], first["redirect_chain"])
    assert c2.stats["checks/reused"] == len(ok)
    assert set(c2.checks) == set(c1.checks)  # every target still has its row
    assert c2.stats["recrawl/earlier_targets"] > 0 and c2.stats["recrawl/earlier_bytes"] > 0


def test_broken_and_unknown_targets_are_asked_again(crawls, web):
    c1, c2, _ = crawls
    again = {u for u, (verdict, _) in web.expected_checks.items() if verdict != "ok"}
    for url in again:
        row = c2.checks[url]
        assert row["reused"] is False and row["checked_at"] > max(r["checked_at"] for r in c1.checks.values()), url
        assert (row["verdict"], row["reason"]) == web.expected_checks[url]
    served = {u for u in again if urlsplit(u).hostname in web.dns_overrides
              and urlsplit(u).hostname not in ("refused-host.com", "flaky-dns.com", "tls-broken.com")}
    assert served and all(asked(c2, u) for u in served)


def test_broken_crawls_count_consecutive_broken_crawls(crawls, web):
    c1, c2, c3 = crawls
    gone = normalize_url(web.url("dead-links.com", "/gone"))
    assert (c1.checks[gone]["broken_crawls"], c1.checks[gone]["first_seen_broken"]) == (1, c1.checks[gone]["checked_at"])
    assert (c2.checks[gone]["broken_crawls"], c2.checks[gone]["first_seen_broken"]) == (2, c1.checks[gone]["checked_at"])
    assert (c3.checks[gone]["broken_crawls"], c3.checks[gone]["first_seen_broken"]) == (3, c1.checks[gone]["checked_at"])
    died = normalize_url(web.url("ok-resource.com", "/changing"))
    assert c2.checks[died]["verdict"] == "ok" and c2.checks[died]["broken_crawls"] == 0
    assert c2.checks[died]["first_seen_broken"] is None
    row = c3.checks[died]
    assert (row["verdict"], row["broken_crawls"], row["first_seen_broken"]) == ("broken", 1, row["checked_at"])


def test_check_max_age_zero_asks_everything(crawls, web):
    _, _, c3 = crawls
    ok = {u for u, (verdict, _) in web.expected_checks.items() if verdict == "ok"}  # version 1's ok targets
    assert all(asked(c3, u) for u in ok if u != normalize_url(web.url("ok-resource.com", "/changing")))
    assert not any(r["reused"] for r in c3.checks.values())
    assert "checks/reused" not in c3.stats


def test_prospects_report_shows_and_filters_on_broken_crawls(crawls, web, tmp_path):
    _, _, c3 = crawls
    from crawler.reports.prospects import prospects

    _, table = prospects(c3.out, "c3")
    rows = {r["url"]: r for r in table.to_pylist()}
    died, gone = normalize_url(web.url("ok-resource.com", "/changing")), normalize_url(web.url("dead-links.com", "/gone"))
    assert rows[died]["broken_crawls"] == 1 and rows[gone]["broken_crawls"] == 3
    assert rows[gone]["first_seen_broken"] == c3.checks[gone]["first_seen_broken"]
    csv_path = tmp_path / "persistent.csv"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "prospects", str(c3.out), "--min-broken-crawls", "2",
                           "--csv", str(csv_path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import csv

    listed = {r["url"]: r for r in csv.DictReader(csv_path.open(encoding="utf-8-sig"))}
    assert died not in listed and gone in listed
    assert set(listed) == {u for u, r in rows.items() if r["broken_crawls"] >= 2}
    assert "broken_crawls" in proc.stdout
    assert prospects(c3.out, "c3", min_broken_crawls=2)[1].num_rows == len(listed)


# --- plain functions, no crawl
def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["url"]))


def test_earlier_checks_lookup_reuse_and_streak():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    table = _table([
        {"url": "http://a.com/ok", "verdict": "ok", "checked_at": now - timedelta(days=1), "http_status": 200,
         "final_url": None, "redirect_chain": None, "method": "HEAD", "attempts": 1, "elapsed_ms": 5,
         "first_seen_broken": None, "broken_crawls": None},
        {"url": "http://b.com/dead", "verdict": "broken", "checked_at": now - timedelta(days=1), "http_status": None,
         "final_url": None, "redirect_chain": None, "method": None, "attempts": None, "elapsed_ms": None,
         "first_seen_broken": now - timedelta(days=8), "broken_crawls": 2},
    ])
    earlier = EarlierChecks(table, "c2", now - timedelta(days=7))
    row = earlier.reusable("http://a.com/ok")
    assert row.reused and row.checked_at == now - timedelta(days=1) and row.final_url == "http://a.com/ok"
    assert row.url_host_name == "a.com" and row.redirect_chain == [] and row.elapsed_ms == 5
    assert earlier.reusable("http://b.com/dead") is None and earlier.reusable("http://c.com/") is None
    assert earlier.reusable("http://a.com/o") is None and earlier.reusable("http://a.com/okk") is None
    assert EarlierChecks(table, "c2", None).reusable("http://a.com/ok") is None  # CHECK_MAX_AGE = 0
    fresh = check_row(url="http://b.com/dead", verdict="broken", reason="http_4xx", checked_at=now)
    assert earlier.streak(fresh) == replace(fresh, first_seen_broken=now - timedelta(days=8), broken_crawls=3)
    new = earlier.streak(check_row(url="http://n.com/", verdict="broken", reason="http_4xx", checked_at=now))
    assert (new.broken_crawls, new.first_seen_broken) == (1, now)
    back = earlier.streak(check_row(url="http://b.com/dead", checked_at=now))
    assert (back.broken_crawls, back.first_seen_broken) == (0, None)
    assert EarlierChecks().get("http://a.com/") is None


def test_older_crawls_are_read_only_when_written_within_the_age(tmp_path):
    import os

    lake = LocalLake(tmp_path)
    for crawl, age_days in (("c1", 30), ("c2", 2), ("c3", 1), ("c4", 0)):
        part = tmp_path / "checks" / f"crawl={crawl}" / "part-w-00000.parquet"
        part.parent.mkdir(parents=True)
        part.write_bytes(b"")
        when = datetime.now(UTC).timestamp() - age_days * 86400
        os.utime(part, (when, when))
    week = 7 * 86400
    assert earlier_crawls(lake, "c4", week) == ("c3", ["c2", "c3"])
    assert earlier_crawls(lake, "c4", 0) == ("c3", ["c3"])  # the latest earlier crawl: broken streaks
    assert earlier_crawls(lake, "c1", week) == ("c4", ["c2", "c3", "c4"])  # never the crawl being written
    assert earlier_crawls(LocalLake(tmp_path / "none"), "c1", week) == (None, [])


def test_memory_per_earlier_target_is_the_bytes_of_its_columns():
    """A million earlier ok targets with 60-character URLs: well under 200 bytes each, lookups in microseconds."""
    import time

    n = 1_000_000
    now = datetime.now(UTC)
    urls = pa.array([f"https://host{i % 5000:05d}.example.com/articles/{i:09d}/resource.html" for i in range(n)])
    table = pa.table({
        "url": urls, "verdict": pa.array(["ok"] * n).dictionary_encode(),
        "checked_at": pa.array([now] * n, pa.timestamp("us", tz="UTC")),
        "http_status": pa.array([200] * n, pa.int32()), "final_url": pa.nulls(n, pa.string()),
        "redirect_chain": pa.nulls(n, pa.list_(pa.string())), "method": pa.array(["HEAD"] * n).dictionary_encode(),
        "attempts": pa.array([1] * n, pa.int32()), "elapsed_ms": pa.array([5] * n, pa.int32()),
        "first_seen_broken": pa.nulls(n, pa.timestamp("us", tz="UTC")), "broken_crawls": pa.nulls(n, pa.int32()),
    }).sort_by("url")
    earlier = EarlierChecks(table, "c1", now - timedelta(days=7))
    per_entry = earlier.nbytes / n
    assert per_entry < 200, per_entry
    probe = table["url"][123_457].as_py()
    started = time.perf_counter()
    for _ in range(1000):
        assert earlier.reusable(probe) is not None
    assert (time.perf_counter() - started) / 1000 < 0.002


def test_a_carried_row_is_carried_again_until_it_is_older_than_the_age(crawls, web):
    """c2's rows of ok targets were carried from c1: a crawl after c2 carries them again, with c1's checked_at, as
    long as that is within CHECK_MAX_AGE."""
    from crawler.recrawl import load_earlier_checks

    c1, c2, _ = crawls
    lake = LocalLake(c2.out)
    week = 7 * 24 * 3600
    earlier = load_earlier_checks(lake, "c3", week)  # as c3 would with the default age: c2 is the latest earlier
    assert earlier.latest == "c2"
    url = normalize_url(web.url("ok-resource.com", "/guide"))
    assert c2.checks[url]["reused"]
    assert earlier.reusable(url).checked_at == c1.checks[url]["checked_at"]
    later = c1.checks[url]["checked_at"] + timedelta(seconds=week + 1)
    assert load_earlier_checks(lake, "c3", week, now=later).reusable(url) is None  # too old now: asked
    gone = normalize_url(web.url("dead-links.com", "/gone"))
    assert earlier.get(gone)["broken_crawls"] == 2  # broken rows are kept whatever their age: streaks


def test_cluster_workers_each_load_the_earlier_crawls_and_write_a_carried_row_once(crawls, web, redis_url, tmp_path):
    """Two cluster workers after c3, into a copy of its lake: each loads what c1..c3 know at open; no ok target is
    asked, each carried row is written once (the shared dupefilter decides who carries it)."""
    import os
    import shutil

    from tests.crawling import start_worker

    _, _, c3 = crawls
    out = tmp_path / "lake"
    shutil.copytree(c3.out / "checks", out / "checks")
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("\n".join(web.seeds) + "\n")
    env = {"REDIS_URL": redis_url}
    pushed = subprocess.run([sys.executable, "-m", "scrapy", "seed", "prospects", str(seeds), "--crawl", "k4"],
                            cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert pushed.returncode == 0, pushed.stderr
    web.reset_counters()
    web.version = 1
    settings = {"MAX_IDLE_TIME_BEFORE_CLOSE": "2", "CONCURRENT_REQUESTS": "4"}
    logs = [tmp_path / f"w{i}.log" for i in (1, 2)]
    workers = [start_worker("prospects", out, web, {}, {**settings, "WORKER_ID": f"w{i}"}, env, log)
               for i, log in zip((1, 2), logs)]
    for w in workers:
        assert w.wait(timeout=240) == 0, "".join(log.read_text()[-2000:] for log in logs)
    requests = list(web.requests)
    for log in logs:
        assert "earlier crawls: " in log.read_text() and "from crawls c1, c2, c3" in log.read_text()
    rows = [r for r in read_table(out, "checks") if r["crawl"] == "k4"]
    assert len(rows) == len({r["url"] for r in rows}) == len(web.expected_checks)
    fresh_ok = {u for u, r in c3.checks.items() if r["verdict"] == "ok"}
    assert fresh_ok and {r["url"] for r in rows if r["reused"]} == fresh_ok
    assert not any(h == urlsplit(u).hostname and p == urlsplit(u).path for u in fresh_ok for _, h, p in requests)
    assert {r["url"]: (r["verdict"], r["reason"]) for r in rows} == web.expected_checks


# --- pages: conditional GET, a 304 re-parses the earlier capture
PAGE_COLUMNS = ("url", "http_status", "parse_status", "title", "h1", "links_count", "content_type", "canonical_url")
LINK_COLUMNS = ("source_url", "ordinal", "target_url", "anchor_text", "rel", "external", "region", "in_main_content",
                "text_before", "xpath")


def _rows(out, table: str, crawl: str) -> list[dict]:
    return [r for r in read_table(out, table) if r["crawl"] == crawl]


def _page_gets(crawl, web) -> list[tuple[str, str, int, int]]:
    """(host, path, status, body bytes) of every page GET on the niche sites during ``crawl``."""
    from demo.web import NICHE_HOSTS

    return [(h, p, status, sent) for m, h, p, status, sent in crawl.answers
            if m == "GET" and h in NICHE_HOSTS and p != "/robots.txt"]


@pytest.fixture(scope="module")
def warc_crawls(web, tmp_path_factory):
    out = tmp_path_factory.mktemp("conditional")
    warc = {"WARC_ENABLED": "True"}
    runs = {}
    try:
        for crawl_id, version in (("w1", 1), ("w2", 1), ("w3", 2)):
            runs[crawl_id] = _crawl(web, out, crawl_id, version, warc)
            runs[crawl_id].answers = list(web.answers)
            (out / f"log-{crawl_id}.txt").write_text(runs[crawl_id].log)
        import shutil

        shutil.move(out / "warc" / "crawl=w1", out / "w1-warc-moved")  # the captures w3's unchanged rows point at
        runs["w4"] = _crawl(web, out, "w4", 2, warc)
        runs["w4"].answers = list(web.answers)
        (out / "log-w4.txt").write_text(runs["w4"].log)
    finally:
        web.version = 1
    return out, runs


def test_a_recrawl_of_an_unchanged_web_costs_headers_not_bodies(warc_crawls, web):
    out, runs = warc_crawls
    first, second = _page_gets(runs["w1"], web), _page_gets(runs["w2"], web)
    assert {s for _, _, s, _ in first} >= {200} and not any(s == 304 for _, _, s, _ in first)
    html = {(h, p) for h, p, s, _ in first if s == 200}
    assert {(h, p) for h, p, s, _ in second if s == 304} == html  # every page asked conditionally, every one 304
    assert sum(b for *_, b in second) == sum(b for h, p, s, b in first if (h, p) not in html)  # no HTML body again
    assert sum(b for *_, b in first) > 10_000
    assert runs["w2"].stats["pages/unchanged"] == len(html)
    # the same rows, marked unchanged, pointing at the first crawl's captures
    pages1 = {r["url"]: r for r in _rows(out, "pages", "w1")}
    pages2 = {r["url"]: r for r in _rows(out, "pages", "w2")}
    assert set(pages2) == set(pages1) == web.expected_pages
    for url, row in pages2.items():
        assert tuple(row[c] for c in PAGE_COLUMNS) == tuple(pages1[url][c] for c in PAGE_COLUMNS), url
        if row["parse_status"] == "parsed":
            assert row["unchanged"] is True and row["warc_filename"].startswith("warc/crawl=w1/")
            assert (row["warc_record_offset"], row["etag"]) == (pages1[url]["warc_record_offset"], pages1[url]["etag"])
            assert row["etag"] or row["last_modified"]
        else:
            assert not row["unchanged"]
    links1 = sorted(tuple(str(r[c]) for c in LINK_COLUMNS) for r in _rows(out, "links", "w1"))
    links2 = sorted(tuple(str(r[c]) for c in LINK_COLUMNS) for r in _rows(out, "links", "w2"))
    assert links2 == links1 and links1
    # the 304 exchanges are archived apart from the pages: ingesting warc/ yields exactly the pages
    from crawler.warc.reader import iter_warc_responses

    archived = [r for f in sorted((out / "warc" / "crawl=w2").glob("*.warc.gz")) for r in iter_warc_responses(f)]
    assert archived and not any(r.status == 304 for r in archived)
    assert {normalize_url(r.url) for r in archived} == {u for u, r in pages2.items() if not r["unchanged"]}
    diagnostics = [r for f in sorted((out / "crawldiagnostics" / "crawl=w2").glob("*.warc.gz"))
                   for r in iter_warc_responses(f)]
    assert sum(r.status == 304 for r in diagnostics) == len(html)


def test_homebrew_pages_are_asked_with_if_modified_since_only(warc_crawls, web):
    out, runs = warc_crawls
    homebrew = [r for r in _rows(out, "pages", "w2") if r["site"] == "homebrew-corner.net" and r["parse_status"] == "parsed"]
    assert homebrew and all(r["unchanged"] and r["etag"] is None and r["last_modified"] for r in homebrew)


def test_a_changed_page_is_fetched_in_full_and_the_rest_stay_unchanged(warc_crawls, web):
    out, runs = warc_crawls
    pages = {r["url"]: r for r in _rows(out, "pages", "w3")}
    tomatoes = normalize_url(web.url("gardening-notes.com", "/guides/tomatoes.html"))
    equipment = normalize_url(web.url("homebrew-corner.net", "/equipment.html"))
    changed = {u for u, r in pages.items() if r["parse_status"] == "parsed" and not r["unchanged"]}
    assert changed == {tomatoes, equipment}
    assert pages[tomatoes]["warc_filename"].startswith("warc/crawl=w3/")
    guide = normalize_url(web.url("ok-resource.com", "/guide"))
    links = [r for r in _rows(out, "links", "w3") if r["source_url"] == tomatoes and r["target_url"] == guide]
    assert links and all(r["nofollow"] for r in links)
    unchanged = [r for r in pages.values() if r["unchanged"]]
    assert unchanged and all(r["warc_filename"].startswith("warc/crawl=w1/") for r in unchanged)  # the body's capture


def test_a_page_whose_capture_is_gone_is_fetched_in_full(warc_crawls, web):
    out, runs = warc_crawls
    w3 = {r["url"]: r for r in _rows(out, "pages", "w3")}
    w4 = {r["url"]: r for r in _rows(out, "pages", "w4")}
    gone = {u for u, r in w3.items() if r["unchanged"]}
    assert runs["w4"].stats["pages/conditional_fallback"] == len(gone)
    assert set(w4) == web.expected_pages
    assert not any(w4[u]["unchanged"] for u in gone) and all(w4[u]["parse_status"] == "parsed" for u in gone)
    assert {u for u, r in w4.items() if r["unchanged"]} == {u for u, r in w3.items()
                                                             if r["parse_status"] == "parsed" and not r["unchanged"]}
    links3 = sorted(tuple(str(r[c]) for c in LINK_COLUMNS) for r in _rows(out, "links", "w3"))
    links4 = sorted(tuple(str(r[c]) for c in LINK_COLUMNS) for r in _rows(out, "links", "w4"))
    assert links4 == links3
