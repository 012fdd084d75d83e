"""The backlinks spider end to end: real crawls of the hermetic publisher web (``demo/publishers.py``), read back
from Parquet; the diff between scheduled crawls; and the same input through a Redis cluster worker."""

from __future__ import annotations

import collections
import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
import redis

from crawler.urls import normalize_url
from demo.publishers import GARDEN, PublisherWeb
from tests.crawling import REPO, Crawl, run_crawl, start_worker

# A hanging page times out after 2 s; a failing one is retried once (RetryMiddleware) before it counts.
SETTINGS = {"DOWNLOAD_TIMEOUT": "2", "RETRY_TIMES": "1"}
BAD_ROWS = ["not a url,{trowel},,", "{garden},,,", "{garden},{trowel},,nofolow"]


@pytest.fixture(scope="module")
def web():
    with PublisherWeb(hang_seconds=60) as w:
        yield w


def write_input(path: Path, rows: list[dict], bad: list[str] = ()) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["source_url", "target", "expected_anchor", "expected_rel"])
        for row in rows:
            writer.writerow([row["source_url"], row["target"], row.get("expected_anchor", ""), row.get("expected_rel", "")])
        for line in bad:
            f.write(line + "\n")
    return path


@pytest.fixture(scope="module")
def crawl(web, tmp_path_factory):
    web.reset_counters()
    web.version = 1
    out = tmp_path_factory.mktemp("backlinks")
    bad = [line.format(trowel=web.target("trowel"), garden=web.url(GARDEN, "/x.html")) for line in BAD_ROWS]
    path = write_input(out / "input.csv", web.cases, bad)
    result = run_crawl("backlinks", out, web, {"input": path}, {"CRAWL_ID": "main", **SETTINGS})
    assert result.returncode == 0, result.log[-3000:]
    result.requests = list(web.requests)
    result.rows = {(r["source_url"], r["target"]): r for r in result.table("backlinks")}
    return result


def row(crawl, web, host, path, target="trowel"):
    return crawl.rows[(web.url(host, path), web.target(target))]  # the web's URLs are already normalized


def test_every_input_row_gets_its_state_reason_and_flags(crawl, web):
    rows = crawl.table("backlinks")
    assert len(rows) == len(web.cases) == len(crawl.rows)
    got = {key: (r["link_state"], r["reason"], tuple(r["flags"])) for key, r in crawl.rows.items()}
    assert got == {(c["source_url"], c["target"]): c["expected"] for c in web.cases}
    assert sorted(r["input_line"] for r in rows) == list(range(2, 2 + len(web.cases)))
    assert {r["crawl"] for r in rows} == {"main"} and all(r["checked_at"] for r in rows)


def test_bad_rows_are_reported_with_their_line_and_counted(crawl, web):
    first_bad = 2 + len(web.cases)
    assert f"input line {first_bad}: source_url: contains whitespace" in crawl.log
    assert f"input line {first_bad + 1}: empty target" in crawl.log
    assert f"input line {first_bad + 2}: unknown rel token(s) nofolow" in crawl.log
    assert crawl.stats["input/malformed"] == 3


def test_each_source_page_is_fetched_once_and_robots_txt_obeyed(crawl, web):
    gets = collections.Counter((h, p) for m, h, p in crawl.requests if p != "/robots.txt")
    sources = collections.Counter(c["source_url"].split("/", 3)[2].split(":")[0] + "/" + c["source_url"].split("/", 3)[3]
                                  for c in web.cases)
    assert sources[f"{GARDEN}/resources.html"] == 4  # four rows, one page
    assert gets[(GARDEN, "/resources.html")] == 1 and gets[(GARDEN, "/anchor.html")] == 1
    garden = {path: n for (host, path), n in gets.items() if host == GARDEN}
    assert garden and max(garden.values()) == 1
    # robots.txt answers slowly: every page asked meanwhile still waits for it and obeys it
    assert not any(path.startswith("/members/") for path in garden)
    robots = collections.Counter(h for m, h, p in crawl.requests if p == "/robots.txt")
    assert robots[GARDEN] == 1


def test_failures_are_retried_before_they_count(crawl, web):
    gets = collections.Counter((h, p) for m, h, p in crawl.requests)
    assert gets[("busy-news.org", "/always-500.html")] == 2
    assert gets[("busy-news.org", "/rate-limited.html")] == 2
    assert gets[("slow-magazine.com", "/feature.html")] == 2
    timeout = row(crawl, web, "slow-magazine.com", "/feature.html")
    assert timeout["http_status"] is None and "timeout" in timeout["error"].lower()
    nxdomain = row(crawl, web, "expired-blog.com", "/guest-post.html")
    assert nxdomain["error"] and nxdomain["found_url"] is None


def test_redirects_are_followed_and_noted(crawl, web):
    moved = row(crawl, web, GARDEN, "/moved-post.html")
    new_home = normalize_url(web.url(GARDEN, "/2024/moved-post.html"))
    assert (moved["link_state"], moved["http_status"], moved["final_url"], moved["redirect_chain"]) == ("live", 200, new_home, [new_home])
    merged = row(crawl, web, GARDEN, "/merged-post.html")
    assert merged["final_url"] == normalize_url(web.url(GARDEN, "/archive/")) and merged["reason"] == "page_redirected"
    assert row(crawl, web, GARDEN, "/guest-post.html")["redirect_chain"] == []


def test_the_row_describes_the_best_link_and_where_it_sits(crawl, web):
    best = row(crawl, web, GARDEN, "/best-match.html")
    assert (best["matches"], best["anchor_text"], best["rel"], best["region"], best["in_main_content"]) == (
        3, "ergonomic garden trowel", [], "content", True)
    assert best["text_before"].endswith("settled on one") and best["text_after"].startswith("and have not looked back")
    assert best["xpath"].startswith("/html/body/main/article/")
    assert 0 < best["region_confidence"] <= 1  # the model placed it (a float32 of 3 decimals)
    assert best["found_url"] == normalize_url(web.target("trowel"))
    comment = row(crawl, web, GARDEN, "/comments.html")
    assert (comment["region"], comment["in_main_content"], comment["rel"]) == ("comments", False, ["ugc", "nofollow"])
    assert comment["text_before"] == "I bought mine at"
    domain = row(crawl, web, GARDEN, "/resources.html", "domain")
    assert domain["matches"] == 3 and domain["found_url"] == normalize_url(web.target("home"))
    prefix = row(crawl, web, GARDEN, "/resources.html", "blog*")
    assert prefix["found_url"].endswith("/blog/pruning-roses") and prefix["anchor_text"] == "pruning roses"
    anchor = row(crawl, web, GARDEN, "/anchor.html")
    assert (anchor["anchor_text"], anchor["expected_anchor"]) == ("click here", "ergonomic garden trowel")


def test_page_facts_explain_the_reason(crawl, web):
    assert row(crawl, web, GARDEN, "/header-noindex.html")["x_robots_tag"] == "noindex"
    assert row(crawl, web, GARDEN, "/noindex.html")["meta_robots"] == "noindex, follow"
    syndicated = row(crawl, web, GARDEN, "/syndicated.html")
    assert syndicated["canonical_url"] == normalize_url(web.url("original-stories.com", "/ten-tools"))
    assert syndicated["found_url"] is not None  # the link is there: the page is what was lost
    assert row(crawl, web, GARDEN, "/guest-post.html")["canonical_url"] == normalize_url(web.url(GARDEN, "/guest-post.html"))
    assert row(crawl, web, GARDEN, "/retired.html")["http_status"] == 410
    assert row(crawl, web, "wall-protected.com", "/guest-post.html")["http_status"] == 403
    members = row(crawl, web, GARDEN, "/members/interview.html")
    assert members["http_status"] is None and "robots.txt" in members["error"]


def test_the_documented_query_runs_on_the_output(crawl):
    """The README's backlinks DuckDB example, on this crawl's lake."""
    doc = (REPO / "README.md").read_text().split("## Verify your backlinks", 1)[1]
    query = re.search(r"```sql\n(.*?)```", doc, re.S).group(1).replace("data/backlinks", f"{crawl.out}/backlinks")
    result = duckdb.sql(query).fetchall()
    assert result and {r[0] for r in result} == {"live", "degraded", "lost", "unverified"}
    assert ds.dataset(crawl.out / "backlinks", partitioning="hive").schema.metadata[b"linkprospector.schema_version"] == b"1"


def test_backlinks_diff_between_scheduled_crawls(web, tmp_path):
    """Three crawls of a changing web (versions 1, 2, 3), then ``scrapy backlinks-diff``."""
    out = tmp_path / "lake"
    checked = {}
    try:
        for version, crawl_id in ((1, "a"), (2, "b"), (3, "c")):
            web.version = version
            rows = web.diff_cases(version)
            result = run_crawl("backlinks", out, web, {"input": write_input(tmp_path / f"{crawl_id}.csv", rows)},
                               {"CRAWL_ID": crawl_id, **SETTINGS})
            assert result.returncode == 0, result.log[-3000:]
            states = {r["source_url"]: r for r in result.table("backlinks") if r["crawl"] == crawl_id}
            assert {u: r["link_state"] for u, r in states.items()} == {normalize_url(c["source_url"]): c["expected"] for c in rows}
            checked[crawl_id] = {u: r["checked_at"] for u, r in states.items()}
    finally:
        web.version = 1

    def diff(*args):
        csv_path = tmp_path / f"diff-{'-'.join(args) or 'latest'}.csv"
        proc = subprocess.run([sys.executable, "-m", "scrapy", "backlinks-diff", str(out), *args, "--csv", str(csv_path)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout, {r["source_url"].split("/", 3)[3]: r for r in csv.DictReader(csv_path.open(encoding="utf-8-sig"))}

    summary, rows = diff("--from", "a", "--to", "b")
    assert "a -> b: 1 lost, 2 degraded, 2 new, 0 restored, 1 improved, 2 unchanged" in summary
    assert {page: r["change"] for page, r in rows.items()} == {
        "guest-post.html": "degraded",  # turned nofollow
        "roundup.html": "improved",  # nofollow dropped
        "spring-list.html": "lost",
        "upcoming.html": "new",  # the promised link was published
        "resources.html": "unchanged",
        "columns.html": "degraded",  # moved from the article to the sidebar
        "weekly.html": "unchanged",  # a 500 is no evidence that the link went
        "sponsored.html": "new",  # a row added to the input
    }
    assert (rows["weekly.html"]["state_from"], rows["weekly.html"]["state_to"], rows["weekly.html"]["reason_to"]) == ("live", "unverified", "page_error")
    assert (rows["sponsored.html"]["state_from"], rows["sponsored.html"]["flags_to"]) == ("", "sponsored")
    assert (rows["columns.html"]["in_main_content_from"], rows["columns.html"]["in_main_content_to"]) == ("True", "False")
    upcoming = normalize_url(web.url(GARDEN, "/upcoming.html"))
    assert rows["upcoming.html"]["first_seen"] == str(checked["b"][upcoming])
    guest = normalize_url(web.url(GARDEN, "/guest-post.html"))
    assert rows["guest-post.html"]["last_seen_live"] == str(checked["a"][guest])

    summary, rows = diff()  # the two latest: b -> c
    assert "b -> c:" in summary
    assert {page: r["change"] for page, r in rows.items() if r["change"] != "unchanged"} == {"spring-list.html": "restored"}
    spring = normalize_url(web.url(GARDEN, "/spring-list.html"))
    assert rows["spring-list.html"]["first_seen"] == str(checked["a"][spring])
    assert rows["spring-list.html"]["last_seen_live"] == str(checked["c"][spring])

    proc = subprocess.run([sys.executable, "-m", "scrapy", "backlinks-diff", str(out), "--from", "c", "--to", "a"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "must be an older crawl" in proc.stderr


def test_cluster_worker_verifies_what_one_machine_verifies(crawl, web, redis_url, tmp_path):
    bad = [line.format(trowel=web.target("trowel"), garden=web.url(GARDEN, "/x.html")) for line in BAD_ROWS]
    path = write_input(tmp_path / "input.csv", web.cases, bad)
    env = {"REDIS_URL": redis_url}
    pushed = subprocess.run([sys.executable, "-m", "scrapy", "seed", "backlinks", str(path), "--crawl", "cluster"],
                            cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert pushed.returncode == 0, pushed.stderr
    sources = {normalize_url(c["source_url"]) for c in web.cases}
    assert f"{len(sources)} entries queued ({len(sources)} requests) in the backlinks frontier for crawl cluster (3 malformed)" in pushed.stdout
    first = normalize_url(web.cases[0]["source_url"])
    host = first.split("/")[2]
    kind, depth, https, path, method, attempts, entry = json.loads(redis.Redis.from_url(redis_url).lindex(f"backlinks:q:{host}", 0))[1:]
    assert (kind, method) == ("source", "GET")  # JSON data, one entry per page
    assert entry["source_url"] == first and entry["expectations"][0]["line"] == 2

    web.reset_counters()
    out = tmp_path / "lake"
    worker = start_worker("backlinks", out, web, {}, {**SETTINGS, "MAX_IDLE_TIME_BEFORE_CLOSE": "2", "WORKER_ID": "w1"},
                          env, tmp_path / "w1.log")
    assert worker.wait(timeout=120) == 0, (tmp_path / "w1.log").read_text()[-3000:]
    cluster = Crawl(0, "", {}, out)
    key = ("source_url", "target", "input_line", "link_state", "reason", "flags", "matches", "found_url", "region")

    def states(rows):
        return {tuple(str(r[k]) for k in key) for r in rows}

    rows = cluster.table("backlinks")
    assert {r["crawl"] for r in rows} == {"cluster"}
    assert states(rows) == states(crawl.table("backlinks"))
    assert not any(p.startswith("/members/") for m, h, p in web.requests)
