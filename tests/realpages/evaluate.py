"""Measure placement on the labelled real pages, tuning and held-out parts apart:
``python -m tests.realpages.evaluate [--misses] [--confidence] [--part tuning|held-out] [--source pages|warc]``.

Both sources are measured together, and each apart (``pages``: the trafilatura and Zyte corpora; ``warc``: the
WARC records); a source whose folder is missing is left out and said so.

Figures per part:

- **region accuracy**: links whose region is the labelled one, over every labelled link;
- **boilerplate -> content**: links labelled navigation, header, footer, sidebar or breadcrumb that come out as
  ``content`` (the costly error for a backlink: chrome counted as editorial);
- **comments recall**: links labelled ``comments`` that come out as ``comments``;
- **in_main_content (content links)**: links labelled ``content`` with ``in_main_content`` true. The classifier sets
  ``in_main_content`` only on links it places in ``content`` (the article with its byline, tags, in-body link
  lists), so this figure is bounded by content recall: a content link placed elsewhere counts as a miss here too;
- **in_main_content (placed content)**: the same over the links labelled *and* placed ``content``: whether the
  main-content flag agrees with the region once the region is right;
- **in_main_content (main text)**: the same over the links the dataset's own main-text annotation holds (anchor
  text of 4+ characters found in ``main_text``, or in one of the ``main_text_has`` snippets), link lists included.

``--confidence`` prints, instead, how far ``region_confidence`` (the model's probability of the region it chose)
can be trusted, per threshold ``t`` (:func:`confidence_figures`): the share of labelled links kept (confidence >=
``t``), the region accuracy among them, boilerplate placed ``content`` among the kept boilerplate links, and content
coverage (links labelled ``content``, placed ``content`` with confidence >= ``t``, over every link labelled
``content``). ``python -m tests.realpages.train --confidence`` prints the same table from its cross-validation.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from dataclasses import dataclass, field

from crawler.extract.page import collapse
from crawler.extract.placement import place_links
from tests.realpages import (
    LABELS,
    SOURCES,
    expected_regions,
    is_held_out,
    load_page,
    page_meta,
    pages_dir,
    source_of,
    warcs_dir,
)

BOILERPLATE = frozenset(("navigation", "header", "footer", "sidebar", "breadcrumb"))
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def confidence_figures(scored, thresholds=THRESHOLDS) -> list[dict]:
    """``scored``: ``(labelled region, placed region, confidence)`` per link. One row for every link (``threshold``
    None), then one per threshold: links kept (confidence >= it) and their share, region accuracy among them,
    boilerplate placed ``content`` among the kept boilerplate links (and over every boilerplate link, kept or not),
    and content coverage (links labelled ``content`` placed ``content`` and kept, over every link labelled
    ``content``)."""
    scored = list(scored)
    content = sum(want == "content" for want, _, _ in scored)
    all_boilerplate = sum(want in BOILERPLATE for want, _, _ in scored)
    rows = []
    for threshold in (None, *thresholds):
        kept = [(want, got) for want, got, p in scored if threshold is None or (p is not None and p >= threshold)]
        boilerplate = [got for want, got in kept if want in BOILERPLATE]
        rows.append({
            "threshold": threshold,
            "links": len(kept),
            "kept": len(kept) / len(scored) if scored else None,
            "accuracy": sum(want == got for want, got in kept) / len(kept) if kept else None,
            "boilerplate": len(boilerplate),
            "boilerplate_as_content": boilerplate.count("content") / len(boilerplate) if boilerplate else None,
            # the same boilerplate links placed content and kept, over every boilerplate link (kept or not)
            "boilerplate_as_content_of_all": (boilerplate.count("content") / all_boilerplate) if all_boilerplate
            else None,
            "content_coverage": (sum(want == got == "content" for want, got in kept) / content) if content else None,
        })
    return rows


def confidence_report(rows: list[dict]) -> str:
    """:func:`confidence_figures` as a table."""

    def pct(value, digits=1):
        return "-" if value is None else f"{value:.{digits}%}"

    lines = [f"  {'confidence':<12}{'links':>7}{'kept':>8}{'accuracy':>10}{'boilerplate->content (kept)':>29}"
             f"{'(of all)':>10}{'content coverage':>18}"]
    for row in rows:
        name = "all" if row["threshold"] is None else f">= {row['threshold']}"
        lines.append(f"  {name:<12}{row['links']:>7}{pct(row['kept']):>8}{pct(row['accuracy'], 2):>10}"
                     f"{pct(row['boilerplate_as_content'], 2) + ' of ' + str(row['boilerplate']):>29}"
                     f"{pct(row['boilerplate_as_content_of_all'], 2):>10}{pct(row['content_coverage']):>18}")
    return "\n".join(lines)


@dataclass
class Tally:
    links: int = 0
    correct: int = 0
    boilerplate: int = 0
    boilerplate_content: int = 0
    comments: int = 0
    comments_found: int = 0
    content: int = 0
    content_in_main: int = 0
    placed_content: int = 0
    placed_content_in_main: int = 0
    main_text: int = 0
    main_text_in_main: int = 0
    pages: int = 0
    confusion: Counter = field(default_factory=Counter)
    misses: list = field(default_factory=list)
    scored: list = field(default_factory=list)  # (labelled region, placed region, region_confidence) per link

    def figures(self) -> dict:
        def share(a, b):
            return round(a / b, 4) if b else None

        return {
            "pages": self.pages,
            "links": self.links,
            "region_accuracy": share(self.correct, self.links),
            "boilerplate_as_content": share(self.boilerplate_content, self.boilerplate),
            "comments_recall": share(self.comments_found, self.comments),
            "in_main_content_on_content": share(self.content_in_main, self.content),
            "in_main_content_on_placed_content": share(self.placed_content_in_main, self.placed_content),
            "in_main_content_on_main_text": share(self.main_text_in_main, self.main_text),
            "comment_links": self.comments,
            "main_text_links": self.main_text,
        }


def in_main_text(anchor, meta: dict) -> bool | None:
    """Whether the dataset's annotation puts the link's anchor text in the main text; None when it cannot say."""
    text = collapse(anchor.text_content())
    if len(text) < 4:
        return None
    if "main_text" in meta:
        return text in collapse(meta["main_text"])
    if any(text in collapse(snippet) for snippet in meta.get("main_text_has", [])):
        return True
    return None


def available_sources() -> tuple[str, ...]:
    """The sources whose folder is found."""
    root = pages_dir()
    return tuple(name for name, folder in (("pages", root), ("warc", warcs_dir(root))) if folder is not None)


def labelled_pages(part: str | None = None, source: str | None = None):
    """Yield ``(key, part, meta, tree, anchors, expected)`` for each labelled page of the sources found (or of
    ``source``), in ``labels.json`` order; loading only, no placement."""
    found = available_sources()
    wanted = [source] if source else list(SOURCES)
    if not any(name in found for name in wanted):
        raise FileNotFoundError("real pages not found: set LINKPROSPECTOR_PAGES (and LINKPROSPECTOR_WARCS) to the "
                                "folders of the corpora (tests/realpages/README.md)")
    root = pages_dir()
    meta_all = page_meta(root)
    for spec in json.loads(LABELS.read_text())["pages"]:
        key = spec["page"]
        name = "held-out" if is_held_out(key) else "tuning"
        if (part and name != part) or source_of(key) not in wanted or source_of(key) not in found:
            continue
        meta = meta_all[key]
        tree, anchors = load_page(root, key, meta.get("url"))
        yield key, name, meta, tree, anchors, expected_regions(tree, anchors, spec)


def evaluate(part: str | None = None, main_content="auto", source: str | None = None) -> dict[str, Tally]:
    """Tallies of the parts (``tuning``, ``held-out``) over both sources, or over ``source`` alone (the placement
    floors are per source: the pages of one source are not a sample of the other's sites)."""
    return _evaluate(part, main_content, source)[None]


def by_source(part: str | None = None, main_content="auto") -> dict[str | None, dict[str, Tally]]:
    """``{None: both sources, "pages": ..., "warc": ...}``, each ``{"tuning": Tally, "held-out": Tally}``, in one
    pass."""
    return _evaluate(part, main_content, None)


def _evaluate(part, main_content, source) -> dict[str | None, dict[str, Tally]]:
    tallies = {name: {"tuning": Tally(), "held-out": Tally()} for name in (None, *SOURCES)}
    for relpath, name, meta, tree, anchors, expected in labelled_pages(part, source):
        rows = place_links(tree, anchors, main_content=main_content)
        for tally in (tallies[None][name], tallies[source_of(relpath)][name]):
            _count(tally, relpath, meta, anchors, expected, rows, main_content)
    return tallies


def _count(tally: Tally, relpath: str, meta: dict, anchors, expected, rows, main_content: bool) -> None:
    tally.pages += 1
    for index, (anchor, want, row) in enumerate(zip(anchors, expected, rows)):
        if want is None:
            continue
        got = row["region"]
        tally.scored.append((want, got, row["region_confidence"]))
        tally.links += 1
        tally.correct += got == want
        tally.confusion[(want, got)] += 1
        if got != want:
            tally.misses.append((relpath.split("/")[-1][:40], index, want, got, collapse(anchor.text_content())[:30]))
        if want in BOILERPLATE:
            tally.boilerplate += 1
            tally.boilerplate_content += got == "content"
        elif want == "comments":
            tally.comments += 1
            tally.comments_found += got == "comments"
        elif want == "content" and main_content:
            tally.content += 1
            tally.content_in_main += bool(row["in_main_content"])
            if got == "content":
                tally.placed_content += 1
                tally.placed_content_in_main += bool(row["in_main_content"])
            if in_main_text(anchor, meta):
                tally.main_text += 1
                tally.main_text_in_main += bool(row["in_main_content"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every misplaced link")
    parser.add_argument("--part", choices=("tuning", "held-out"))
    parser.add_argument("--source", choices=SOURCES, help="one source only (default: both, then each apart)")
    parser.add_argument("--confidence", action="store_true",
                        help="the table of region_confidence thresholds (kept links, their accuracy...) instead")
    args = parser.parse_args()
    missing = [name for name in SOURCES if name not in available_sources()]
    if missing:
        print("not measured (folder not found):", ", ".join(missing))
    if args.source:
        results = {args.source: evaluate(args.part, source=args.source)}
    else:
        results = by_source(args.part)
    for source, tallies in results.items():
        for name, tally in tallies.items():
            if not tally.pages:
                continue
            if args.confidence:
                print(f"== {source or 'both sources'} {name}: {tally.pages} pages, region_confidence of the shipped "
                      f"model")
                print(confidence_report(confidence_figures(tally.scored)))
                continue
            print(f"== {source or 'both sources'} {name}: {json.dumps(tally.figures())}")
            errors = Counter({k: v for k, v in tally.confusion.items() if k[0] != k[1]})
            print("   top confusions (labelled -> placed):",
                  ", ".join(f"{a}->{b} {n}" for (a, b), n in errors.most_common(8)))
            if args.misses and source is not None:
                for miss in tally.misses:
                    print("   ", *miss)


if __name__ == "__main__":
    main()
