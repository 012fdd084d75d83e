"""Outreach end to end (issue 15, parts 3 and 4): two crawls of the outreach web (``demo/outreachweb.py``), the
resources dying in between; whom to write to (the contacts table, the reports, the BuzzStream and Pitchbox lists)
and the dead resources recovered from our own WARC files and from a local pywb serving WARC files the test writes.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime

import pytest

from crawler.urls import normalize_url
from demo.outreachweb import (
    BALCONY,
    EMAIL,
    GUIDE_PARAGRAPHS,
    GUIDE_TITLE,
    GUIDES,
    NEVER,
    NEVER_PARAGRAPHS,
    NEVER_TITLE,
    SOIL_PARAGRAPHS,
    SOIL_TITLE,
    TOOLS,
    VEG,
    OutreachWeb,
    resource_page,
)
from tests.conftest import free_port
from tests.crawling import REPO, run_crawl


@pytest.fixture(scope="module")
def web():
    with OutreachWeb() as w:
        yield w


@pytest.fixture(scope="module")
def lake(web, tmp_path_factory):
    """Crawl 1 while the resources live (dead-guides.com crawled as a site too), crawl 2 after they died."""
    out = tmp_path_factory.mktemp("outreach")
    web.version = 1
    first = run_crawl("prospects", out, web, {"seeds": ",".join([*web.seeds, web.url(GUIDES)])},
                      {"CRAWL_ID": "c1", "WARC_ENABLED": "True"})
    assert first.returncode == 0, first.log[-3000:]
    web.version = 2
    # every target asked again: a resource that was ok in crawl 1 would otherwise be carried (CHECK_MAX_AGE)
    second = run_crawl("prospects", out, web, {"seeds": ",".join(web.seeds)}, {"CRAWL_ID": "c2", "CHECK_MAX_AGE": "0"})
    assert second.returncode == 0, second.log[-3000:]
    return second


def scrapy(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def read_csv(path) -> list[dict]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(path.open(encoding="utf-8-sig")))


def test_the_crawl_collects_each_sites_contact_points(lake, web):
    rows = [r for r in lake.table("contacts") if r["crawl"] == "c2"]
    got = {(r["site"], r["kind"], r["value"], r["network"]) for r in rows}
    assert got == {
        (VEG, "email", EMAIL, None),
        (VEG, "contact_page", normalize_url(web.url(VEG, "/kontakt")), None),
        (VEG, "about_page", normalize_url(web.url(VEG, "/ueber-uns/")), None),
        (VEG, "social", "https://twitter.com/vegpatch", "twitter"),
        (VEG, "social", "https://www.facebook.com/vegetablepatch", "facebook"),
        (BALCONY, "contact_page", normalize_url(web.url(BALCONY, "/contact-us/")), None),
        (BALCONY, "social", "https://www.linkedin.com/company/balcony-garden", "linkedin"),
    }  # the share button is no profile
    assert all(r["source_url"].startswith(f"http://{r['site']}:") and r["fetched_at"] for r in rows)
    assert lake.stats["links/skipped/mailto"] >= 1  # mailto: is still no crawl target


def test_prospects_name_the_referring_sites_contacts(lake, web):
    from crawler.reports.prospects import prospects

    crawl, table = prospects(lake.out)
    assert crawl == "c2"
    rows = {r["url"]: r for r in table.to_pylist()}
    guide = rows[normalize_url(web.url(GUIDES, "/composting"))]
    assert guide["referring_domains"] == 2 and guide["contact_sites"] == 2
    assert guide["referring_contacts"] == [f"{BALCONY}: {normalize_url(web.url(BALCONY, '/contact-us/'))}",
                                           f"{VEG}: {EMAIL}"]  # an email first, else the contact page
    never = rows[normalize_url(web.url(NEVER, "/gone"))]
    assert never["referring_contacts"] == [f"{VEG}: {EMAIL}"]


def test_a_crawl_without_a_contacts_table_still_reports(lake, tmp_path):
    """Lakes written before the contacts table existed: the reports run, their contact columns stay empty."""
    from crawler.reports.exports import broken_links
    from crawler.reports.prospects import prospects

    old = tmp_path / "old"
    for table in ("pages", "links", "checks"):
        shutil.copytree(lake.out / table / "crawl=c2", old / table / "crawl=c2")
    rows = prospects(old)[1].to_pylist()
    assert rows and all(r["contact_sites"] == 0 and r["referring_contacts"] == [] for r in rows)
    links = broken_links(old)[1].to_pylist()
    assert links and all(r["site_emails"] == [] and r["site_contact_page"] is None for r in links)


def test_broken_links_export_names_whom_to_write_to(lake, web, tmp_path):
    path = tmp_path / "broken.csv"
    proc = scrapy("export", str(lake.out), "broken-links", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    rows = read_csv(path)
    veg = [r for r in rows if r["source_site"] == VEG]
    balcony = [r for r in rows if r["source_site"] == BALCONY]
    assert len(veg) == 3 and len(balcony) == 2
    assert {r["site_emails"] for r in veg} == {EMAIL}
    assert {r["site_contact_page"] for r in veg} == {normalize_url(web.url(VEG, "/kontakt"))}
    assert {r["site_profiles"] for r in veg} == {"https://www.facebook.com/vegetablepatch | https://twitter.com/vegpatch"}
    assert {(r["site_emails"], r["site_contact_page"]) for r in balcony} == {
        ("", normalize_url(web.url(BALCONY, "/contact-us/")))}


def test_buzzstream_and_pitchbox_lists(lake, web, tmp_path):
    from crawler.reports.outreach import BUZZSTREAM_COLUMNS, PITCHBOX_COLUMNS

    buzz, pitch = tmp_path / "buzzstream.csv", tmp_path / "pitchbox.csv"
    for kind, path in (("buzzstream", buzz), ("pitchbox", pitch)):
        proc = scrapy("export", str(lake.out), kind, "-o", str(path))
        assert proc.returncode == 0, proc.stderr
    partners = read_csv(buzz)
    assert list(partners[0]) == BUZZSTREAM_COLUMNS
    assert [p["Name"] for p in partners] == [VEG, BALCONY]  # the most broken links first
    veg, balcony = partners
    assert (veg["Website"], veg["Email"], veg["Twitter"], veg["Facebook"], veg["LinkedIn"]) == (
        web.url(VEG, "/"), EMAIL, "https://twitter.com/vegpatch", "https://www.facebook.com/vegetablepatch", "")
    assert veg["Contact Form"] == normalize_url(web.url(VEG, "/kontakt"))
    assert normalize_url(web.url(GUIDES, "/composting")) in veg["Notes"] and "404" in veg["Notes"]
    assert (balcony["Email"], balcony["LinkedIn"]) == ("", "https://www.linkedin.com/company/balcony-garden")
    opportunities = read_csv(pitch)
    assert list(opportunities[0]) == PITCHBOX_COLUMNS
    by_url = {o["URL"]: o for o in opportunities}
    assert set(by_url) == {normalize_url(web.url(VEG, "/compost.html")), normalize_url(web.url(BALCONY, "/soil.html"))}
    compost = by_url[normalize_url(web.url(VEG, "/compost.html"))]
    assert compost["Email"] == EMAIL and (compost["First Name"], compost["Last Name"]) == ("", "")
    assert compost["Broken Link"] == normalize_url(web.url(GUIDES, "/composting"))
    assert compost["Anchor Text"] == "the complete composting guide"
    assert "read the complete composting guide and start a heap" in compost["Quote"]
    assert normalize_url(web.url(TOOLS, "/soil-ph")) in compost["Notes"]  # the page's other dead links


def recover(lake, tmp_path, *options: str, name: str = "recovered.csv") -> tuple[subprocess.CompletedProcess, dict]:
    path = tmp_path / name
    proc = scrapy("recover", str(lake.out), "-o", str(path), *options)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, {r["url"]: r for r in read_csv(path)}


def test_dead_resources_are_recovered_from_our_own_warc_files(lake, web, tmp_path):
    proc, rows = recover(lake, tmp_path, "--lake-only")
    assert "3 dead resources: 2 copies from our lake, 0 from the archive, 1 without a copy" in proc.stdout
    guide = rows[normalize_url(web.url(GUIDES, "/composting"))]
    assert (guide["recovered_from"], guide["title"]) == ("lake", GUIDE_TITLE)
    assert guide["text"] == "\n\n".join(GUIDE_PARAGRAPHS)  # the article's paragraphs: no menu, byline or footer
    assert guide["warc_filename"].startswith("warc/crawl=c1/")  # the page, as crawled in the first crawl
    soil = rows[normalize_url(web.url(TOOLS, "/soil-ph"))]
    assert (soil["recovered_from"], soil["title"], soil["text"]) == ("lake", SOIL_TITLE, "\n\n".join(SOIL_PARAGRAPHS))
    assert soil["warc_filename"].startswith("crawldiagnostics/crawl=c1/")  # only ever link-checked
    for row in (guide, soil):
        data = (lake.out / row["warc_filename"]).read_bytes()
        offset, length = int(row["warc_record_offset"]), int(row["warc_record_length"])
        from crawler.warc.reader import read_record

        assert read_record(data[offset:offset + length]).status == 200  # the three columns locate the record
        assert row["captured_at"].startswith(str(datetime.now(UTC).year))
    never = rows[normalize_url(web.url(NEVER, "/gone"))]
    assert never["recovered_from"] == "" and "not asked" in never["note"]


# --- a local pywb as the web archive ---------------------------------------------------------------------------------

PYWB_TIMESTAMPS = {"20190301120000": 200, "20200501000000": 200, "20230501000000": 404}


@pytest.fixture(scope="module")
def pywb(web, tmp_path_factory):
    """pywb on 127.0.0.1 serving a WARC file written here: three captures of never-archived.org/gone (two good
    ones, then a 404). pywb pins old redis/fakeredis, so it gets its own venv (PYWB_VENV names a ready one)."""
    root = tmp_path_factory.mktemp("pywb")
    venv = os.environ.get("PYWB_VENV") or str(root / "venv")
    bin_dir = os.path.join(venv, "bin")
    if not os.path.exists(os.path.join(bin_dir, "wayback")):
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
            subprocess.run([os.path.join(bin_dir, "pip"), "install", "-q", "pywb"], check=True, capture_output=True,
                           timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            pytest.skip(f"pywb could not be installed in its own venv ({exc}; {detail.decode()[-300:]}): "
                        "the archive half of recovery is not tested here")
    from crawler.warc.writer import RollingWarcWriter

    url = web.url(NEVER, "/gone")
    with RollingWarcWriter(root / "warcs", prefix="archive", warcinfo={}) as writer:
        for stamp, status in PYWB_TIMESTAMPS.items():
            title = NEVER_TITLE if stamp == "20200501000000" else "An older draft"
            body = resource_page(title, NEVER_PARAGRAPHS) if status == 200 else b"<h1>Not found</h1>"
            writer.write_exchange(url, request_method="GET", request_headers=[], status=status, reason="",
                                  response_headers=[("Content-Type", "text/html; charset=utf-8")], body=body,
                                  fetch_time=datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC))
    collections = root / "archive"
    collections.mkdir()
    for step in (["init", "coll"], ["add", "coll", *map(str, sorted((root / "warcs").glob("*.warc.gz")))]):
        subprocess.run([os.path.join(bin_dir, "wb-manager"), *step], cwd=collections, check=True, capture_output=True,
                       timeout=120)
    port = free_port()
    log = open(root / "pywb.log", "wb")
    proc = subprocess.Popen([os.path.join(bin_dir, "wayback"), "-p", str(port), "-b", "127.0.0.1"], cwd=collections,
                            stdout=log, stderr=subprocess.STDOUT)
    cdx = f"http://127.0.0.1:{port}/coll/cdx"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{cdx}?url=example.com", timeout=2)
            break
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP answer: it is up
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"pywb did not start: {(root / 'pywb.log').read_text()[-2000:]}")
            time.sleep(0.2)
    yield cdx
    proc.terminate()
    proc.wait(10)
    log.close()


def test_a_resource_our_lake_never_saw_comes_from_the_archive(lake, web, pywb, tmp_path):
    proc, rows = recover(lake, tmp_path, "-s", f"WAYBACK_CDX_URL={pywb}", "-s", "ALLOWED_NETWORKS=127.0.0.1",
                         "-s", "WAYBACK_DELAY=0.1")
    never = rows[normalize_url(web.url(NEVER, "/gone"))]
    assert (never["recovered_from"], never["timestamp"]) == ("archive", "20200501000000")  # the newest good one
    assert never["archived_url"] == pywb[: -len("cdx")] + "20200501000000id_/" + web.url(NEVER, "/gone")
    assert (never["title"], never["text"]) == (NEVER_TITLE, "\n\n".join(NEVER_PARAGRAPHS))
    assert never["captured_at"].startswith("2020-05-01")
    assert rows[normalize_url(web.url(GUIDES, "/composting"))]["recovered_from"] == "lake"  # the lake first
    # pywb ignores the Wayback Machine's limit=-N: one empty answer, then sort=reverse, then the capture itself
    assert "2 copies from our lake, 1 from the archive, 0 without a copy, 3 requests to the archive" in proc.stdout


def test_the_archive_is_reached_only_through_the_address_guard(lake, web, pywb, tmp_path):
    proc, rows = recover(lake, tmp_path, "-s", f"WAYBACK_CDX_URL={pywb}", "-s", "WAYBACK_DELAY=0", name="guarded.csv")
    never = rows[normalize_url(web.url(NEVER, "/gone"))]
    assert never["recovered_from"] == "" and "127.0.0.1" in never["note"] and "loopback" in never["note"]
    assert "0 requests to the archive" in proc.stdout
