"""The prospects crawl end to end on one machine: a real crawl of the hermetic test web, read back from Parquet."""

from __future__ import annotations

import collections
import subprocess
import sys

import duckdb
import pyarrow.dataset as ds
import pytest

from crawler.urls import normalize_url
from tests.crawling import REPO, run_crawl


@pytest.fixture(scope="module")
def crawl(web, tmp_path_factory):
    web.reset_counters()
    web.version = 1
    out = tmp_path_factory.mktemp("lake")
    seeds = out / "seeds.txt"
    lines = ["# niche sites", *web.seeds[:2], "", "not a url at all", "ftp://files.example.com/", web.seeds[2].replace("http://", "")]
    seeds.write_text("\n".join(lines) + "\n")
    result = run_crawl("prospects", out, web, {"seeds": seeds}, {"CRAWL_ID": "c1"})
    assert result.returncode == 0, result.log[-3000:]
    result.requests = list(web.requests)
    result.families = collections.Counter(web.families)
    return result


def by(rows, key):
    return {r[key]: r for r in rows}


def test_every_allowed_page_is_fetched_once_and_robots_is_obeyed(crawl, web):
    pages = crawl.table("pages")
    assert {p["url"] for p in pages} == web.expected_pages
    page_hosts = {u.split("/")[2].split(":")[0] for u in web.expected_pages}
    gets = collections.Counter((h, p) for m, h, p in crawl.requests if h in page_hosts and p != "/robots.txt")
    assert gets and max(gets.values()) == 1, [k for k, n in gets.items() if n > 1]
    assert not any("/private/" in p for _, _, p in crawl.requests)
    assert crawl.stats["pages/ignored"] >= 1  # the disallowed page, counted


def test_malformed_seed_lines_are_reported_with_line_numbers_and_the_rest_crawl(crawl, web):
    assert "seed line 5: contains whitespace" in crawl.log
    assert "seed line 6: unsupported scheme 'ftp'" in crawl.log
    assert crawl.stats["input/malformed"] == 2
    sites = {p["site"] for p in crawl.table("pages")}
    assert sites == {"gardening-notes.com", "trail-running-club.org", "homebrew-corner.net"}  # the bare domain too


def test_every_external_target_is_checked_once_with_the_right_verdict(crawl, web):
    checks = crawl.table("checks")
    urls = [c["url"] for c in checks]
    assert len(urls) == len(set(urls))
    got = {c["url"]: (c["verdict"], c["reason"]) for c in checks}
    assert got == web.expected_checks


def test_check_rows_record_redirects_retries_and_methods(crawl, web):
    checks = by(crawl.table("checks"), "url")
    moved = checks[normalize_url(web.url("moved-resource.com", "/old"))]
    assert moved["redirect_chain"] == [normalize_url(web.url("moved-resource.com", "/new"))]
    assert moved["final_url"] == moved["redirect_chain"][-1] and moved["http_status"] == 200
    chain404 = checks[normalize_url(web.url("moved-resource.com", "/chain-to-404"))]
    assert (chain404["reason"], chain404["http_status"], len(chain404["redirect_chain"])) == ("http_404", 404, 2)
    recovers = checks[normalize_url(web.url("flaky-server.com", "/recovers"))]
    assert recovers["verdict"] == "ok" and recovers["attempts"] >= 2
    hater = checks[normalize_url(web.url("head-hater.com", "/page"))]
    assert hater["method"] == "GET" and hater["verdict"] == "ok"
    always500 = checks[normalize_url(web.url("flaky-server.com", "/always-500"))]
    assert always500["attempts"] >= 3  # retried before being called broken
    hops = checks[normalize_url(web.url("many-hops.com", "/start"))]
    assert len(hops["redirect_chain"]) == 11  # stopped after the 11th hop: more than 10


def test_ipv6_only_and_dual_stack_names_are_reached_over_ipv6(crawl, web):
    """A name whose only address is ::1 is fetched over IPv6 (not called an expired domain), and a name whose IPv4
    address refuses is reached on its IPv6 one: the IPv4 listener would have answered these hosts 421."""
    if not web.ipv6:
        pytest.skip("no IPv6 loopback on this machine")
    checks = by(crawl.table("checks"), "url")
    for host, path, reason in (("ipv6-only.com", "/", "ok"), ("ipv6-only.com", "/old-catalogue", "http_404"),
                               ("dual-stack.com", "/page", "ok")):
        row = checks[normalize_url(web.url(host, path))]
        assert (row["reason"], row["http_status"]) == (reason, 200 if reason == "ok" else 404), row
    for host in ("ipv6-only.com", "dual-stack.com"):
        assert crawl.families[(host, "ipv6")] >= 1 and crawl.families[(host, "ipv4")] == 0


def test_parking_redirects_by_script_refresh_and_registrar_path_join_the_chain(crawl, web):
    """The redirect a script, a meta refresh or a 302 makes is in the row; the parking host is never asked."""
    checks = by(crawl.table("checks"), "url")
    chains = {host: checks[normalize_url(web.url(host))]["redirect_chain"]
              for host in ("yeast-labs.com", "hop-garden.net", "kegging-supplies.com", "old-homebrew-shop.com")}
    assert chains["yeast-labs.com"][0].startswith("https://sedo.com/search/details/")
    assert chains["hop-garden.net"] == ["https://dan.com/buy-domain/hop-garden.net"]
    assert chains["kegging-supplies.com"] == ["http://www.sedoparking.com/kegging-supplies.com"]
    assert chains["old-homebrew-shop.com"] == [normalize_url(web.url("www.godaddy.com", "/forsale/old-homebrew-shop.com"))]
    assert not [p for _, h, p in crawl.requests if h == "www.godaddy.com" and p.startswith("/forsale/")]


def test_retry_after_is_honoured(crawl, web):
    """429 or 503 with Retry-After: 1 -> retried after waiting at least that long, then ok."""
    checks = by(crawl.table("checks"), "url")
    for host in ("rate-limited.com", "flaky-server.com"):
        row = checks[normalize_url(web.url(host, "/recovers"))]
        assert row["verdict"] == "ok" and row["elapsed_ms"] >= 950, row
    hits = [p for m, h, p in crawl.requests if h == "rate-limited.com" and p == "/always"]
    assert len(hits) == 3  # GET 429, then two retries, each after waiting: then rate_limited


def test_links_table(crawl, web):
    links = crawl.table("links")
    targets = {link["target_url"] for link in links}
    assert not any(t.startswith(("javascript:", "mailto:", "tel:", "data:")) for t in targets)
    assert crawl.stats["links/skipped/mailto"] >= 1 and crawl.stats["links/skipped/javascript"] >= 1
    assert all("#" not in t for t in targets)
    for link in links:
        assert link["nofollow"] == ("nofollow" in link["rel"]) and link["ugc"] == ("ugc" in link["rel"])
        assert link["external"] == (link["target_site"] != link["source_site"])
    assert any(link["sponsored"] and link["ugc"] for link in links)
    assert any(link["tag"] == "area" for link in links)
    images = [link for link in links if link["link_type"] == "image"]
    assert images and all(link["anchor_text"] == link["image_alt"] and link["anchor_text"] for link in images)
    assert any("Café crème" in link["anchor_text"] for link in links)  # windows-1252 page decoded
    # the subdomain belongs to the site: links to it are internal
    blog = [link for link in links if link["target_host"] == "blog.gardening-notes.com"]
    assert blog and not any(link["external"] for link in blog)
    # ordinals are positions on the page; xpaths point at the element
    for rows in _group(links, "source_url").values():
        assert sorted(r["ordinal"] for r in rows) == list(range(len(rows)))
        assert all(r["xpath"].startswith("/html") for r in rows)


def test_base_href_and_protocol_relative_links_resolve(crawl, web):
    links = crawl.table("links")
    roses = [link for link in links if link["source_url"] == normalize_url(web.url("gardening-notes.com", "/guides/roses.html"))]
    targets = {link["anchor_text"]: link["target_url"] for link in roses}
    # <base href="/archive/">: "composting.html" and "../guides/tomatoes.html" resolve against it, not the page
    assert targets["composting rose clippings"] == normalize_url(web.url("gardening-notes.com", "/archive/composting.html"))
    assert targets["tomato guide"] == normalize_url(web.url("gardening-notes.com", "/guides/tomatoes.html"))
    assert targets["rose society list"] == normalize_url(web.url("dead-links.com", "/removed"))  # fragment dropped
    # protocol-relative: //host:port/path takes the page's scheme
    assert any(link["target_url"] == normalize_url(web.url("ok-resource.com", "/guide")) and link["source_site"] == "trail-running-club.org" for link in links)


def test_page_rows(crawl, web):
    pages = crawl.table("pages")
    status = {p["url"]: p for p in pages}
    missing = [p for p in pages if p["http_status"] == 404]
    assert missing and all(p["parse_status"] == "http_error" for p in missing)
    pdf = [p for p in pages if p["url"].endswith(".pdf")]
    assert pdf and pdf[0]["content_type"] == "application/pdf" and pdf[0]["parse_status"] == "not_html"
    redirected = [p for p in pages if p["parse_status"] == "redirect"]
    assert [(p["url"], p["http_status"], p["final_url"]) for p in redirected] == [
        (normalize_url(web.url("gardening-notes.com", "/old-guide.html")), 301,
         normalize_url(web.url("gardening-notes.com", "/guides/tomatoes.html")))]
    parsed = [p for p in pages if p["parse_status"] == "parsed"]
    assert all(p["title"] and p["crawl"] == "c1" for p in parsed)
    assert max(p["depth"] for p in pages) >= 2
    assert status  # keyed by url


def test_parquet_layout_is_complete_and_readable_without_project_code(crawl):
    out = crawl.out
    for table in ("pages", "links", "checks"):
        files = list((out / table / "crawl=c1").glob("*"))
        assert files and all(f.name.startswith("part-") and f.suffix == ".parquet" for f in files), files
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/links/*/*.parquet', hive_partitioning=true) WHERE crawl='c1'").fetchone()[0]
    assert n == len(crawl.table("links"))
    assert ds.dataset(out / "checks", partitioning="hive").count_rows() == len(crawl.table("checks"))
    meta = ds.dataset(out / "pages", partitioning="hive").schema.metadata
    assert meta[b"linkprospector.schema_version"] == b"1"


def test_prospects_report_ranks_by_referring_domains(crawl, web, tmp_path):
    csv_path = tmp_path / "prospects.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "prospects", str(crawl.out), "--csv", str(csv_path), "--limit", "50"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    import csv

    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads it right
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8-sig")))
    assert rows[0]["url"] == normalize_url(web.url("dead-links.com", "/gone"))
    assert rows[0]["referring_domains"] == "3"
    assert {"url", "reason", "http_status", "referring_domains", "referring_pages", "sample_anchors", "sample_sources"} <= set(rows[0])
    broken = {u for u, (v, _) in web.expected_checks.items() if v == "broken"}
    assert {r["url"] for r in rows} == broken
    assert all(r["reason"] == web.expected_checks[r["url"]][1] for r in rows)
    ranks = [int(r["referring_domains"]) for r in rows]
    assert ranks == sorted(ranks, reverse=True)


def _group(rows, key):
    out = collections.defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def test_report_ranks_content_links_first_and_quotes_one(crawl, web):
    from crawler.reports.prospects import prospects

    _, table = prospects(crawl.out, "c1")
    rows = table.to_pylist()
    has_content = [r["content_links"] > 0 for r in rows]
    assert has_content == sorted(has_content, reverse=True)  # every content-linked prospect before the others
    for r in rows:
        assert r["content_links"] + r["boilerplate_links"] == r["referring_links"]
    gone = next(r for r in rows if r["url"] == normalize_url(web.url("dead-links.com", "/gone")))
    assert gone["content_links"] >= 1 and gone["boilerplate_links"] >= 1  # in articles and in a sidebar widget
    referring = [link for link in crawl.table("links") if link["target_url"] == gone["url"]]
    assert set(gone["sample_sources"]) <= {link["source_url"] for link in referring}
    quoted = [link for link in referring if link["source_url"] == gone["sample_source"] and link["region"] == "content"
              and (link["anchor_text"], link["text_before"]) == (gone["sample_anchor"], gone["sample_text_before"])]
    assert quoted and gone["sample_anchor"] and gone["sample_text_before"]  # a content link of that page, quoted
    for r in rows:
        assert r["sample_source"] == r["sample_sources"][0]
        assert not r["sample_anchor"] or r["sample_anchor"] == r["sample_anchors"][0]


def test_sitewide_is_computed_over_the_lake(crawl, web):
    from crawler.reports.lake import connect, table_glob
    from crawler.reports.sitewide import SITEWIDE_LINKS

    params = {"links": table_glob(crawl.out, "links", "c1"), "pages": table_glob(crawl.out, "pages", "c1"), "min_share": 0.5}
    rows = connect().execute(SITEWIDE_LINKS + " SELECT target_url, source_site, bool_and(sitewide) AS sw, max(site_share) AS share"
                             " FROM sitewide_links GROUP BY ALL", params).fetchall()
    share = {(t, s): (sw, sh) for t, s, sw, sh in rows}
    home = normalize_url(web.url("gardening-notes.com", "/"))
    assert share[(home, "gardening-notes.com")][0]  # the navigation's home link is on every page
    tls = normalize_url(web.url("tls-broken.com", "/page"))
    assert not any(sw for (t, _), (sw, _) in share.items() if t == tls)  # a one-off link in one article


def test_reports_count_a_row_written_twice_once(crawl, tmp_path):
    """A cluster worker killed between renaming a part and acknowledging its leases can leave rows twice in the lake
    (README, "Cluster guarantees"): the report must not count them twice."""
    import shutil

    from crawler.reports.prospects import prospects

    twice = tmp_path / "lake"
    for table in ("pages", "links", "checks", "contacts"):
        src = crawl.out / table / "crawl=c1"
        dst = twice / table / "crawl=c1"
        shutil.copytree(src, dst)
        for part in list(dst.glob("part-*.parquet")):
            shutil.copy(part, part.with_name(part.stem + "-again.parquet"))
    assert prospects(twice, "c1")[1].to_pylist() == prospects(crawl.out, "c1")[1].to_pylist()


def every_link_prospects(monkeypatch, root, crawl=None, **options):
    """The report as it was first written: every link of the crawl kept, deduplicated and counted, then joined to
    the broken targets (``sitewide_ctes()`` without a filter): what the report reading only the links to broken
    targets must give, row for row."""
    import crawler.reports.prospects as report
    from crawler.reports.sitewide import sitewide_ctes

    with monkeypatch.context() as m:
        m.setattr(report, "QUERY", report.BROKEN + "\n" + sitewide_ctes() + report.REPORT)
        return report.prospects(root, crawl, **options)[1]


def test_report_reads_the_links_to_broken_targets_only_and_gives_every_row(crawl, monkeypatch):
    from crawler.reports.prospects import prospects

    _, table = prospects(crawl.out, "c1")
    assert table.num_rows and table.equals(every_link_prospects(monkeypatch, crawl.out, "c1"))


def test_report_over_a_large_synthetic_lake_is_the_same_and_the_same_every_run(tmp_path, monkeypatch):
    """bench/synthlake.py: many sites, Zipf-popular targets, sitewide footer links, a part of links and one of checks
    written twice; the sample quoted for a target is the same link every run (ties broken by page and position)."""
    import shutil

    import pyarrow.parquet as pq

    from bench.synthlake import generate_lake
    from crawler.reports.prospects import prospects

    lake = generate_lake(tmp_path, link_rows=60_000, backlink_rows=0, crawls=1, log=lambda _: None)
    for table in ("links", "checks"):
        part = next((tmp_path / table / f"crawl={lake.crawls[-1]}").glob("part-*.parquet"))
        shutil.copy(part, part.with_name(part.stem + "-again.parquet"))
    _, table = prospects(tmp_path)
    rows = table.to_pylist()
    assert len(rows) == lake.broken_targets > 20
    assert any(r["boilerplate_links"] for r in rows) and any(r["content_links"] for r in rows)
    assert table.equals(every_link_prospects(monkeypatch, tmp_path))
    # The same rows stored in the opposite order give the same report (no "first row seen" decides a sample).
    backwards = tmp_path / "backwards"
    for table_dir in ("pages", "checks", "contacts", "links"):
        shutil.copytree(tmp_path / table_dir, backwards / table_dir)
    parts = sorted((backwards / "links").rglob("part-*.parquet"))
    tables = [pq.read_table(part) for part in parts]
    for part, rows_of_part in zip(parts, reversed(tables)):
        pq.write_table(rows_of_part.take(list(range(rows_of_part.num_rows - 1, -1, -1))), part)
    assert prospects(backwards)[1].equals(table)
    for options in ({"min_broken_crawls": 2}, {"limit": 7}, {"min_share": 0.05}):
        assert prospects(tmp_path, **options)[1].equals(every_link_prospects(monkeypatch, tmp_path, **options)), options


def test_the_quoted_link_is_chosen_by_rule_not_by_row_order(tmp_path):
    """Links that tie (content, same length of context) to one broken target: the first page by URL is quoted,
    whatever order the rows are stored in."""
    from datetime import UTC, datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    from crawler.reports.prospects import prospects
    from schemas import schema_for

    now = datetime(2026, 1, 5, tzinfo=UTC)
    dead = "https://gone.example.org/r/1"

    def link(source, text):
        return {"source_url": source, "source_site": source.split("/")[2], "target_url": dead, "external": True,
                "tag": "a", "anchor_text": f"anchor {text}", "link_type": "text", "rel": [], "ordinal": 3,
                "region": "content", "in_main_content": True, "text_before": f"before {text}", "text_after": "after",
                "fetched_at": now}

    links = [link(f"https://site-{i}.com/post", text) for i, text in ((3, "ccc"), (1, "aaa"), (2, "bbb"))]
    for name, order in (("one", links), ("other", links[::-1])):
        root = tmp_path / name
        for table, rows in (("links", order), ("checks", [{"url": dead, "verdict": "broken", "reason": "http_404",
                                                           "checked_at": now, "broken_crawls": 1}]),
                            ("pages", [{"url": r["source_url"], "site": r["source_site"], "parse_status": "parsed",
                                        "fetched_at": now} for r in order])):
            (root / table / "crawl=c1").mkdir(parents=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=schema_for(table)), root / table / "crawl=c1" / "part-w-00000.parquet")
        (row,) = prospects(root, "c1")[1].to_pylist()
        assert (row["sample_source"], row["sample_anchor"], row["sample_text_before"]) == (
            "https://site-1.com/post", "anchor aaa", "before aaa"), name


def export(crawl, kind: str, tmp_path) -> list[dict]:
    import csv

    path = tmp_path / f"{kind}.csv"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "export", str(crawl.out), kind, "-o", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(path.open(encoding="utf-8-sig")))


def test_broken_links_export_lists_every_link_to_a_broken_target_with_its_context(crawl, web, tmp_path):
    rows = export(crawl, "broken-links", tmp_path)
    broken = {u for u, (v, _) in web.expected_checks.items() if v == "broken"}
    own = {p["url"] for p in crawl.table("pages") if (p["http_status"] or 0) >= 400}  # the site's own broken pages
    assert own
    links = [link for link in crawl.table("links") if link["target_url"] in broken | own]
    assert len(rows) == len(links) and {r["target_url"] for r in rows} == broken | own
    for r in rows:
        expected = web.expected_checks[r["target_url"]][1] if r["external"] == "True" else "http_4xx"
        assert r["verdict"] == "broken" and r["reason"] == expected
    quoted = [r for r in rows if r["region"] == "content" and r["text_before"]]
    assert quoted and all(r["anchor_text"] for r in quoted)


def test_screaming_frog_and_linkinator_exports_keep_their_columns(crawl, web, tmp_path):
    from crawler.reports.exports import LINKINATOR_COLUMNS, SCREAMING_FROG_COLUMNS

    links = crawl.table("links")
    frog = export(crawl, "screaming-frog", tmp_path)
    assert list(frog[0]) == SCREAMING_FROG_COLUMNS and len(frog) == len(links)
    gone = normalize_url(web.url("dead-links.com", "/gone"))
    to_gone = [r for r in frog if r["Destination"] == gone]
    assert to_gone and {(r["Status Code"], r["Status"]) for r in to_gone} == {("404", "Not Found")}
    assert {r["Link Position"] for r in to_gone} >= {"Content", "Sidebar"}
    assert {r["Follow"] for r in frog} == {"True", "False"} and all(r["Link Path"].startswith("/html/") for r in frog)
    lint = export(crawl, "linkinator", tmp_path)
    assert list(lint[0]) == LINKINATOR_COLUMNS
    states = {r["url"]: r["state"] for r in lint}
    for url, (verdict, _) in web.expected_checks.items():
        assert states[url] == {"ok": "OK", "broken": "BROKEN", "unknown": "SKIPPED"}[verdict], url


def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Headless Chromium that cannot reach anything: every name fails, and a dead proxy catches the rest."""
    import shutil

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no chromium: ./test.sh installs it as root (apt-get install chromium)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--disable-default-apps", "--proxy-server=127.0.0.1:9",
             "--host-resolver-rules=MAP * ~NOTFOUND"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=timeout)


def test_html_report_renders_in_a_browser_with_the_lakes_figures(crawl, web, tmp_path):
    import json
    import re

    from crawler.reports.summary import crawl_summary

    report, data = tmp_path / "report.html", tmp_path / "report.json"
    for kind, path in (("html", report), ("json", data)):
        proc = subprocess.run([sys.executable, "-m", "scrapy", "export", str(crawl.out), kind, "-o", str(path)],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", report.read_text())  # nothing fetched at view time
    dom = chromium("--dump-dom", report.as_uri()).stdout
    shown = {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)<', dom)}
    pages, links, checks = crawl.table("pages"), crawl.table("links"), crawl.table("checks")
    broken = {c["url"] for c in checks if c["verdict"] == "broken"}
    assert shown == {
        "pages": len(pages), "links": len(links), "targets_checked": len(checks), "broken_targets": len(broken),
        "broken_links": sum(1 for link in links if link["target_url"] in broken)
        + sum(1 for link in links if not link["external"] and link["target_url"] in
              {p["url"] for p in pages if (p["http_status"] or 0) >= 400}),
        "pages_broken": sum(1 for p in pages if (p["http_status"] or 0) >= 400)}
    summary = json.loads(data.read_text())
    assert summary["figures"] == crawl_summary(crawl.out)["figures"]
    assert summary["prospects"][0]["url"] == normalize_url(web.url("dead-links.com", "/gone"))
    assert "dead-links.com" in dom and "<svg" in dom and "Unknown: check again" in dom
    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1600", report.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
