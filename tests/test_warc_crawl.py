"""WARC end to end: a live crawl archives every response and points its pages rows at the records; ingesting
those files gives the same pages and links rows as the live crawl, and ``check=1`` the same verdicts."""

from __future__ import annotations

import gzip
import subprocess
import sys

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import run_crawl

PAGE_KEY = ("url", "final_url", "http_status", "parse_status", "title", "content_type", "links_count", "canonical_url")
LINK_KEY = ("source_url", "target_url", "anchor_text", "ordinal", "external", "rel", "xpath")


def keyed(rows, key):
    return {tuple(str(r[k]) for k in key) for r in rows}


@pytest.fixture(scope="module")
def live(web, tmp_path_factory):
    web.reset_counters()
    web.version = 1
    out = tmp_path_factory.mktemp("live")
    result = run_crawl("prospects", out, web, {"seeds": ",".join(web.seeds)},
                       {"CRAWL_ID": "live", "WARC_ENABLED": "True", "WARC_MAX_SIZE": "20000"})
    assert result.returncode == 0, result.log[-2000:]
    return result


def test_every_page_row_reopens_its_record_from_three_columns(live):
    pages = live.table("pages")
    assert pages and all(p["warc_filename"] for p in pages)
    for p in pages:
        with open(live.out / p["warc_filename"], "rb") as f:
            f.seek(p["warc_record_offset"])
            member = f.read(p["warc_record_length"])
        record = next(ArchiveIterator(__import__("io").BytesIO(gzip.decompress(member))))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == p["url"]
        assert record.http_headers.get_statuscode() == str(p["http_status"])


def test_warc_files_roll_pass_warcio_check_and_keep_the_checks_apart(live):
    files = sorted((live.out / "warc" / "crawl=live").iterdir())
    assert len(files) > 1 and all(f.name.endswith(".warc.gz") for f in files)  # rolled at 20 kB, nothing left open
    diagnostics = sorted((live.out / "crawldiagnostics" / "crawl=live").iterdir())
    assert diagnostics and (live.out / "robotstxt" / "crawl=live").is_dir()
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files + diagnostics)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    uris = set()
    for f in diagnostics:
        with open(f, "rb") as stream:
            uris |= {r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(stream) if r.rec_type == "response"}
    checked = {c["url"] for c in live.table("checks")}
    assert checked - {c["url"] for c in live.table("checks") if c["reason"] in ("dns_nxdomain", "dns_error", "connection_refused", "tls_error", "timeout")} <= uris


def test_ingest_gives_the_same_rows_as_the_live_crawl(live, web, tmp_path):
    web.reset_counters()
    archives = str(live.out / "warc" / "crawl=live" / "*.warc.gz")
    ingest = run_crawl("warc", tmp_path, web, {"paths": archives, "check": 1}, {"CRAWL_ID": "ingest"})
    assert ingest.returncode == 0, ingest.log[-2000:]
    live_pages = [p for p in live.table("pages")]
    assert keyed(ingest.table("pages"), PAGE_KEY) == keyed(live_pages, PAGE_KEY)
    assert keyed(ingest.table("links"), LINK_KEY) == keyed(live.table("links"), LINK_KEY)
    got = {c["url"]: (c["verdict"], c["reason"]) for c in ingest.table("checks")}
    assert got == web.expected_checks
    assert ingest.stats["warc/responses"] >= len(live_pages)
    assert ingest.stats["warc/other_records"] > 0  # the request and warcinfo records were read past


def test_cluster_workers_share_an_ingest_file_by_file(live, web, redis_url, tmp_path):
    """``scrapy seed warc`` then ``--append``: two workers ingest each file once, together the same pages as the
    live crawl."""
    import os

    from tests.crawling import REPO, Crawl, start_worker

    files = sorted((live.out / "warc" / "crawl=live").glob("*.warc.gz"))
    half = len(files) // 2
    env = {**os.environ, "REDIS_URL": redis_url}
    for chunk, extra in ((files[:half], []), (files[half:], ["--append"])):
        seeded = subprocess.run([sys.executable, "-m", "scrapy", "seed", "warc", ",".join(map(str, chunk)),
                                 "--crawl", "ingest", *extra], cwd=REPO, env=env, capture_output=True, text=True,
                                timeout=60)
        assert seeded.returncode == 0 and f"{len(chunk)} entries queued" in seeded.stdout, seeded.stdout + seeded.stderr
    out = tmp_path / "lake"
    workers = [start_worker("warc", out, web, {}, {"WORKER_ID": f"w{i}", "MAX_IDLE_TIME_BEFORE_CLOSE": "2"},
                            {"REDIS_URL": redis_url}, tmp_path / f"w{i}.log") for i in (1, 2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    pages = Crawl(0, "", {}, out).table("pages")
    assert sorted(p["url"] for p in pages) == sorted(p["url"] for p in live.table("pages"))
    assert keyed(pages, PAGE_KEY) == keyed(live.table("pages"), PAGE_KEY)
