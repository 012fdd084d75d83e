"""The lake on object storage: crawls write Parquet and WARC to a real S3-compatible server (SeaweedFS on loopback,
``tests/objectstore.py``) and readers with no project code read back what a local crawl writes; a writer killed
mid-upload leaves nothing visible; a cluster worker killed inside a commit has it completed on the store."""

from __future__ import annotations

import gzip
import io
import os
import signal
import subprocess
import sys

import duckdb
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.reports.prospects import prospects
from tests.crawling import REPO, Crawl, run_crawl

KEYS = {"pages": ("url", "final_url", "http_status", "parse_status", "title", "links_count"),
        "links": ("source_url", "target_url", "anchor_text", "ordinal", "region"),
        "checks": ("url", "verdict", "reason", "http_status", "final_url")}


def keyed(rows, key) -> set:
    return {tuple(str(r[k]) for k in key) for r in rows}


def s3_table(store, prefix: str, table: str) -> list[dict]:
    """A table read with pyarrow alone, straight from the bucket."""
    lake = store.lake(prefix)
    return ds.dataset(f"{lake.base}/{table}", filesystem=lake.fs, format="parquet",
                      partitioning="hive").to_table().to_pylist()


@pytest.fixture(scope="module")
def crawls(web, object_store, tmp_path_factory):
    """The same crawl of the test web twice: into a local folder, and into s3://lake/crawls with WARC on."""
    done = {}
    for name, settings in (("local", {}), ("s3", {"OUTPUT_URI": object_store.uri("crawls"), "WARC_ENABLED": "True",
                                                  "WARC_MAX_SIZE": "20000"})):
        web.reset_counters()
        web.version = 1
        result = run_crawl("prospects", tmp_path_factory.mktemp(name), web, {"seeds": ",".join(web.seeds)},
                           {"CRAWL_ID": "c1", **settings}, env=object_store.env)
        assert result.returncode == 0, result.log[-3000:]
        done[name] = result
    return done


def test_a_crawl_into_s3_has_the_rows_of_a_local_crawl_read_by_pyarrow_and_duckdb(crawls, object_store):
    local = crawls["local"]
    for table, key in KEYS.items():
        rows = s3_table(object_store, "crawls", table)
        assert rows and keyed(rows, key) == keyed(local.table(table), key), table
        assert {r["crawl"] for r in rows} == {"c1"}
    lake = object_store.lake("crawls")
    dataset = ds.dataset(f"{lake.base}/checks", filesystem=lake.fs, format="parquet", partitioning="hive")
    con = duckdb.connect()
    con.register("checks", dataset)  # DuckDB over a pyarrow dataset: no extension to download
    broken = con.sql("SELECT count(*) FROM checks WHERE verdict = 'broken'").fetchall()[0][0]
    assert broken == sum(c["verdict"] == "broken" for c in local.table("checks")) > 0
    everything = lake.fs.get_file_info(pafs.FileSelector(lake.base, recursive=True))
    assert not [i.path for i in everything if i.base_name.startswith("_") or i.base_name.endswith(".open")]


def test_reports_run_on_the_bucket(crawls, object_store):
    crawl, remote = prospects(object_store.lake("crawls"))
    _, local = prospects(crawls["local"].out)
    assert crawl == "c1" and remote.num_rows == local.num_rows > 0
    assert remote.column("url").to_pylist() == local.column("url").to_pylist()
    shown = subprocess.run([sys.executable, "-m", "scrapy", "prospects", object_store.uri("crawls")], cwd=REPO,
                           env={**os.environ, **object_store.env}, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and f"crawl c1: {local.num_rows} broken targets" in shown.stdout, shown.stderr


def test_warc_files_in_the_bucket_hold_every_page_row_at_its_offset(crawls, object_store):
    lake = object_store.lake("crawls")
    pages = s3_table(object_store, "crawls", "pages")
    assert pages and all(p["warc_filename"] for p in pages)
    assert len(lake.list("warc/crawl=c1", "*.warc.gz")) > 1  # rolled at 20 kB, each file uploaded once finished
    for p in pages:
        with lake.fs.open_input_file(f"{lake.base}/{p['warc_filename']}") as f:
            f.seek(p["warc_record_offset"])
            member = f.read(p["warc_record_length"])
        record = next(ArchiveIterator(io.BytesIO(gzip.decompress(member))))
        assert record.rec_headers.get_header("WARC-Target-URI") == p["url"]
        assert record.http_headers.get_statuscode() == str(p["http_status"])


KILLED_UPLOAD = """
import sys, time
from crawler.lake import ObjectLake

lake = ObjectLake(sys.argv[1], endpoint=sys.argv[2])

def fill(f):
    for i in range(1000):
        f.write(bytes(1_000_000))
        if i == 30:
            print("30 MB sent", flush=True)
        time.sleep(0.005)

lake.write("big/part-w1-00000.parquet", fill)
"""


def test_a_writer_killed_mid_upload_leaves_no_object(object_store):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_UPLOAD, object_store.uri("killed"), object_store.endpoint],
                            cwd=REPO, env={**os.environ, **object_store.env}, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "30 MB sent"  # several multipart parts are on the server by now
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    lake = object_store.lake("killed")
    assert lake.list("big") == [] and not lake.exists("big/part-w1-00000.parquet")


def test_a_cluster_worker_killed_inside_a_commit_has_it_completed_on_the_bucket(object_store, redis_url, tmp_path,
                                                                               tmp_path_factory):
    from tests.gridweb import GridWeb, Site
    from tests.test_cluster_faults import assert_same_as, finish, seed, single_node, worker

    with GridWeb([Site(f"site{k}.com", 40) for k in range(3)], hang=0) as grid:
        single = single_node(grid, tmp_path_factory, "s3-single")
        seed(redis_url, grid, tmp_path)
        grid.reset()
        uri = {"OUTPUT_URI": object_store.uri("cluster")}
        doomed = worker(tmp_path / "w1", grid, redis_url, "w1", tmp_path,
                        env={**object_store.env, "LINKPROSPECTOR_FAILPOINT": "commit:renamed@2"}, **uri)
        survivor = worker(tmp_path / "w2", grid, redis_url, "w2", tmp_path, env=object_store.env, **uri)
        assert doomed.wait(120) == -signal.SIGKILL
        assert finish([survivor], tmp_path) == [0]
    assert "completed commit w1-" in (tmp_path / "w2.log").read_text()
    local = tmp_path / "copied"
    lake = object_store.lake("cluster")
    pafs.copy_files(lake.base, str(local), source_filesystem=lake.fs, destination_filesystem=pafs.LocalFileSystem())
    assert_same_as(Crawl(0, "", {}, local), single)


def test_a_second_crawl_into_the_bucket_builds_on_the_first(web, object_store, tmp_path):
    """Reuse and conditional GET on object storage: the earlier crawls are read through the bucket (DuckDB over
    pyarrow's S3 filesystem, the listing's times, ranged reads of WARC records)."""
    uri = {"OUTPUT_URI": object_store.uri("recrawl"), "WARC_ENABLED": "True", "WARC_MAX_SIZE": "20000"}
    runs = {}
    for crawl in ("r1", "r2"):
        web.reset_counters()
        web.version = 1
        runs[crawl] = run_crawl("prospects", tmp_path / crawl, web, {"seeds": ",".join(web.seeds)},
                                {"CRAWL_ID": crawl, **uri}, env=object_store.env)
        assert runs[crawl].returncode == 0, runs[crawl].log[-3000:]
    ok = sum(verdict == "ok" for verdict, _ in web.expected_checks.values())
    assert runs["r2"].stats["checks/reused"] == ok
    pages = [p for p in s3_table(object_store, "recrawl", "pages") if p["crawl"] == "r2"]
    parsed = [p for p in pages if p["parse_status"] == "parsed"]
    assert parsed and all(p["unchanged"] and p["warc_filename"].startswith("warc/crawl=r1/") for p in parsed)
    assert runs["r2"].stats["pages/unchanged"] == len(parsed)
    assert "pages/conditional_fallback" not in runs["r2"].stats
    links = [r for r in s3_table(object_store, "recrawl", "links")]
    key = lambda r: (r["source_url"], r["ordinal"], r["target_url"], r["anchor_text"])  # noqa: E731
    assert sorted(key(r) for r in links if r["crawl"] == "r2") == sorted(key(r) for r in links if r["crawl"] == "r1")
