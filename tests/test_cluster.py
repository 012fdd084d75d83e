"""Cluster mode: two workers sharing one real Redis frontier crawl exactly what one machine crawls.

Same pages, links and checks (as sets), no page fetched twice, every target checked once, JSON in Redis (never
pickle), and workers that exit by themselves once the shared frontier stays empty.
"""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import time

import pytest
import redis

from tests.crawling import REPO, run_crawl, start_worker

PAGE_KEY = ("url", "final_url", "http_status", "parse_status", "title", "site", "links_count")
LINK_KEY = ("source_url", "target_url", "anchor_text", "ordinal", "external", "nofollow", "xpath")
CHECK_KEY = ("url", "verdict", "reason", "http_status", "final_url")


def rows(result, table, key):
    return {tuple(str(r[k]) for k in key) for r in result.table(table)}


@pytest.fixture(scope="module")
def single(web, tmp_path_factory):
    web.reset_counters()
    web.version = 1
    out = tmp_path_factory.mktemp("single")
    result = run_crawl("prospects", out, web, {"seeds": ",".join(web.seeds)}, {"CRAWL_ID": "single"})
    assert result.returncode == 0, result.log[-2000:]
    return result


def test_two_workers_crawl_what_one_machine_crawls(single, web, redis_url, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("\n".join(web.seeds) + "\nbad seed line\n")
    env = {"REDIS_URL": redis_url}
    pushed = subprocess.run(
        [sys.executable, "-m", "scrapy", "seed", "prospects", str(seeds), "--crawl", "cluster"],
        cwd=REPO, env={**__import__("os").environ, **env}, capture_output=True, text=True, timeout=60,
    )
    assert pushed.returncode == 0, pushed.stderr
    assert "line 4" in pushed.stdout and "3 entries queued (3 requests)" in pushed.stdout

    # Requests in the shared queue are plain JSON data, not pickle, and name no class or callback.
    server = redis.Redis.from_url(redis_url)
    assert server.get("prospects:crawl_id") == b"cluster"
    host = web.seeds[0].split("/")[2]
    assert json.loads(server.lindex(f"prospects:q:{host}", 0)) == [1, "page", 0, 0, "/"]

    web.reset_counters()
    out = tmp_path / "lake"
    # Few slots and a delay per host: the crawl lasts long enough for both workers to take part, and for the
    # entries the workers themselves queue (pages and checks found on pages: depth >= 1) to be read back below.
    settings = {"MAX_IDLE_TIME_BEFORE_CLOSE": "2", "CONCURRENT_REQUESTS": "2", "DOWNLOAD_DELAY": "0.5"}
    workers = [
        start_worker("prospects", out, web, {}, {**settings, "WORKER_ID": f"w{i}"}, env, tmp_path / f"w{i}.log")
        for i in (1, 2)
    ]
    pushed_by_workers = set()
    while any(w.poll() is None for w in workers) and len(pushed_by_workers) < 20:
        for key in server.keys("prospects:q:*"):
            for raw in server.lrange(key, 0, -1):
                entry = json.loads(raw)  # plain JSON data: never pickle, never a class or callback name
                assert isinstance(entry, list) and entry[0] == 1 and entry[1] in ("page", "check"), entry
                if entry[2] >= 1:
                    pushed_by_workers.add(raw)
        time.sleep(0.05)
    assert len(pushed_by_workers) >= 20
    for w in workers:
        assert w.wait(timeout=240) == 0, (tmp_path / "w1.log").read_text()[-2000:] + (tmp_path / "w2.log").read_text()[-2000:]
    requests = list(web.requests)

    from tests.crawling import Crawl

    cluster = Crawl(0, "", {}, out)
    assert {p["crawl"] for p in cluster.table("pages")} == {"cluster"}
    assert rows(cluster, "pages", PAGE_KEY) == rows(single, "pages", PAGE_KEY)
    assert rows(cluster, "links", LINK_KEY) == rows(single, "links", LINK_KEY)
    assert rows(cluster, "checks", CHECK_KEY) == rows(single, "checks", CHECK_KEY)

    checks = [c["url"] for c in cluster.table("checks")]
    assert len(checks) == len(set(checks)) == len(web.expected_checks)
    pages = [p["url"] for p in cluster.table("pages")]
    assert len(pages) == len(set(pages))
    page_hosts = {"gardening-notes.com", "blog.gardening-notes.com", "trail-running-club.org", "homebrew-corner.net"}
    fetches = collections.Counter((h, p) for m, h, p in requests if h in page_hosts and p != "/robots.txt")
    assert max(fetches.values()) == 1

    writers = {f.name.split("-")[1] for f in out.glob("*/crawl=cluster/part-*.parquet")}
    assert writers == {"w1", "w2"}, "both workers wrote their own part files"
    assert int(server.get("prospects:queued")) == 0 and int(server.get("prospects:leased")) == 0  # all done
    assert not server.keys("prospects:q:*") and not server.keys("prospects:leases:*")
    assert int(server.get("prospects:dupefilter:count")) > len(pages)  # the Bloom filter saw every request
