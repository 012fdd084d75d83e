"""Link placement: regions on a labelled set of real-style pages, and the text columns on known markup.

The fixtures in ``tests/fixtures/placement/`` are pages written the way real themes write them (WordPress, Bootstrap,
forums, news, docs, wikis, shops, HTML5, table layouts, pages without hints); every ``<a href>`` that is a crawlable
target carries ``data-expect="<region>"``. The attribute is removed before placement runs, so the logic never sees
it. ``python -m tests.test_placement`` prints the per-region table and every miss.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from crawler.extract.placement import REGIONS, compile_rules, place_links
from crawler.urls import resolve_href

FIXTURES = Path(__file__).parent / "fixtures" / "placement"
BASE_URL = "https://www.example.com/section/page.html"
MIN_ACCURACY = 0.95

logging.getLogger("trafilatura").setLevel(logging.ERROR)


def load_fixture(path: Path):
    """Parse a fixture like the spider does and return ``(root, anchors, expected_regions)``; the labels are taken
    off the tree first."""
    root = lxml.html.document_fromstring(path.read_text(encoding="utf-8"))
    anchors, expected = [], []
    for element in root.iter("a", "area"):
        label = element.attrib.pop("data-expect", None)
        href = element.get("href")
        if href is None or resolve_href(href, BASE_URL)[0] is None:
            continue
        assert label in REGIONS, f"{path.name}: link {href!r} has label {label!r}"
        anchors.append(element)
        expected.append(label)
    return root, anchors, expected


def fixture_pages() -> list[Path]:
    return sorted(FIXTURES.glob("*.html"))


def evaluate(main_content: bool = True):
    """Place every fixture link; return a Counter of ``(expected region, correct)`` and the list of misses."""
    tally: Counter = Counter()
    misses = []
    for path in fixture_pages():
        root, anchors, expected = load_fixture(path)
        rows = place_links(root, anchors, main_content=main_content)
        for anchor, want, row in zip(anchors, expected, rows):
            ok = row["region"] == want
            tally[(want, ok)] += 1
            if not ok:
                misses.append((path.name, want, row["region"], anchor.get("href"), anchor.text_content().strip()[:40]))
    return tally, misses


def accuracy_table(tally: Counter) -> tuple[str, float]:
    lines = [f"{'region':<12}{'links':>7}{'correct':>9}{'accuracy':>10}"]
    total = correct = 0
    for region in REGIONS:
        n = tally[(region, True)] + tally[(region, False)]
        if not n:
            continue
        total += n
        correct += tally[(region, True)]
        lines.append(f"{region:<12}{n:>7}{tally[(region, True)]:>9}{tally[(region, True)] / n:>10.1%}")
    overall = correct / total if total else 0.0
    lines.append(f"{'overall':<12}{total:>7}{correct:>9}{overall:>10.1%}")
    return "\n".join(lines), overall


# --- the labelled set ----------------------------------------------------------------------------------------------
def test_fixture_set_is_large_and_labelled():
    pages = fixture_pages()
    assert len(pages) >= 40
    labels = Counter()
    for path in pages:
        _, anchors, expected = load_fixture(path)
        assert anchors, f"{path.name} has no labelled links"
        labels.update(expected)
    # every region except "unknown" is represented by real markup
    assert all(labels[region] >= 10 for region in REGIONS if region != "unknown"), labels


@pytest.mark.parametrize("main_content", [True, False], ids=["with-trafilatura", "without-trafilatura"])
def test_region_accuracy_on_labelled_pages(main_content):
    tally, misses = evaluate(main_content=main_content)
    table, overall = accuracy_table(tally)
    print(f"\nmain_content={main_content}\n{table}")
    assert overall >= MIN_ACCURACY, f"overall accuracy {overall:.1%} < {MIN_ACCURACY:.0%}\n{table}"


def test_labels_cannot_leak_into_the_logic():
    for path in fixture_pages():
        root, _, _ = load_fixture(path)
        assert not root.xpath("//*[@data-expect]"), f"{path.name}: a label the loader did not remove"



# --- text columns on known markup --------------------------------------------------------------------------------
ARTICLE_PAGE = """<!doctype html><html><head><title>Oven notes</title></head><body>
<header class="site-header"><a href="/">Crumb</a><nav><a href="/about">About</a> <a href="/blog">Blog</a></nav></header>
<main><article>
<h1>Restoring the oven</h1>
<p>The firebox was full of nests. We followed the teardown order in
   <a href="https://example.org/manual.pdf">the original service manual</a>, bagging every bolt! Then we
   cleaned the bricks.</p>
<h2>Firing it again</h2>
<p>Our first loaves were flat. By week three we baked <a href="https://example.org/sourdough">this
   sourdough</a> daily, and later <a href="https://example.org/rye">a rye</a>. Thanks to everyone who came by.</p>
<ul class="tags"><li><a href="/tag/ovens">ovens</a></li><li><a href="/tag/bread">bread</a></li></ul>
</article></main>
<footer id="colophon"><p>&copy; 2024 Crumb. <a href="/privacy">Privacy</a> &middot;
<a href="/terms">Terms</a></p></footer>
</body></html>"""


def _place(html: str, **kwargs):
    root = lxml.html.document_fromstring(html)
    anchors = [a for a in root.iter("a", "area") if a.get("href") is not None]
    rows = place_links(root, anchors, **kwargs)
    return root, anchors, {a.get("href"): row for a, row in zip(anchors, rows)}


def test_text_around_a_link_in_running_text():
    _, _, rows = _place(ARTICLE_PAGE, main_content=False)
    manual = rows["https://example.org/manual.pdf"]
    assert manual["text_before"] == "The firebox was full of nests. We followed the teardown order in"
    assert manual["text_after"] == ", bagging every bolt! Then we cleaned the bricks."
    assert manual["sentence"] == (
        "We followed the teardown order in the original service manual, bagging every bolt!"
    )
    assert manual["heading"] == "Restoring the oven"
    rye = rows["https://example.org/rye"]
    assert rye["heading"] == "Firing it again"
    assert rye["sentence"] == "By week three we baked this sourdough daily, and later a rye."
    assert rye["text_before"].endswith("we baked this sourdough daily, and later")


def test_text_columns_are_capped_at_word_boundaries():
    words = " ".join(f"word{i}" for i in range(80))
    html = f"<html><body><p>{words} <a href='https://example.org/x'>x</a> {words}</p></body></html>"
    _, _, rows = _place(html, main_content=False)
    row = rows["https://example.org/x"]
    assert 0 < len(row["text_before"]) <= 150 and 0 < len(row["text_after"]) <= 150
    assert row["text_before"].startswith("word") and row["text_before"].endswith("word79")
    assert row["text_after"].startswith("word0 ") and row["text_after"].split()[-1] in words.split()
    assert len(row["sentence"]) <= 300 and "x" in row["sentence"].split()


def test_block_link_density_and_links_in_block():
    _, _, rows = _place(ARTICLE_PAGE, main_content=False)
    menu = rows["/about"]
    assert menu["links_in_block"] == 2  # the two nav links share one run
    assert menu["block_link_density"] == 1.0
    assert menu["sentence"] is None  # a menu is not running text
    sourdough = rows["https://example.org/sourdough"]
    assert sourdough["links_in_block"] == 2
    paragraph = (
        "Our first loaves were flat. By week three we baked this sourdough daily, and later a rye. "
        "Thanks to everyone who came by."
    )
    nonspace = len(paragraph.replace(" ", ""))
    assert sourdough["block_link_density"] == round(len("thissourdough" "arye") / nonspace, 4)
    privacy = rows["/privacy"]
    assert privacy["links_in_block"] == 2 and 0 < privacy["block_link_density"] < 1


def test_regions_of_the_known_page():
    _, _, rows = _place(ARTICLE_PAGE, main_content=False)
    assert rows["/"]["region"] == "header"
    assert rows["/about"]["region"] == "navigation"
    assert rows["https://example.org/manual.pdf"]["region"] == "content"
    assert rows["/tag/ovens"]["region"] == "content"
    assert rows["/privacy"]["region"] == "footer"


def test_in_main_content_true_in_the_article_false_in_the_footer():
    _, _, rows = _place(ARTICLE_PAGE)
    for href in ("https://example.org/manual.pdf", "https://example.org/sourdough", "https://example.org/rye"):
        assert rows[href]["in_main_content"] is True, href
    for href in ("/", "/about", "/privacy", "/terms"):
        assert rows[href]["in_main_content"] is False, href
        assert rows[href]["position"] is None and rows[href]["paragraph_index"] is None


def test_position_and_paragraph_index_follow_reading_order():
    _, _, rows = _place(ARTICLE_PAGE)
    ordered = [rows[h] for h in ("https://example.org/manual.pdf", "https://example.org/sourdough",
                                 "https://example.org/rye")]
    positions = [row["position"] for row in ordered]
    assert all(0.0 <= p <= 1.0 for p in positions)
    assert positions == sorted(positions) and positions[0] < positions[-1]
    paragraphs = [row["paragraph_index"] for row in ordered]
    assert paragraphs[0] < paragraphs[1] == paragraphs[2]


def test_without_main_content_the_main_text_columns_are_none():
    _, _, rows = _place(ARTICLE_PAGE, main_content=False)
    assert all(row["in_main_content"] is None and row["position"] is None for row in rows.values())


def test_placement_leaves_the_tree_as_it_found_it():
    root = lxml.html.document_fromstring(ARTICLE_PAGE)
    before = lxml.html.tostring(root)
    anchors = [a for a in root.iter("a") if a.get("href")]
    place_links(root, anchors)
    assert lxml.html.tostring(root) == before


def test_no_links_no_rows():
    root = lxml.html.document_fromstring("<html><body><p>nothing to see</p></body></html>")
    assert place_links(root, []) == []


# --- per-site rules ------------------------------------------------------------------------------------------------
RULES_PAGE = """<html><body>
<div class="promo-strip"><a href="/sale">Sale</a></div>
<main><p>Long enough running text for the page to have a main area, with a
<a href="/guide">guide link</a> in it and more words after the link.</p>
<div class="x-partners"><a href="https://partner.example.com/">Partner</a></div></main>
<footer><a href="/privacy">Privacy</a></footer>
</body></html>"""


def test_rules_override_and_first_match_wins():
    rules = compile_rules([
        {"class": "x-partners", "region": "sidebar"},
        {"xpath": "//main", "region": "navigation"},  # matches the partner link too, but comes second
        {"xpath": "//div[@class='promo-strip']", "region": "header", "site": "shop.example.com"},
    ])
    _, _, rows = _place(RULES_PAGE, rules=rules, main_content=False, site="www.shop.example.com")
    assert rows["https://partner.example.com/"]["region"] == "sidebar"
    assert rows["/guide"]["region"] == "navigation"
    assert rows["/sale"]["region"] == "header"
    assert rows["/privacy"]["region"] == "footer"  # no rule: the landmark decides


def test_site_rules_only_apply_to_their_site():
    rules = compile_rules([{"xpath": "//footer", "region": "content", "site": "example.com"}])
    _, _, other = _place(RULES_PAGE, rules=rules, main_content=False, site="example.org")
    _, _, same = _place(RULES_PAGE, rules=rules, main_content=False, site="blog.example.com")
    assert other["/privacy"]["region"] == "footer"
    assert same["/privacy"]["region"] == "content"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("//main", "must be a list"),
        ([{"xpath": "//main"}], "region must be one of"),
        ([{"xpath": "//main[", "region": "content"}], "invalid XPath"),
        ([{"xpath": "//main", "class": "x", "region": "content"}], "exactly one of"),
        ([{"class": "two tokens", "region": "content"}], "one class token"),
        ([{"class": "x", "region": "content", "colour": "red"}], "unknown keys"),
        ([["xpath", "//main"]], "expected a dict"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_error(spec, message):
    with pytest.raises(ValueError, match=message):
        compile_rules(spec)


def test_image_map_areas_and_template_links_are_placed():
    html = """<html><body><nav><a href="/a">A</a> <a href="/b">B</a></nav>
    <main><p>Some long running text about the map below, long enough to count as the page's content area.</p>
    <img src="map.png" usemap="#m"><map name="m"><area href="/north" alt="North" coords="0,0,5,5"></map>
    <template><a href="/hidden">hidden</a></template></main></body></html>"""
    _, _, rows = _place(html)
    assert rows["/north"]["region"] == "content"
    assert rows["/north"]["links_in_block"] == 1 and rows["/north"]["block_link_density"] == 0.0
    assert rows["/hidden"]["region"] == "content" and rows["/hidden"]["text_before"] == ""
    assert rows["/a"]["region"] == "navigation"


def test_anchors_from_another_tree_are_refused():
    root = lxml.html.document_fromstring(ARTICLE_PAGE)
    stranger = lxml.html.fromstring('<a href="/elsewhere">elsewhere</a>')
    with pytest.raises(ValueError, match="element of the given tree"):
        place_links(root, [stranger], main_content=False)


if __name__ == "__main__":
    for main_content in (True, False):
        tally, misses = evaluate(main_content=main_content)
        table, overall = accuracy_table(tally)
        print(f"\nmain_content={main_content}\n{table}")
        for miss in misses:
            print("  miss", *miss)


RESOURCE_PAGE = """<!doctype html><html><body><header class="site-header"><a href="/">Crumb</a></header>
<main><article><h1>Sourdough at home</h1>
<p>Starters need flour, water and a warm place; we fed ours twice a day for a week before the first bake.</p>
<p>Ours took a week to rise. These pages helped us most:</p>
<ul><li><a href="https://example.org/starter">Starter guide</a></li><li><a href="https://example.org/flour">Flour chart</a></li></ul>
<h2>Further reading</h2><ul><li><a href="https://example.org/book">The bread book</a></li></ul>
</article></main><footer><a href="/privacy">Privacy</a></footer></body></html>"""


def test_resource_lists_in_the_article_are_main_content_with_their_lead_in():
    root = lxml.html.document_fromstring(RESOURCE_PAGE)
    anchors = root.xpath("//a")
    rows = {a.get("href"): row for a, row in zip(anchors, place_links(root, anchors))}
    for href in ("https://example.org/starter", "https://example.org/flour", "https://example.org/book"):
        assert rows[href]["region"] == "content" and rows[href]["in_main_content"] is True, rows[href]
    assert rows["https://example.org/starter"]["sentence"] == "These pages helped us most:"
    assert rows["https://example.org/book"]["sentence"] == "Further reading"
    assert rows["/privacy"]["in_main_content"] is False and rows["/privacy"]["sentence"] is None
