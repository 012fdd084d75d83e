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
    """Place every fixture link; return ``(per_region Counter of (region, ok) , misses)``."""
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


def test_region_accuracy_on_labelled_pages():
    tally, misses = evaluate()
    table, overall = accuracy_table(tally)
    print("\n" + table)
    assert overall >= MIN_ACCURACY, f"overall accuracy {overall:.1%} < {MIN_ACCURACY:.0%}\n{table}"


def test_labels_cannot_leak_into_the_logic():
    root, anchors, _ = load_fixture(fixture_pages()[0])
    assert not root.xpath("//*[@data-expect]")


if __name__ == "__main__":
    for main_content in (True, False):
        tally, misses = evaluate(main_content=main_content)
        table, overall = accuracy_table(tally)
        print(f"\nmain_content={main_content}\n{table}")
        for miss in misses:
            print("  miss", *miss)
