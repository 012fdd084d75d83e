"""Agreement between two labellings of the same pages: ``python -m tests.realpages.agree [OTHER.json ...]``
(default: ``second-labels.json``, 24 pages labelled a second time, blind, in December).

Each ``OTHER.json`` holds, in ``labels.json``'s format, the entries of the pages a second labeller labelled again,
blind (never seeing the first labels nor the classifier). For every page both files hold, each link both
labellings score is compared. It prints the share
of links with the same region, the pages' mean, the confusions between the two, and the links one labelling scores
and the other leaves out. The figure bounds what region accuracy can mean: where two careful people disagree on a
link, the classifier is "wrong" on it against one of them (tests/realpages/README.md, "Agreement").
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from tests.realpages import LABELS, expected_regions, is_held_out, load_page, page_meta, pages_dir

SECOND_LABELS = Path(__file__).with_name("second-labels.json")
BOILERPLATE = frozenset(("navigation", "header", "footer", "sidebar", "breadcrumb"))


def paired_entries(first: dict, other: dict) -> list[tuple[dict, dict]]:
    """``[(first spec, other spec)]`` for the pages both files hold."""
    mine = {spec["page"]: spec for spec in first["pages"]}
    return [(mine[spec["page"]], spec) for spec in other["pages"] if spec["page"] in mine]


def compare(pairs: list[tuple[dict, dict]]) -> dict:
    root = pages_dir()
    meta = page_meta(root)
    same = both = only_first = only_other = 0
    per_page = []
    confusion: Counter = Counter()
    boilerplate_split = 0  # one says content, the other boilerplate: the disagreement that matters for a backlink
    for first, other in pairs:
        key = first["page"]
        tree, anchors = load_page(root, key, meta[key].get("url"))
        a = expected_regions(tree, anchors, first)
        b = expected_regions(tree, anchors, other)
        page_same = page_both = 0
        for x, y in zip(a, b):
            if x is None or y is None:
                only_first += x is not None
                only_other += y is not None
                continue
            page_both += 1
            page_same += x == y
            if x != y:
                confusion[(x, y)] += 1
                boilerplate_split += "content" in (x, y) and bool({x, y} & BOILERPLATE)
        same += page_same
        both += page_both
        if page_both:
            per_page.append((key, page_same / page_both, page_both, is_held_out(key)))
    return {"pages": len(per_page), "links": both, "agreement": same / both if both else None,
            "page_mean": sum(p[1] for p in per_page) / len(per_page) if per_page else None,
            "content_vs_boilerplate": boilerplate_split / both if both else None,
            "only_first": only_first, "only_other": only_other, "confusion": confusion, "per_page": per_page}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("others", nargs="*", type=Path, default=[SECOND_LABELS],
                        help="second labellings (labels.json format)")
    args = parser.parse_args()
    first = json.loads(LABELS.read_text())
    pairs = [pair for path in args.others for pair in paired_entries(first, json.loads(path.read_text()))]
    result = compare(pairs)
    for key, share, links, held in sorted(result["per_page"], key=lambda p: p[1]):
        print(f"  {share:7.1%} of {links:4} links  {'held-out' if held else 'tuning  '}  {key[:90]}")
    print(f"{result['pages']} pages, {result['links']} links scored by both: same region {result['agreement']:.1%} "
          f"(page mean {result['page_mean']:.1%}); content vs boilerplate {result['content_vs_boilerplate']:.2%}; "
          f"scored by one only: {result['only_first']} (first), {result['only_other']} (other)")
    print("  disagreements (first -> other):",
          ", ".join(f"{a}->{b} {n}" for (a, b), n in result["confusion"].most_common(12)))


if __name__ == "__main__":
    main()
