"""The toxic-link audit end to end: an Ahrefs export (UTF-16 LE, tabs) of the hermetic toxic web
(``demo/toxicweb.py``) crawled by the backlinks spider with a disavow file as ``-a exclude=``, then ``scrapy toxic``
and ``scrapy disavow`` over the lake, checked against the web's ground truth."""

from __future__ import annotations

import codecs
import csv
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crawler.backlinks.riskwords import PAGE_REASONS
from crawler.urls import normalize_url
from demo.toxicweb import CLEAN, DEALS, FOOTER, HIDDEN, SETTINGS, SPAM_TLD, ToxicWeb
from tests.crawling import REPO, run_crawl

AHREFS_HEADER = ["Referring page title", "Referring page URL", "Domain rating", "Target URL", "Anchor", "Nofollow",
                 "UGC", "Sponsored", "First seen", "Last seen"]
EXCLUDED = "excluded-site.com"


@pytest.fixture(scope="module")
def web():
    with ToxicWeb() as w:
        yield w


def ahrefs_export(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, delimiter="\t", quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([AHREFS_HEADER, *rows])
    path.write_bytes(codecs.BOM_UTF16_LE + out.getvalue().encode("utf-16-le"))
    return path


def scrapy(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def crawl(web, tmp_path_factory):
    out = tmp_path_factory.mktemp("toxic")
    rows = [["A page", url, "12", web.trowel, "", "false", "false", "false", "2026-01-02", "2026-09-01"]
            for url in web.cases]
    rows.append(["Excluded", web.url(EXCLUDED, "/spam.html"), "1", web.trowel, "", "false", "false", "false", "", ""])
    export = ahrefs_export(out / "backlinks-export.csv", rows)  # the name says nothing: the header does
    disavowed = out / "disavow-old.txt"
    disavowed.write_text(f"# uploaded last year\ndomain:{EXCLUDED}\nhttp://old-spam.example/page\n", encoding="utf-8")
    result = run_crawl("backlinks", out, web, {"input": export, "exclude": disavowed}, {"CRAWL_ID": "audit", **SETTINGS})
    assert result.returncode == 0, result.log[-3000:]
    result.rows = {r["source_url"]: r for r in result.table("backlinks")}
    result.disavowed = disavowed
    return result


def test_vendor_rows_keep_their_format_and_columns_and_the_disavowed_page_is_skipped(crawl, web):
    assert set(crawl.rows) == {normalize_url(u) for u in web.cases}
    assert crawl.stats["input/excluded"] == 1
    row = crawl.rows[normalize_url(web.url(CLEAN, "/review.html"))]
    assert row["input_format"] == "ahrefs" and row["link_state"] == "live"
    assert dict(row["vendor_columns"]) == {"Referring page title": "A page", "Domain rating": "12",
                                           "First seen": "2026-01-02", "Last seen": "2026-09-01"}
    assert row["expected_rel"] == ""  # Ahrefs said followed


def test_page_reasons_are_columns_of_the_backlinks_rows(crawl, web):
    got = {url: set(row["risk_reasons"]) for url, row in crawl.rows.items()}
    want = {normalize_url(url): set(reasons) & set(PAGE_REASONS) for url, reasons in web.cases.items()}
    assert got == want
    evidence = {url: dict(row["risk_evidence"]) for url, row in crawl.rows.items()}
    assert evidence[normalize_url(web.url(HIDDEN, "/css.html"))]["hidden_link"] == "style display:none on <div>"
    assert evidence[normalize_url(web.url(HIDDEN, "/offscreen.html"))]["hidden_link"] == "style left:-9999 on <span>"
    assert evidence[normalize_url(web.url(HIDDEN, "/attribute.html"))]["hidden_link"] == "hidden attribute on <p>"
    farm = crawl.rows[normalize_url(web.url("link-farm.net", "/directory.html"))]
    assert (farm["outbound_links"], farm["linked_domains"]) == (150, 121)
    assert evidence[normalize_url(web.url(SPAM_TLD, "/best.html"))]["spam_tld"] == "the linking site is under .xyz"
    russian = crawl.rows[normalize_url(web.url("russian-garden.ru", "/obzor.html"))]
    assert russian["page_language"] == "ru" and russian["risk_evidence"]
    hashes = {crawl.rows[normalize_url(web.url(host, "/best-trowels.html"))]["template_hash"] for host in DEALS}
    assert len(hashes) == 1 and None not in hashes
    assert crawl.rows[normalize_url(web.url(CLEAN, "/review.html"))]["template_hash"] is None  # too plain a page


def test_toxic_report_gives_every_reason_with_evidence(crawl, web, tmp_path):
    csv_path = tmp_path / "toxic.csv"
    proc = scrapy("toxic", str(crawl.out), "--csv", str(csv_path))
    assert proc.returncode == 0, proc.stderr
    assert "backlinks crawl audit: " in proc.stdout
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8-sig")))
    got: dict[str, set] = {normalize_url(u): set() for u in web.cases}
    for row in rows:
        got[row["source_url"]].add(row["reason"])
        assert row["evidence"], row
    assert got == {normalize_url(u): set(r) for u, r in web.cases.items()}
    by_reason = {(r["reason"], r["source_url"]): r for r in rows}
    footer = by_reason[("sitewide_placement", normalize_url(web.url(FOOTER, "/page-1.html")))]
    assert footer["evidence"] == f"your link in the footer of 3 listed pages of {FOOTER}" and footer["scope"] == "site"
    anchor = by_reason[("commercial_anchor", normalize_url(web.url(DEALS[0], "/best-trowels.html")))]
    assert anchor["evidence"] == "anchor 'Buy cheap garden trowel' from 3 linking sites" and anchor["scope"] == "page"
    template = by_reason[("shared_template", normalize_url(web.url(DEALS[1], "/best-trowels.html")))]
    assert template["evidence"].endswith(f"shared by 3 linking sites: {', '.join(DEALS)}")


def test_disavow_file_from_the_audit(crawl, web, tmp_path):
    whitelist = tmp_path / "whitelist.txt"
    whitelist.write_text("# partners we trust\nsponsored-hub.com\n", encoding="utf-8")
    output = tmp_path / "disavow.txt"
    proc = scrapy("disavow", str(crawl.out), "--reasons", "all", "-o", str(output), "--merge", str(crawl.disavowed),
                  "--whitelist", str(whitelist), "--own-domain", "noindex-pages.com")
    assert proc.returncode == 0, proc.stderr
    text = output.read_text(encoding="utf-8")
    print(text)
    lines = text.splitlines()
    assert lines[:3] == crawl.disavowed.read_text().splitlines()  # the merged file first, every line kept
    entries = [line for line in lines if line and not line.startswith("#")]
    assert len(entries) == len(set(entries))
    port = web.port
    assert sorted(entries) == sorted([
        f"domain:{EXCLUDED}", "http://old-spam.example/page",  # merged
        f"domain:{FOOTER}", f"domain:{SPAM_TLD}", *(f"domain:{host}" for host in DEALS),  # site reasons
        *(normalize_url(web.url(HIDDEN, p)) for p in ("/css.html", "/offscreen.html", "/attribute.html")),
        normalize_url(web.url("link-farm.net", "/directory.html")),
        normalize_url(web.url("russian-garden.ru", "/obzor.html")),
    ]), text
    assert f":{port}/" in text
    assert not any("noindex-pages.com" in e or "sponsored-hub.com" in e or "my-garden-shop.com" in e for e in entries)
    today = date.today().isoformat()
    i = lines.index(f"domain:{SPAM_TLD}")
    assert lines[i - 1] == f"# spam_tld: the linking site is under .xyz ({today})"
    assert "left out: sponsored-hub.com" not in proc.stdout  # URL candidates carry the URL
    assert "whitelisted" in proc.stdout and "your own domain" in proc.stdout

    again = scrapy("disavow", str(crawl.out), "--reasons", "hidden_link,nonsense", "-o", str(output))
    assert again.returncode == 2 and "unknown nonsense" in again.stderr
