"""Backlink verification as plain functions: targets, the input reader, robots directives, the state decision,
the rows, and the diff query over small hand-written Parquet lakes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError, IgnoreRequest

from crawler.backlinks.decide import (
    DEGRADED,
    LIVE,
    LOST,
    UNVERIFIED,
    SourcePage,
    best_link,
    decide,
    failure_decision,
    status_decision,
)
from crawler.backlinks.inputs import InputFileError, parse_expected_rel, read_input
from crawler.backlinks.robots import directives, is_nofollow_page, is_noindex
from crawler.backlinks.rows import BacklinksItem, backlink_row
from crawler.backlinks.targets import parse_target
from crawler.dns import NXDomainError
from crawler.lake import LocalLake
from crawler.reports.backlinks_diff import CHANGES, EXACT, backlinks_diff, crawl_order
from crawler.reports.lake import LakeError, connect, table_glob
from pipelines.parquet import PartWriter
from schemas import schema_for
from tests.records import link_row


# --- targets
def test_exact_targets_compare_normalized():
    target = parse_target("HTTP://Shop.Example.com:80/Products/Trowel#reviews")
    assert target.spec == "http://shop.example.com/Products/Trowel"
    assert target.matches("http://shop.example.com/Products/Trowel")
    assert not target.matches("http://shop.example.com/Products/Trowel?ref=1")
    assert not target.matches("https://shop.example.com/Products/Trowel")


def test_domain_targets_take_subdomains_and_any_port_but_not_lookalikes():
    target = parse_target("domain:Example.com")
    assert target.spec == "domain:example.com"
    for url in ("http://example.com/", "https://www.example.com:8443/a", "http://a.b.example.com/x"):
        assert target.matches(url), url
    for url in ("http://notexample.com/", "http://example.com.evil.net/", "http://example.org/"):
        assert not target.matches(url), url
    assert not parse_target("domain:shop.example.com").matches("http://example.com/")


def test_prefix_targets():
    target = parse_target("https://example.com/blog/*")
    assert target.spec == "https://example.com/blog/*"
    assert target.matches("https://example.com/blog/pruning-roses")
    assert not target.matches("https://example.com/blogroll")
    assert parse_target("http://Example.com*").matches("http://example.com/anything")


@pytest.mark.parametrize("text", ["", "example.com/page", "domain:", "domain:example.com/path", "ftp://example.com/x",
                                  "http://exa mple.com/", "mailto:me@example.com", "domain:-bad-.com"])
def test_bad_targets_say_why(text):
    with pytest.raises(ValueError):
        parse_target(text)


# --- input
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_rows_are_grouped_per_source_page_with_their_lines(tmp_path):
    path = write(tmp_path, "in.csv", (
        "\ufeffsource_url,target,expected_anchor,expected_rel\n"  # Excel's BOM
        "https://blog.example.org/post,https://shop.com/trowel,  Garden   Trowel ,follow\n"
        "https://BLOG.example.org/post#top,domain:shop.com,,\n"
        "\n"
        "https://other.example.net/,https://shop.com/blog/*,,nofollow Sponsored\n"
    ))
    entries, errors = read_input(path)
    assert errors == []
    assert entries == [
        {"source_url": "https://blog.example.org/post", "expectations": [
            {"line": 2, "target": "https://shop.com/trowel", "expected_anchor": "Garden Trowel", "expected_rel": ""},
            {"line": 3, "target": "domain:shop.com", "expected_anchor": None, "expected_rel": None}]},
        {"source_url": "https://other.example.net/", "expectations": [
            {"line": 5, "target": "https://shop.com/blog/*", "expected_anchor": None, "expected_rel": "nofollow sponsored"}]},
    ]
    assert json.loads(json.dumps(entries)) == entries  # what `scrapy seed` pushes to Redis


def test_bad_csv_rows_are_reported_with_line_numbers_and_the_rest_kept(tmp_path):
    long_url = "https://a.com/" + "x" * 5000
    path = write(tmp_path, "in.csv", "\n".join([
        "source_url,target,expected_rel",
        "https://a.com/ok,https://shop.com/",
        "not a url,https://shop.com/",
        "https://a.com/x",
        "https://a.com/y,shop.com/no-scheme",
        "https://a.com/z,https://shop.com/,nofolow",
        "https://A.com/ok,https://shop.com:443/,",
        '"https://a.com/multi",https://shop.com/,"follow',
        'sponsored"',
        "https://a.com/cols,https://shop.com/,,extra",
        f"{long_url},https://shop.com/",
        "https://a.com/last,https://shop.com/",
    ]) + "\n")
    entries, errors = read_input(path)
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (3, "source_url"),
        (4, "missing column target"),
        (5, "target"),
        (6, "unknown rel token(s) nofolow (expected nofollow, sponsored, ugc or follow)"),
        (7, "duplicate of line 2"),  # the same page and target once normalized
        (8, "expected_rel says both follow and sponsored"),
        (10, "4 columns, the header has 3"),
        (11, "source_url is longer than 4096 characters"),
    ]
    assert "input line 3" in str(errors[0])
    assert [e["source_url"] for e in entries] == ["https://a.com/ok", "https://a.com/last"]


@pytest.mark.parametrize("header, message", [
    ("source_url,expected_anchor", "missing target"),
    ("source_url,target,expected_anchr", "unknown column(s) expected_anchr"),
    ("source_url,target,target", "repeated columns"),
])
def test_a_header_we_cannot_trust_stops_the_file(tmp_path, header, message):
    path = write(tmp_path, "in.csv", header + "\nhttps://a.com/,https://shop.com/\n")
    with pytest.raises(InputFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_input(path)


def test_missing_or_empty_input_file(tmp_path):
    with pytest.raises(InputFileError, match="is not a file"):
        read_input(str(tmp_path / "nope.csv"))
    with pytest.raises(InputFileError, match="empty"):
        read_input(write(tmp_path, "empty.csv", "\n\n"))


def test_jsonl_input(tmp_path):
    path = write(tmp_path, "in.txt", "\n".join([
        json.dumps({"source_url": "https://a.com/p", "target": "domain:shop.com", "expected_anchor": "Shop"}),
        "{not json",
        "[1, 2]",
        json.dumps({"source_url": "https://a.com/p"}),
        json.dumps({"source_url": "https://a.com/p", "target": "https://shop.com/", "note": "x"}),
        json.dumps({"source_url": "https://a.com/p", "target": 42}),
        "",
        json.dumps({"source_url": "https://b.com/", "target": "https://shop.com/", "expected_rel": None}),
    ]) + "\n")
    entries, errors = read_input(path)  # sniffed: the first character is "{"
    assert [(e.line, e.message.split(" (")[0]) for e in errors] == [
        (2, "not JSON"), (3, "not a JSON object"), (4, "missing column target"), (5, "unknown key(s) note"),
        (6, "target must be a string"),
    ]
    assert [(e["source_url"], [x["line"] for x in e["expectations"]]) for e in entries] == [
        ("https://a.com/p", [1]), ("https://b.com/", [8])]


def test_expected_rel_keeps_the_tokens_that_weigh():
    assert parse_expected_rel("noopener NOFOLLOW, ugc") == "nofollow ugc"
    assert parse_expected_rel("dofollow") == parse_expected_rel("follow noreferrer") == ""


# --- robots directives
def test_robots_directives_from_meta_and_headers():
    assert is_noindex("noindex, follow")
    assert is_noindex(None, ["noindex"])
    assert is_noindex(None, ["googlebot: noindex"])
    assert not is_noindex(None, ["otherbot: noindex, nofollow"])
    assert not is_noindex(None, ["otherbot: noindex", "nofollow"]) and is_nofollow_page(None, ["otherbot: noindex", "nofollow"])
    assert is_noindex("none") and is_nofollow_page("none")
    assert not is_noindex(None, ["unavailable_after: 25 Jun 2030 15:00:00 PST"])
    assert "unavailable_after: 25 jun 2030 15:00:00 pst" in directives(None, ["unavailable_after: 25 Jun 2030 15:00:00 PST"])
    assert not is_noindex("index, follow", ["noarchive"])


# --- decisions
PAGE = SourcePage(url="https://blog.com/post", final_url="https://blog.com/post", http_status=200)
NO_EXPECTATION = {"line": 2, "target": "https://shop.com/", "expected_anchor": None, "expected_rel": None}


def link(ordinal=0, rel=(), anchor="Garden shop", region="content", in_main=True, url="https://shop.com/",
         confidence=0.875):
    return link_row(source_url=PAGE.url, source_site="blog.com", target_url=url, target_host="shop.com",
                    target_site="shop.com", anchor_text=anchor, rel=list(rel), nofollow="nofollow" in rel,
                    sponsored="sponsored" in rel, ugc="ugc" in rel, ordinal=ordinal, region=region,
                    in_main_content=in_main, region_confidence=confidence, xpath=f"/html/body/a[{ordinal + 1}]",
                    text_before="before", text_after="after")


def expect(**kwargs):
    return {**NO_EXPECTATION, **kwargs}


def test_a_followed_link_on_an_indexable_page_is_live():
    decision = decide(NO_EXPECTATION, PAGE, [link()])
    assert (decision.state, decision.reason, decision.flags, decision.matches) == (LIVE, None, (), 1)
    self_canonical = replace(PAGE, canonical_url=PAGE.final_url)
    assert decide(NO_EXPECTATION, self_canonical, [link()]).state == LIVE
    redirected = replace(PAGE, final_url="https://blog.com/2024/post", redirect_chain=("https://blog.com/2024/post",))
    assert decide(NO_EXPECTATION, redirected, [link()]).state == LIVE


@pytest.mark.parametrize("rel, expectation, page_robots, flags", [
    (["nofollow"], {}, None, ("nofollow",)),
    (["sponsored"], {"expected_rel": "sponsored"}, None, ("sponsored",)),
    (["ugc", "nofollow"], {}, None, ("nofollow", "ugc")),
    ([], {}, "nofollow", ("page_nofollow",)),
    (["nofollow"], {}, "nofollow", ("nofollow",)),
    ([], {"expected_anchor": "Best trowels"}, None, ("anchor_changed",)),
    ([], {"expected_rel": "nofollow"}, None, ("rel_changed",)),
    (["nofollow", "noopener"], {"expected_rel": ""}, None, ("nofollow", "rel_changed")),
])
def test_what_weakens_a_link_that_is_there(rel, expectation, page_robots, flags):
    page = replace(PAGE, meta_robots=page_robots)
    decision = decide(expect(**expectation), page, [link(rel=rel)])
    assert (decision.state, decision.reason, decision.flags) == (DEGRADED, None, flags)


def test_anchor_comparison_ignores_case_and_whitespace_runs():
    decision = decide(expect(expected_anchor="garden  SHOP"), PAGE, [link(anchor="Garden shop")])
    assert decision.state == LIVE


@pytest.mark.parametrize("changes, reason", [
    ({"meta_robots": "noindex"}, "noindex"),
    ({"x_robots_tags": ("noindex, nofollow",)}, "noindex"),
    ({"canonical_url": "https://syndication.com/original"}, "canonical_elsewhere"),
])
def test_a_link_on_a_page_search_engines_drop_is_lost(changes, reason):
    page = replace(PAGE, **changes)
    decision = decide(NO_EXPECTATION, page, [link(rel=["nofollow"])])
    assert (decision.state, decision.reason) == (LOST, reason)
    assert decision.flags == ("nofollow",) and decision.link.target_url == "https://shop.com/"  # still described


def test_a_missing_link_is_lost_and_says_why():
    assert decide(NO_EXPECTATION, PAGE, []).reason == "link_removed"
    redirected = replace(PAGE, redirect_chain=("https://blog.com/",), final_url="https://blog.com/")
    assert decide(NO_EXPECTATION, redirected, []).reason == "page_redirected"
    soft_404 = replace(PAGE, title="Page not found | Blog")
    assert decide(NO_EXPECTATION, soft_404, []).reason == "page_not_found"
    assert decide(NO_EXPECTATION, soft_404, [link()]).state == LIVE  # the link is there: the title does not matter
    assert all(d.state == LOST and d.link is None and d.matches == 0
               for d in (decide(NO_EXPECTATION, p, []) for p in (PAGE, redirected, soft_404)))


def test_the_best_of_several_matching_links_is_described():
    footer = link(0, rel=["nofollow"], anchor="Shop", region="footer", in_main=False)
    sidebar = link(1, anchor="Shop", region="sidebar", in_main=False)
    tag_line = link(2, rel=["nofollow"], anchor="tags", region="content", in_main=False)
    article_nofollow = link(3, rel=["nofollow"], anchor="a nofollow mention")
    article = link(4, anchor="our favourite garden shop")
    article_again = link(5, anchor="Garden shop")
    links = [footer, sidebar, tag_line, article_nofollow, article, article_again]
    assert best_link(links, NO_EXPECTATION) is article  # main content, followed, first
    assert best_link(links, expect(expected_anchor="garden shop")) is article_again  # the expected anchor wins a tie
    assert best_link([footer, sidebar, tag_line], NO_EXPECTATION) is tag_line  # content region before boilerplate
    assert best_link([footer, sidebar], NO_EXPECTATION) is sidebar  # followed before nofollow
    decision = decide(NO_EXPECTATION, PAGE, links)
    assert (decision.state, decision.matches, decision.link) == (LIVE, 6, article)


@pytest.mark.parametrize("status, headers, outcome", [
    (404, {}, (LOST, "page_not_found")),
    (400, {}, (LOST, "page_not_found")),
    (410, {}, (LOST, "page_gone")),
    (500, {}, (UNVERIFIED, "page_error")),
    (503, {"cf-mitigated": "challenge"}, (UNVERIFIED, "blocked")),
    (403, {}, (UNVERIFIED, "blocked")),
    (999, {}, (UNVERIFIED, "blocked")),
    (429, {}, (UNVERIFIED, "rate_limited")),
])
def test_statuses(status, headers, outcome):
    decision = status_decision(status, headers)
    assert (decision.state, decision.reason) == outcome
    assert status_decision(200, {}) is None and status_decision(204, {}) is None


@pytest.mark.parametrize("exc, outcome", [
    (IgnoreRequest("Forbidden by robots.txt"), (UNVERIFIED, "robots_disallowed")),
    (IgnoreRequest("max redirections reached"), (UNVERIFIED, "page_error")),
    (CannotResolveHostError("gone-blog.com"), None),
    (DownloadTimeoutError("took longer than 2 seconds"), (UNVERIFIED, "timeout")),
])
def test_failures(exc, outcome):
    if outcome is None:  # how the lookup failed decides: the resolver remembers it per host
        exc.__cause__ = NXDomainError("gone-blog.com: NXDOMAIN")
        outcome = (LOST, "dns_nxdomain")
    decision = failure_decision(exc, "gone-blog.com")
    assert (decision.state, decision.reason) == outcome


# --- rows
def test_rows_fit_the_schema_and_describe_the_link(tmp_path):
    checked = datetime(2026, 3, 1, tzinfo=UTC)
    page = replace(PAGE, x_robots_tags=("noarchive", "googlebot: nosnippet"))
    rows = [
        backlink_row(expect(expected_rel=""), page, decide(expect(expected_rel=""), page, [link(rel=["nofollow"])]), checked),
        backlink_row(NO_EXPECTATION, SourcePage(url="https://gone.com/", error="DNSLookupError: gone"),
                     failure_decision(IgnoreRequest("Forbidden by robots.txt"), "gone.com"), checked),
    ]
    item = BacklinksItem(rows)
    assert item.rows_by_table() == {"backlinks": rows}
    writer = PartWriter("backlinks", LocalLake(tmp_path), "b", "w", row_group_size=10, compression="zstd")
    writer.add(rows)
    table = pq.read_table(tmp_path / writer.commit())
    assert writer.rejected == 0 and table.schema.equals(schema_for("backlinks"))
    first, second = table.to_pylist()  # sorted by source_url: blog.com, gone.com
    assert (first["link_state"], first["flags"], first["rel"], first["found_url"]) == (DEGRADED, ["nofollow", "rel_changed"], ["nofollow"], "https://shop.com/")
    assert first["x_robots_tag"] == "noarchive, googlebot: nosnippet" and first["expected_rel"] == ""
    assert (first["region"], first["in_main_content"], first["region_confidence"]) == ("content", True, 0.875)
    assert (second["link_state"], second["reason"], second["matches"], second["found_url"]) == (UNVERIFIED, "robots_disallowed", 0, None)
    assert second["region_confidence"] is None


# --- the diff query, over hand-written lakes
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def lake(tmp_path, crawls: dict[str, list[tuple]]):
    """``crawls``: crawl id -> [(source, state, flags, in_main_content)], written in the given order a day apart."""
    for day, (crawl, pairs) in enumerate(crawls.items()):
        rows = [
            {"source_url": f"https://{source}/", "target": "domain:shop.com", "input_line": i + 2, "link_state": state,
             "reason": None, "flags": list(flags), "matches": 1, "in_main_content": in_main,
             "checked_at": T0 + timedelta(days=day, minutes=i)}
            for i, (source, state, flags, in_main) in enumerate(pairs)
        ]
        directory = tmp_path / "backlinks" / f"crawl={crawl}"
        directory.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema_for("backlinks")), directory / "part-w-00000.parquet")
    return tmp_path


def changes(table):
    return {r["source_url"].split("/")[2]: r["change"] for r in table.to_pylist()}


def test_diff_changes(tmp_path):
    root = lake(tmp_path, {
        "10": [("kept.com", LIVE, (), True), ("turned.com", LIVE, (), True), ("better.com", DEGRADED, ("nofollow",), True),
               ("pending.com", LOST, (), None), ("moved.com", LIVE, (), True), ("dropped.com", LIVE, (), True),
               ("lostlong.com", LOST, (), None), ("comeback.com", LIVE, (), True), ("worse.com", DEGRADED, ("ugc",), True)],
        "9": [("kept.com", LIVE, (), True), ("turned.com", DEGRADED, ("nofollow",), True), ("better.com", LIVE, (), True),
              ("pending.com", LIVE, (), True), ("moved.com", LIVE, (), False), ("dropped.com", LOST, (), None),
              ("fresh.com", LIVE, (), True), ("lostlong.com", LOST, (), None), ("comeback.com", LOST, (), None),
              ("worse.com", DEGRADED, ("anchor_changed", "ugc"), True), ("never.com", UNVERIFIED, (), None)],
        "8": [("comeback.com", LIVE, (), True)],
    })
    # ids are ordered by when the crawls ran, not as strings ("10" < "8" < "9") or numbers
    assert crawl_order(root) == ["10", "9", "8"]
    first, second, table = backlinks_diff(root, "10", "9")
    assert (first, second) == ("10", "9")
    assert changes(table) == {
        "kept.com": "unchanged", "turned.com": "degraded", "better.com": "improved", "pending.com": "new",
        "moved.com": "degraded", "dropped.com": "lost", "fresh.com": "new", "lostlong.com": "unchanged",
        "comeback.com": "lost", "worse.com": "degraded", "never.com": "unchanged",
    }
    assert [r["change"] for r in table.to_pylist()][:5] == ["lost", "lost", "degraded", "degraded", "degraded"]
    rows = {r["source_url"].split("/")[2]: r for r in table.to_pylist()}
    assert (rows["fresh.com"]["state_from"], rows["fresh.com"]["state_to"]) == (None, LIVE)
    assert rows["turned.com"]["flags_to"] == ["nofollow"] and rows["moved.com"]["in_main_content_to"] is False
    # first_seen and last_seen_live look at every crawl in the lake, the third one too
    assert rows["comeback.com"]["first_seen"] == T0 + timedelta(minutes=7)
    assert rows["comeback.com"]["last_seen_live"] == T0 + timedelta(days=2)
    assert rows["turned.com"]["last_seen_live"] == T0 + timedelta(minutes=1)
    assert rows["never.com"]["first_seen"] is None
    _, _, table = backlinks_diff(root)  # the two latest
    assert changes(table) == {**{k: "unchanged" for k in ("kept.com", "turned.com", "better.com", "pending.com", "moved.com",
                                                           "dropped.com", "fresh.com", "lostlong.com", "worse.com", "never.com")},
                              "comeback.com": "restored"}


def test_unverified_is_no_evidence_of_change(tmp_path):
    root = lake(tmp_path, {
        "a": [("wall.com", LIVE, (), True), ("flaky.com", LIVE, (), True), ("gone.com", LIVE, (), True)],
        "b": [("wall.com", UNVERIFIED, (), None), ("flaky.com", UNVERIFIED, (), None), ("gone.com", UNVERIFIED, (), None)],
        "c": [("wall.com", UNVERIFIED, (), None), ("flaky.com", LIVE, (), True), ("gone.com", LOST, (), None)],
    })
    assert changes(backlinks_diff(root, "a", "b")[2]) == {"wall.com": "unchanged", "flaky.com": "unchanged", "gone.com": "unchanged"}
    # judged against the last verified state (crawl a), not against "unverified"
    assert changes(backlinks_diff(root, "b", "c")[2]) == {"wall.com": "unchanged", "flaky.com": "unchanged", "gone.com": "lost"}


def test_diff_needs_two_known_crawls_in_order(tmp_path):
    with pytest.raises(LakeError, match="no backlinks table"):
        backlinks_diff(tmp_path)
    root = lake(tmp_path, {"a": [("x.com", LIVE, (), True)]})
    with pytest.raises(LakeError, match="a diff needs two"):
        backlinks_diff(root)
    root = lake(tmp_path / "two", {"a": [("x.com", LIVE, (), True)], "b": [("x.com", LOST, (), None)]})
    with pytest.raises(LakeError, match="crawl 'zz' has no backlinks rows.*crawls there: a, b"):
        backlinks_diff(root, "a", "zz")
    with pytest.raises(LakeError, match="must be an older crawl"):
        backlinks_diff(root, "b", "a")
    with pytest.raises(LakeError, match="both --from and --to"):
        backlinks_diff(root, "a")


# --- the diff as it runs at scale (FAST) against the diff that dedups first (EXACT): the same report
def exact_diff(root, from_crawl, to_crawl):
    params = {"backlinks": table_glob(root, "backlinks", "*"), "from_crawl": from_crawl, "to_crawl": to_crawl,
              "changes": list(CHANGES)}
    return connect(root).sql(EXACT, params=params).to_arrow_table()


def same_as_exact(root):
    """Every pair of crawls, oldest first: the report equals EXACT's, row for row and in order."""
    order = crawl_order(root)
    compared = 0
    for i, older in enumerate(order):
        for newer in order[i + 1:]:
            _, _, table = backlinks_diff(root, older, newer)
            assert table.equals(exact_diff(root, older, newer)), (older, newer)
            compared += 1
    return compared


def test_diff_is_the_exact_one_on_hand_written_lakes(tmp_path):
    root = lake(tmp_path / "changes", {
        "10": [("kept.com", LIVE, (), True), ("turned.com", LIVE, (), True), ("better.com", DEGRADED, ("nofollow",), True),
               ("pending.com", LOST, (), None), ("moved.com", LIVE, (), True), ("dropped.com", LIVE, (), True),
               ("lostlong.com", LOST, (), None), ("comeback.com", LIVE, (), True), ("worse.com", DEGRADED, ("ugc",), True)],
        "9": [("kept.com", LIVE, (), True), ("turned.com", DEGRADED, ("nofollow",), True), ("better.com", LIVE, (), True),
              ("pending.com", UNVERIFIED, (), None), ("moved.com", LIVE, (), False), ("dropped.com", LOST, (), None),
              ("fresh.com", LIVE, (), True), ("lostlong.com", UNVERIFIED, (), None), ("comeback.com", LOST, (), None),
              ("worse.com", DEGRADED, ("anchor_changed", "ugc"), True), ("never.com", UNVERIFIED, (), None)],
        "8": [("comeback.com", LIVE, (), True), ("pending.com", UNVERIFIED, (), None), ("moved.com", DEGRADED, ("ugc",), True)],
        "7": [("comeback.com", UNVERIFIED, (), None), ("never.com", LIVE, (), False), ("turned.com", LOST, (), None)],
    })
    assert same_as_exact(root) == 6


def test_diff_is_the_exact_one_on_a_synthetic_lake(tmp_path):
    from bench.synthlake import generate_lake

    generate_lake(tmp_path, link_rows=1_000, backlink_rows=40_000, crawls=4, log=lambda _: None)
    _, _, table = backlinks_diff(tmp_path)
    changes = set(table.column("change").to_pylist())
    assert changes == set(CHANGES)  # every kind of change is there to compare
    assert same_as_exact(tmp_path) == 6  # consecutive crawls and crawls with others between


def test_a_pair_listed_twice_in_one_crawl_counts_once_as_its_latest_row(tmp_path):
    """Rows of one pair written twice in one crawl (a commit redone, docs/pitfalls.md §7), even different ones: the
    latest of them is the crawl's state, as before (the report then dedups first)."""
    root = lake(tmp_path, {"a": [("x.com", LIVE, (), True), ("y.com", LIVE, (), True)],
                           "b": [("x.com", LOST, (), None), ("y.com", LIVE, (), True), ("x.com", LIVE, (), True)]})
    _, _, table = backlinks_diff(root)
    assert changes(table) == {"x.com": "unchanged", "y.com": "unchanged"} and table.num_rows == 2
    assert table.equals(exact_diff(root, "a", "b"))
    copied = tmp_path / "backlinks" / "crawl=b" / "part-w-00000.parquet"  # the same part twice: counted once
    copied.rename(copied.with_name("part-w-00001.parquet"))
    pq.write_table(pq.read_table(copied.with_name("part-w-00001.parquet")), copied)
    assert backlinks_diff(root)[2].equals(table)
