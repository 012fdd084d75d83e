"""Vendor exports as backlinks input (each fixture in tests/fixtures/backlinks/ detected by its header), the
disavow file (read, built, limited), and the per-page risk signals, as plain functions."""

from __future__ import annotations

import codecs
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import lxml.html
import pytest

from crawler.backlinks.disavow import MAX_LINES, Candidate, DisavowError, build_disavow, check_limits, read_disavow
from crawler.backlinks.inputs import InputFileError, read_input
from crawler.backlinks.risk import Thresholds, hidden_by, link_risk, page_language, page_signals, template_hash
from crawler.backlinks.vendors import detect, header_key, sniff_delimiter, sniff_encoding
from tests.crawling import REPO
from tests.records import link_row

FIXTURES = Path(__file__).parent / "fixtures" / "backlinks"
SHOP = "domain:my-garden-shop.com"
TROWEL = "https://my-garden-shop.com/products/trowel"


def expectations(name: str, target: str | None = None) -> list[tuple]:
    entries, errors = read_input(str(FIXTURES / name), target)
    assert not errors, [str(e) for e in errors]
    return [(e["source_url"], x["target"], x["expected_anchor"], x["expected_rel"], x["input_format"])
            for e in entries for x in e["expectations"]]


def test_fixtures_are_the_vendors_encodings():
    assert (FIXTURES / "ahrefs_backlinks.csv").read_bytes().startswith(codecs.BOM_UTF16_LE)
    assert b"\t" not in (FIXTURES / "ahrefs_backlinks.csv").read_bytes()[:2] and \
        "\t" in (FIXTURES / "ahrefs_backlinks.csv").read_bytes().decode("utf-16")
    for name in ("gsc_latest_links_en.csv", "gsc_latest_links_de.csv"):
        assert (FIXTURES / name).read_bytes().startswith(codecs.BOM_UTF8)


def test_ahrefs_utf16_tabs_with_rel_flags_and_repeated_links_kept_once():
    assert expectations("ahrefs_backlinks.csv") == [
        ("https://garden-weekly.com/ten-tools-for-spring", TROWEL, "ergonomic garden trowel", "", "ahrefs"),
        ("https://diy-forum.net/t/which-trowel/4711", TROWEL, "My Garden Shop", "nofollow ugc", "ahrefs"),
        ("https://news.example.org/2026/roundup", "https://my-garden-shop.com/", "my-garden-shop.com", "sponsored",
         "ahrefs"),
    ]
    entries, _ = read_input(str(FIXTURES / "ahrefs_backlinks.csv"))
    kept = entries[2]["expectations"][0]["vendor_columns"]
    assert kept["Lost status"] == "lost" and kept["Drop reason"] == "link removed" and kept["Domain rating"] == "71"
    assert "Anchor" not in kept and "Nofollow" not in kept  # used columns become expectations, not leftovers


def test_semrush_majestic_bing_moz():
    assert expectations("semrush_backlinks.csv")[1] == (
        "https://top10-garden-tools.xyz/best", TROWEL, "buy cheap garden trowel", "sponsored", "semrush")
    assert expectations("majestic_backlinks.csv") == [
        ("https://garden-weekly.com/ten-tools-for-spring", TROWEL, "ergonomic garden trowel", "", "majestic"),
        ("http://www.allotment-diary.co.uk/2026/05/new-trowel/", "https://my-garden-shop.com/", None, "nofollow",
         "majestic"),
    ]
    assert [x[2:] for x in expectations("bing_backlinks.csv")] == [
        ("ergonomic garden trowel", None, "bing"), ("my-garden-shop.com", None, "bing")]  # Bing says nothing of rel
    assert expectations("moz_inbound_links.csv")[1] == (
        "http://diy-forum.net/t/which-trowel/4711", TROWEL, "My Garden Shop", "nofollow ugc", "moz")


@pytest.mark.parametrize("name, sources", [
    ("gsc_latest_links_en.csv", 3), ("gsc_latest_links_de.csv", 2), ("gsc_more_sample_links.csv", 3),
    ("gsc_links_bulk.zip", 3),
])
def test_search_console_exports_take_the_target_given(name, sources):
    found = expectations(name, SHOP)
    assert len(found) == sources and {x[1:] for x in found} == {(SHOP, None, None, "gsc")}
    with pytest.raises(InputFileError, match="names no target.*-a target=domain:your-site.com"):
        read_input(str(FIXTURES / name))


def test_search_console_dates_stay_as_vendor_columns():
    entries, _ = read_input(str(FIXTURES / "gsc_latest_links_en.csv"), SHOP)
    assert entries[0]["expectations"][0]["vendor_columns"] == {"Last crawled": "Sep 15, 2026"}
    entries, _ = read_input(str(FIXTURES / "gsc_latest_links_de.csv"), SHOP)  # ; delimited, German header
    assert entries[0]["expectations"][0]["vendor_columns"] == {"Zuletzt gecrawlt": "2026-09-15"}


@pytest.mark.parametrize("name, message", [
    ("gsc_top_linking_sites.csv", "Search Console's 'Top linking sites' table, counts rather than links: .*Latest links"),
    ("gsc_top_linked_pages.csv", "'Top linked pages' table"),
    ("gsc_counts_only.zip", r"the zip holds Top linking sites.csv \(Top linking sites\), Top linked pages.csv .*"
                            "EXPORT EXTERNAL LINKS"),
    ("unknown_header.csv", "header 'Referrer,Landing page,Clicks' matches no known format; formats known: "
                           r"linkprospector \(source_url,target.*Ahrefs backlinks.*Bing Webmaster Tools"),
])
def test_files_that_list_no_links_are_refused_saying_why(name, message):
    with pytest.raises(InputFileError, match=message):
        read_input(str(FIXTURES / name), SHOP)


def test_header_keys_and_sniffing():
    assert header_key(" Source  URL ") == header_key("SourceURL") == header_key("source_url") == "sourceurl"
    assert detect(["SourceURL", "TargetURL", "AnchorText", "FlagNoFollow"]).name == "majestic"
    assert detect(["Source Url", "Anchor text", "Target Url"]).name == "bing"
    assert sniff_delimiter('"Linking page";"Last crawled"') == ";"
    assert sniff_delimiter('"a,b"\tc') == "\t"
    assert sniff_encoding("Linking page".encode("utf-16-le")) == "utf-16-le"
    assert sniff_encoding(b"source_url,target") == "utf-8-sig"


def test_our_format_still_wins_and_keeps_its_strict_header(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("source_url,target\nhttps://a.com/,https://shop.com/\n", encoding="utf-8")
    entries, _ = read_input(str(path))
    assert entries[0]["expectations"][0].get("input_format") is None  # rows say linkprospector


# --- disavow files
def test_disavow_file_is_read_and_covers_pages_and_subdomains(tmp_path):
    listed = read_disavow(str(FIXTURES / "disavow.txt"))
    assert listed.domains == {"top10-garden-tools.xyz"}
    assert listed.covers("https://www.top10-garden-tools.xyz/any")
    assert listed.covers("https://diy-forum.net/t/which-trowel/4711#x")
    assert not listed.covers("https://diy-forum.net/t/other")
    bad = tmp_path / "bad.txt"
    bad.write_text("domain:ok.com\nnot a url at all\n")
    with pytest.raises(DisavowError, match="line 2: expected a URL"):
        read_disavow(str(bad))


def test_disavow_build_dedupes_merges_and_never_touches_own_or_whitelisted(tmp_path):
    old = tmp_path / "old.txt"
    old.write_text("# old\ndomain:spam.xyz\nhttps://kept.example/p\n")
    white = tmp_path / "white.txt"
    white.write_text("friend.com\n")
    written = build_disavow([
        Candidate("domain", "spam.xyz", (("spam_tld", ".xyz"),)),  # already in the merged file
        Candidate("url", "https://a.spam.xyz/page", (("hidden_link", "display:none"),)),  # covered by its domain
        Candidate("domain", "farm.net", (("shared_template", "t"),)),
        Candidate("domain", "farm.net", (("sitewide_placement", "s"),)),
        Candidate("url", "https://blog.friend.com/x", (("hidden_link", "h"),)),
        Candidate("domain", "example.com", (("spam_tld", "x"),)),  # above our own shop.example.com
        Candidate("url", "https://b.com/" + "x" * 2100, (("hidden_link", "h"),)),
    ], today=date(2026, 9, 15), merge=read_disavow(str(old)), keep_out=read_disavow(str(white)),
        own_domains=["shop.example.com"], header=["made by a test"])
    assert written.lines == ["# old", "domain:spam.xyz", "https://kept.example/p", "", "# made by a test",
                             "# shared_template: t (2026-09-15)", "domain:farm.net"]
    assert [s.split(": ", 1)[1] for s in written.skipped] == [
        "your own domain", "URL longer than 2048 characters (disavow its domain instead)", "whitelisted"]


def test_disavow_limits():
    assert check_limits(["domain:a.com"] * 10) is None
    assert "100,001 lines" in check_limits(["domain:a.com"] * (MAX_LINES + 1))
    assert "bytes" in check_limits(["https://a.com/" + "x" * 2000] * 1100)


# --- risk signals of one page
def tree(html: str):
    return lxml.html.document_fromstring(html)


@pytest.mark.parametrize("html, evidence", [
    ('<div style="DISPLAY: none"><a id="l" href="x">a</a></div>', "style display:none on <div>"),
    ('<p><a id="l" style="font-size:0px" href="x">a</a></p>', "style font-size:0px on <a id=l>"),
    ('<div class="seo box" style="position:absolute;top:-2000px"><a id="l" href="x">a</a></div>',
     "style top:-2000 on <div class=seo>"),
    ('<section hidden><a id="l" href="x">a</a></section>', "hidden attribute on <section>"),
    ('<p style="color:red;opacity:0.5"><a id="l" href="x">a</a></p>', None),
    ('<p style="margin-left:-10px"><a id="l" href="x">a</a></p>', None),
])
def test_hidden_links(html, evidence):
    root = tree(f"<html><body>{html}</body></html>")
    assert hidden_by(root.get_element_by_id("l")) == evidence


def test_page_language_and_template():
    assert page_language(tree('<html lang="pt-BR"><body></body></html>'), {}) == "pt"
    assert page_language(tree("<html><body></body></html>"), {"content-language": "de-DE, en"}) == "de"
    assert page_language(tree("<html><body></body></html>"), {}) is None
    kit = ('<html><body class="a b"><div id="w" class="c"><header class="h"></header><nav class="n"></nav>'
           '<main class="m">{}</main><footer class="f"></footer></div></body></html>')
    assert template_hash(tree(kit.format("<p>one</p>"))) == template_hash(tree(kit.format("<p>two <b>x</b></p>")))
    assert template_hash(tree("<html><body><p>plain</p></body></html>")) is None


def test_link_risk_counts_and_thresholds():
    links = [link_row(target_site=f"s{i % 3}.com", sponsored=i < 2) for i in range(5)]
    signals = page_signals(tree('<html lang="fr"><body></body></html>'), links, {})
    assert (signals.outbound_links, signals.linked_domains, signals.sponsored_links, signals.language) == (5, 3, 2, "fr")
    risk = link_risk("https://spam.top/p", Thresholds(4, 2, 1, ("en",)), signals, meta_robots="noindex",
                     canonical_url="https://other.com/", final_url="https://spam.top/p")
    assert risk.reasons == ["many_outbound_links", "many_linked_domains", "page_noindex", "canonical_elsewhere",
                            "spam_tld", "language_mismatch", "many_sponsored_links"]
    assert risk.evidence["page_noindex"] == "meta robots 'noindex'"
    assert link_risk("https://fine.com/", Thresholds(4, 2, 1), signals).reasons == ["many_outbound_links",
                                                                                     "many_linked_domains",
                                                                                     "many_sponsored_links"]
    assert link_risk("https://x.xyz/", Thresholds(4, 2, 1)).reasons == ["spam_tld"]  # page not read: URL only


# --- the crawl command refuses bad vendor input in one line
@pytest.mark.parametrize("args, message", [
    (["-a", f"input={FIXTURES / 'unknown_header.csv'}"], "matches no known format"),
    (["-a", f"input={FIXTURES / 'gsc_latest_links_en.csv'}"], "names no target"),
    (["-a", f"input={FIXTURES / 'ahrefs_backlinks.csv'}", "-a", f"exclude={FIXTURES / 'unknown_header.csv'}"],
     "exclude=.*line 1: expected a URL"),
])
def test_crawl_refuses_bad_vendor_input_in_one_line(args, message):
    cli = str(Path(sys.executable).parent / "linkprospector")
    proc = subprocess.run([cli, "crawl", "backlinks", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert re.search(message, lines[0]), lines[0]
    assert lines[0].startswith("crawl: error: -a ")
