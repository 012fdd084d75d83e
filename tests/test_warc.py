"""WARC writer, reader and Scrapy archive extension: files must be valid for third-party tools (``warcio check``),
every returned location must reopen its record on its own, a crash must never leave a broken file under a final
name, and reading real-world archives must survive truncation, corruption, revisits and odd encodings."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.warc import (
    ReadStats,
    RollingWarcWriter,
    WarcLocation,
    decode_content,
    expand_paths,
    iter_warc_responses,
)
from crawler.warc.reader import zstd

REPO = Path(__file__).resolve().parent.parent
WARCIO = Path(sys.executable).with_name("warcio")
FETCH_TIME = datetime(2026, 5, 17, 12, 30, 45, 123456, tzinfo=UTC)
FINAL_NAME = re.compile(r"^linkprospector-c1-w1-\d{14}-(\d{5})\.warc\.gz$")


def page(n: int) -> bytes:
    return f"<html><head><title>page {n}</title></head><body>{'text ' * 200}<a href='/p{n + 1}'>next</a>".encode()


def write_page(writer: RollingWarcWriter, n: int, **overrides) -> WarcLocation:
    exchange = dict(
        request_method="GET",
        request_headers=[("User-Agent", "linkprospector-test"), ("Accept-Encoding", "gzip, br")],
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html; charset=utf-8")],
        body=page(n),
        ip_address="127.0.0.1",
        fetch_time=FETCH_TIME,
    )
    exchange.update(overrides)
    return writer.write_exchange(f"http://site{n}.com/p{n}?a=1", **exchange)


def reopen(path: Path, offset: int, length: int):
    """The one record stored at (offset, length), read without looking at anything else in the file."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        data = stream.read(length)
    assert len(data) == length
    records = []
    for record in ArchiveIterator(io.BytesIO(data)):
        records.append((record.rec_headers, record.http_headers, record.content_stream().read()))
    assert len(records) == 1
    return records[0]


def warcio_check(paths: list[Path]) -> str:
    result = subprocess.run([WARCIO, "check", "-v", *map(str, paths)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest fail" not in result.stdout and "digest pass" in result.stdout
    return result.stdout


def record_types(path: Path) -> list[str]:
    with open(path, "rb") as stream:
        return [record.rec_type for record in ArchiveIterator(stream)]


# --- writer -----------------------------------------------------------------------------------------------------


def test_writer_rolls_files_and_every_location_reopens_its_response(tmp_path):
    writer = RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1", max_size=4000,
                               warcinfo={"isPartOf": "c1", "robots": "obey", "archive-link-checks": False})
    locations = [write_page(writer, n) for n in range(12)]
    writer.close()

    files = sorted(tmp_path.iterdir())
    assert len(files) >= 3, "12 exchanges of ~1 KB compressed must not fit in 4000-byte files"
    assert [int(FINAL_NAME.match(path.name).group(1)) for path in files] == list(range(len(files)))
    assert {location.filename for location in locations} == {path.name for path in files}
    for path in files:
        types = record_types(path)
        assert types[0] == "warcinfo" and types[1:] == ["request", "response"] * (len(types[1:]) // 2)
    assert all(path.stat().st_size < 4000 + 2000 for path in files), "a file exceeds max_size by one exchange at most"

    for n, location in enumerate(locations):
        warc, http, payload = reopen(tmp_path / location.filename, location.offset, location.length)
        assert warc.get_header("WARC-Type") == "response"
        assert warc.get_header("WARC-Target-URI") == f"http://site{n}.com/p{n}?a=1"
        assert warc.get_header("WARC-IP-Address") == "127.0.0.1"
        assert warc.get_header("WARC-Date") == "2026-05-17T12:30:45.123456Z"
        assert warc.get_header("WARC-Payload-Digest").startswith("sha1:")
        assert warc.get_header("WARC-Block-Digest").startswith("sha1:")
        assert http.protocol == "HTTP/1.1" and http.statusline == "200 OK"
        assert payload == page(n)

    warcio_check(files)


def test_warcinfo_first_and_request_linked_to_response(tmp_path):
    with RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1",
                           warcinfo={"isPartOf": "c1", "archive-link-checks": False}) as writer:
        write_page(writer, 1, request_method="POST", request_body=b"q=1")
    (path,) = tmp_path.iterdir()
    with open(path, "rb") as stream:
        warcinfo, request, response = [
            (record.rec_headers, record.http_headers, record.content_stream().read())
            for record in ArchiveIterator(stream)
        ]
    fields = warcinfo[2].decode()
    assert warcinfo[0].get_header("WARC-Filename") == path.name
    assert re.search(r"^software: linkprospector/\S+\r$", fields, re.M)
    assert "isPartOf: c1\r\n" in fields and "archive-link-checks: False\r\n" in fields
    assert request[0].get_header("WARC-Record-ID") == response[0].get_header("WARC-Concurrent-To")
    assert warcinfo[0].get_header("WARC-Record-ID") == response[0].get_header("WARC-Warcinfo-ID")
    assert request[1].protocol == "POST" and request[1].statusline == "/p1?a=1 HTTP/1.1"
    assert request[1].get_header("Host") == "site1.com" and request[2] == b"q=1"


def test_stored_headers_describe_the_decoded_body(tmp_path):
    """The body handed to the writer is decoded; the server's coding and framing headers must not claim
    otherwise, or every WARC tool would gunzip plain HTML or cut it at a stale length."""
    body = page(7)
    with RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1", warcinfo={}) as writer:
        location = write_page(writer, 7, body=body, response_headers=[
            ("Content-Type", "text/html"), ("Content-Encoding", "br"), ("Transfer-Encoding", "chunked"),
            ("Content-Length", "123"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"),
        ])
    _, http, payload = reopen(tmp_path / location.filename, location.offset, location.length)
    assert http.headers == [
        ("Content-Type", "text/html"), ("X-Crawler-Content-Encoding", "br"),
        ("X-Crawler-Transfer-Encoding", "chunked"), ("X-Crawler-Content-Length", "123"),
        ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Length", str(len(body))),
    ]
    assert payload == body
    (read,) = iter_warc_responses(tmp_path / location.filename)
    assert read.body == body
    warcio_check([tmp_path / location.filename])


def test_status_without_standard_reason_and_empty_body(tmp_path):
    with RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1", warcinfo={}) as writer:
        location = write_page(writer, 2, status=999, reason="", body=b"",
                              response_headers=[("Content-Length", "0")])
    _, http, payload = reopen(tmp_path / location.filename, location.offset, location.length)
    assert http.statusline == "999" and payload == b""
    (read,) = iter_warc_responses(tmp_path / location.filename)
    assert read.status == 999 and read.body == b""
    warcio_check([tmp_path / location.filename])


def test_naive_fetch_time_is_refused(tmp_path):
    writer = RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1", warcinfo={})
    with pytest.raises(ValueError, match="timezone-aware"):
        write_page(writer, 1, fetch_time=datetime(2026, 1, 1))


def test_killed_writer_leaves_only_an_open_file(tmp_path):
    """A process killed mid-crawl must not leave a file under a final name: readers globbing *.warc.gz would take
    a truncated file for a complete one. The completed exchanges stay recoverable from the .open file."""
    script = textwrap.dedent(f"""
        import os, signal
        from datetime import datetime, timezone
        from crawler.warc import RollingWarcWriter
        writer = RollingWarcWriter({str(tmp_path)!r}, prefix="linkprospector-c1-w1", warcinfo={{}})
        for n in range(3):
            writer.write_exchange(f"http://a.com/{{n}}", request_method="GET", request_headers=[], status=200,
                                  reason="OK", response_headers=[], body=b"x" * 5000,
                                  fetch_time=datetime.now(timezone.utc))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True)
    assert result.returncode == -9, result.stderr
    (left,) = tmp_path.iterdir()
    assert left.name.endswith(".warc.gz.open") and FINAL_NAME.match(left.name.removesuffix(".open"))
    assert expand_paths(str(tmp_path / "*.warc.gz*")) == [str(left)]
    with pytest.raises(FileNotFoundError):
        expand_paths(str(tmp_path / "*.warc.gz"))
    assert [r.url for r in iter_warc_responses(left)] == ["http://a.com/0", "http://a.com/1", "http://a.com/2"]


def test_unclosed_writer_has_no_final_file(tmp_path):
    writer = RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1", warcinfo={})
    location = write_page(writer, 1)
    assert not (tmp_path / location.filename).exists()
    assert (tmp_path / (location.filename + ".open")).exists()
    writer.close()
    assert [path.name for path in tmp_path.iterdir()] == [location.filename]


def test_second_writer_with_same_prefix_never_overwrites(tmp_path):
    """A restarted worker with the same WORKER_ID may open a file within the same second as its last one."""
    for n in range(2):
        with RollingWarcWriter(tmp_path, prefix="linkprospector-c1-w1", warcinfo={}) as writer:
            write_page(writer, n)
    urls = sorted(r.url for path in tmp_path.iterdir() for r in iter_warc_responses(path))
    assert urls == ["http://site0.com/p0?a=1", "http://site1.com/p1?a=1"]


# --- reader fixtures ----------------------------------------------------------------------------------------------


def warc_fixture(path: Path, exchanges: list[tuple[str, list[tuple[str, str]], bytes]], *, gzip_records=True,
                 extra=()) -> Path:
    """A WARC as another crawler writes it: raw HTTP bodies (still content-coded), warcinfo, requests, revisits."""
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=gzip_records, warc_version="1.0")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "fixture"}))
        for url, headers, body in exchanges:
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            response = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                 http_headers=http,
                                                 warc_headers_dict={"WARC-Date": "2024-04-25T16:24:44Z",
                                                                    "WARC-IP-Address": "127.0.0.7"})
            request = writer.create_warc_record(url, "request", http_headers=StatusAndHeaders(
                "/ HTTP/1.1", [("Host", "x.com")], protocol="GET"))
            writer.write_request_response_pair(request, response)
        for record in extra:
            writer.write_record(record(writer))
    return path


def revisit(writer):
    return writer.create_revisit_record("http://site.com/again", "sha1:AAAA", "http://site.com/",
                                        "2024-04-25T16:24:44Z",
                                        http_headers=StatusAndHeaders("200 OK", [], protocol="HTTP/1.1"))


def metadata(writer):
    return writer.create_warc_record("http://site.com/", "metadata", payload=io.BytesIO(b"via: x\r\n"), length=8)


def dns_response(writer):
    return writer.create_warc_record("dns:site.com", "response", payload=io.BytesIO(b"site.com. 60 A 1.2.3.4"),
                                     length=22, warc_content_type="text/dns")


def chunked(body: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 100]), body[i:i + 100]) for i in range(0, len(body), 100)) \
        + b"0\r\n\r\n"


HTML = [("Content-Type", "text/html; charset=utf-8")]


@pytest.mark.parametrize("gzip_records", [True, False], ids=["warc.gz", "warc"])
def test_reader_yields_responses_with_locations_and_counts_the_rest(tmp_path, gzip_records):
    path = warc_fixture(tmp_path / ("f.warc.gz" if gzip_records else "f.warc"), [
        ("http://site.com/", HTML, page(1)),
        ("http://site.com/gz", HTML + [("Content-Encoding", "gzip")], gzip.compress(page(2))),
        ("http://site.com/chunked-deflate", HTML + [("Transfer-Encoding", "chunked"), ("Content-Encoding", "deflate")],
         chunked(zlib.compress(page(3)))),
        ("http://site.com/raw-deflate", HTML + [("Content-Encoding", "deflate")],
         zlib.compress(page(4))[2:-4]),
    ], gzip_records=gzip_records, extra=(revisit, metadata, dns_response))
    stats = ReadStats()
    responses = list(iter_warc_responses(path, stats=stats))

    assert [r.url for r in responses] == ["http://site.com/", "http://site.com/gz", "http://site.com/chunked-deflate",
                                          "http://site.com/raw-deflate"]
    assert [r.body for r in responses] == [page(1), page(2), page(3), page(4)]
    first = responses[0]
    assert (first.status, first.content_type, first.ip_address, first.record_type) == \
        (200, "text/html; charset=utf-8", "127.0.0.7", "response")
    assert first.fetch_time == datetime(2024, 4, 25, 16, 24, 44, tzinfo=UTC)
    assert first.warc_filename == str(path)
    assert ("Content-Encoding", "gzip") in responses[1].headers
    assert stats == ReadStats(files=1, records=1 + 4 * 2 + 3, responses=4, revisits=1, other_records=1 + 4 + 2)
    for response in responses:
        with open(path, "rb") as stream:
            stream.seek(response.warc_record_offset)
            data = stream.read(response.warc_record_length)
        (record,) = list(ArchiveIterator(io.BytesIO(data)))
        assert record.rec_headers.get_header("WARC-Target-URI") == response.url


@pytest.mark.parametrize("gzip_records", [True, False], ids=["arc.gz", "arc"])
def test_reader_reads_arc_files(tmp_path, gzip_records):
    """ARC v1: a filedesc header record, then one line of URL, IP, date, type, length per record."""
    def arc_record(line: str, block: bytes) -> bytes:
        data = f"{line} {len(block)}\n".encode() + block + b"\n"
        return gzip.compress(data) if gzip_records else data

    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + page(5)
    version = b"1 0 Fixture\nURL IP-address Archive-date Content-type Archive-length\n\n"
    path = tmp_path / ("f.arc.gz" if gzip_records else "f.arc")
    path.write_bytes(arc_record("filedesc://f.arc 0.0.0.0 20240101000000 text/plain", version)
                     + arc_record("http://old.com/page 127.0.0.9 20050607080910 text/html", http))
    stats = ReadStats()
    (response,) = iter_warc_responses(path, stats=stats)
    assert (response.url, response.status, response.body, response.ip_address, response.record_type) == \
        ("http://old.com/page", 200, page(5), "127.0.0.9", "arc")
    assert response.fetch_time == datetime(2005, 6, 7, 8, 9, 10, tzinfo=UTC)
    assert (stats.records, stats.responses, stats.other_records) == (2, 1, 1)
    with open(path, "rb") as stream:
        stream.seek(response.warc_record_offset)
        data = stream.read(response.warc_record_length)
    assert (gzip.decompress(data) if gzip_records else data).startswith(b"http://old.com/page ")


@pytest.mark.parametrize("gzip_records", [True, False], ids=["warc.gz", "warc"])
@pytest.mark.parametrize("cut", [0.05, 0.3, 0.6, 0.9])
def test_truncated_file_yields_complete_records_and_counts_the_cut_one(tmp_path, gzip_records, cut, caplog):
    """Cut inside the WARC headers, the HTTP headers or the body: never raise, never yield the cut record."""
    path = warc_fixture(tmp_path / "f.warc", [(f"http://site.com/{n}", HTML, page(n)) for n in range(3)],
                        gzip_records=gzip_records)
    *_, last = iter_warc_responses(path)
    data = path.read_bytes()
    path.write_bytes(data[:last.warc_record_offset + int(last.warc_record_length * cut)])

    stats = ReadStats()
    assert [r.url for r in iter_warc_responses(path, stats=stats)] == ["http://site.com/0", "http://site.com/1"]
    assert stats.truncated + stats.corrupt == 1
    assert "truncated" in caplog.text or "unreadable" in caplog.text


def test_garbage_inside_a_file_stops_that_file_without_raising(tmp_path, caplog):
    path = warc_fixture(tmp_path / "f.warc.gz", [(f"http://site.com/{n}", HTML, page(n)) for n in range(3)])
    responses = list(iter_warc_responses(path))
    data = path.read_bytes()
    cut = responses[1].warc_record_offset
    path.write_bytes(data[:cut] + gzip.compress(b"\x00\x01garbage\r\n\r\n") + data[cut:])

    stats = ReadStats()
    assert [r.url for r in iter_warc_responses(path, stats=stats)] == ["http://site.com/0"]
    assert stats.corrupt == 1
    assert "unreadable record" in caplog.text


def test_brotli_and_zstd_bodies_are_decoded(tmp_path):
    """warcio 1.8.1's content_stream() raises on brotli with brotli 1.2.x (docs/pitfalls.md §3); we decode it ourselves.
    Scrapy advertises zstd, so archives of other Scrapy crawls hold zstd bodies too."""
    path = warc_fixture(tmp_path / "f.warc.gz", [
        ("http://site.com/br", HTML + [("Content-Encoding", "br")], brotli.compress(page(1))),
        ("http://site.com/zstd", HTML + [("Content-Encoding", "zstd")], zstd.compress(page(2))),
        ("http://site.com/both", HTML + [("Content-Encoding", "gzip, br")], brotli.compress(gzip.compress(page(3)))),
    ])
    assert [r.body for r in iter_warc_responses(path)] == [page(1), page(2), page(3)]


def test_oversized_bodies_are_skipped_stored_or_decoded(tmp_path):
    bomb = gzip.compress(b"\0" * 5_000_000)
    path = warc_fixture(tmp_path / "f.warc.gz", [
        ("http://site.com/big", HTML, b"x" * 20_000),
        ("http://site.com/bomb", HTML + [("Content-Encoding", "gzip")], bomb),
        ("http://site.com/ok", HTML, page(1)),
    ])
    assert len(bomb) < 10_000
    stats = ReadStats()
    assert [r.url for r in iter_warc_responses(path, stats=stats, max_body=10_000)] == ["http://site.com/ok"]
    assert stats.oversized == 2


def test_body_that_does_not_decode_is_kept_as_stored_and_counted(tmp_path):
    path = warc_fixture(tmp_path / "f.warc.gz", [
        ("http://site.com/liar", HTML + [("Content-Encoding", "gzip")], page(1)),
        ("http://site.com/odd", HTML + [("Content-Encoding", "compress")], b"\x1f\x9d..."),
    ])
    stats = ReadStats()
    assert [r.body for r in iter_warc_responses(path, stats=stats)] == [page(1), b"\x1f\x9d..."]
    assert stats.undecodable == 2


def test_decode_content_caps_every_coding():
    big = b"a" * 100_000
    for encoded, coding in [(gzip.compress(big), "gzip"), (zlib.compress(big), "deflate"),
                            (brotli.compress(big), "br"), (zstd.compress(big), "zstd")]:
        assert decode_content(encoded, coding.upper(), 100_000) == big
        with pytest.raises(ValueError, match="more than 99999 bytes"):
            decode_content(encoded, coding, 99_999)
    assert decode_content(b"plain", None, 10) == decode_content(b"plain", "identity", 10) == b"plain"


def test_expand_paths_takes_comma_separated_paths_and_globs(tmp_path):
    for name in ("b.warc.gz", "a.warc.gz", "c.arc", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.warc.gz").write_bytes(b"")
    spec = f"{tmp_path}/*.warc.gz, {tmp_path}/c.arc,{tmp_path}/a.warc.gz, {tmp_path}/**/d.warc.gz"
    assert expand_paths(spec) == [str(tmp_path / n) for n in ("a.warc.gz", "b.warc.gz", "c.arc", "sub/d.warc.gz")]
    with pytest.raises(FileNotFoundError, match="nothing.warc.gz"):
        expand_paths(f"{tmp_path}/a.warc.gz,{tmp_path}/nothing.warc.gz")
    with pytest.raises(FileNotFoundError, match=r"\*\.cdx"):
        expand_paths(f"{tmp_path}/*.cdx")
    with pytest.raises(FileNotFoundError):
        expand_paths(" , ")


# --- Scrapy extension: a real crawl against a loopback server ------------------------------------------------------


PAGES = {
    "/": b"<html><body><a href='/gz'>gz</a> <a href='/br'>br</a> <a href='/chunked'>c</a> <a href='/old'>old</a>",
    "/gz": page(10),
    "/br": page(11),
    "/chunked": page(12),
    "/check": page(13),
}


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/gz")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = PAGES[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(chunked(body))
            return
        if self.path in ("/", "/gz", "/check"):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        elif self.path == "/br":
            body = brotli.compress(body)
            self.send_header("Content-Encoding", "br")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


CRAWL_SCRIPT = """
import json, sys
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess

base, output_uri, archive_checks, items_path, ids = sys.argv[1:6]

class SiteSpider(Spider):
    name = "site"

    async def start(self):
        yield Request(base + "/")

    async def parse(self, response):
        yield {"url": response.url, "status": response.status, "body": response.text,
               "warc_location": response.meta.get("warc_location")}
        if response.url == base + "/":
            checked = await self.crawler.engine.download_async(Request(base + "/check", meta={"link_check": True}))
            yield {"url": checked.url, "status": checked.status, "body": checked.text,
                   "warc_location": checked.meta.get("warc_location")}
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href)

process = CrawlerProcess({
    "EXTENSIONS": {"crawler.warc.archive.WarcArchive": 500},
    "WARC_ENABLED": True, "OUTPUT_URI": output_uri, "WARC_MAX_SIZE": 1_000_000_000,  # a project sets it (settings.py)
    **({"CRAWL_ID": "c1", "WORKER_ID": "w1"} if ids == "given" else {}),
    "WARC_ARCHIVE_CHECKS": archive_checks == "on",
    "FEEDS": {items_path: {"format": "jsonlines"}},
    "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
})
process.crawl(SiteSpider)
process.start()
"""


def run_crawl(tmp_path: Path, base: str, archive_checks: str, ids: str) -> tuple[Path, list[dict]]:
    script = tmp_path / "crawl.py"
    script.write_text(CRAWL_SCRIPT)
    output_uri, items_path = tmp_path / "data", tmp_path / "items.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, str(script), base, str(output_uri), archive_checks, str(items_path), ids],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    items = [json.loads(line) for line in items_path.read_text().splitlines()]
    return output_uri, items


def test_crawl_archives_every_fetched_response(tmp_path, site):
    output_uri, items = run_crawl(tmp_path, site, "on", "given")

    pages_dir = output_uri / "warc" / "crawl=c1"
    checks_dir = output_uri / "crawldiagnostics" / "crawl=c1"  # link checks are kept apart, as Common Crawl does
    files = sorted(pages_dir.iterdir()) + sorted(checks_dir.iterdir())
    assert files and all(FINAL_NAME.match(path.name) for path in files), "no .open file may remain"
    warcio_check(files)

    by_path = {item["url"].removeprefix(site): item for item in items}
    assert sorted(by_path) == ["/", "/br", "/check", "/chunked", "/gz"]
    for path, item in by_path.items():
        location = item["warc_location"]
        subset = "crawldiagnostics" if path == "/check" else "warc"
        assert location["warc_filename"].startswith(f"{subset}/crawl=c1/")
        warc, http, payload = reopen(output_uri / location["warc_filename"], location["warc_record_offset"],
                                     location["warc_record_length"])
        assert warc.get_header("WARC-Target-URI") == item["url"]
        assert warc.get_header("WARC-IP-Address") == "127.0.0.1"
        assert http.get_header("Content-Encoding") is None
        assert payload == PAGES[path] == item["body"].encode()

    archived = {r.url.removeprefix(site): r for path in files for r in iter_warc_responses(path)}
    assert sorted(archived) == ["/", "/br", "/check", "/chunked", "/gz", "/old"], "the redirect is archived too"
    assert archived["/old"].status == 301 and ("Location", "/gz") in archived["/old"].headers
    assert ("X-Crawler-Content-Encoding", "br") in archived["/br"].headers
    # Twisted removes the chunking and its header; what is stored must not claim a chunked body either way.
    assert not any(name.lower() == "transfer-encoding" for name, _ in archived["/chunked"].headers)
    with open(files[0], "rb") as stream:
        requests = [record.http_headers for record in ArchiveIterator(stream) if record.rec_type == "request"]
    assert all(request.get_header("User-Agent") and request.get_header("Host") for request in requests)


def test_link_checks_are_not_archived_when_switched_off(tmp_path, site):
    """Also without CRAWL_ID / WORKER_ID: the ids then come from crawler.runinfo, as for the Parquet tables."""
    output_uri, items = run_crawl(tmp_path, site, "off", "defaults")
    by_path = {item["url"].removeprefix(site): item for item in items}
    assert by_path["/check"]["warc_location"] is None
    (crawl_dir,) = (output_uri / "warc").iterdir()
    assert re.fullmatch(r"crawl=\d{8}-\d{6}Z", crawl_dir.name)
    assert by_path["/gz"]["warc_location"]["warc_filename"].startswith(f"warc/{crawl_dir.name}/")
    files = sorted(crawl_dir.iterdir())
    crawl = crawl_dir.name.removeprefix("crawl=")
    assert all(re.fullmatch(rf"linkprospector-{crawl}-.+-\d+-\d{{14}}-\d{{5}}\.warc\.gz", f.name) for f in files)
    archived = {r.url.removeprefix(site) for path in files for r in iter_warc_responses(path)}
    assert archived == {"/", "/br", "/chunked", "/gz", "/old"}
