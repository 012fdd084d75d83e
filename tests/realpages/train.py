"""Train the learned placement model: ``python -m tests.realpages.train [--cv-only] [--confidence] [--folds N]``.

Reads the labelled links of the *tuning* part of the real pages (``labels.json``, both sources) and of the
placement fixtures (``tests/fixtures/placement/``), describes every link with the features the runtime reads
(``crawler/extract/placement/features.py``), and fits a multinomial logistic regression in pure Python (stochastic
gradient with a fixed seed, so the weights are the same on every run). Held-out pages are never read.

It first prints the cross-validation figure: folds are groups of sites (a site's pages, and pages of one template
across sites such as ``github.io`` homepages, are always in the same fold; each fixture is its own group), each fold
is placed by a model trained on the others, and the rules' figure on the same links is printed beside it. Then it
trains on everything and writes ``crawler/extract/placement/model.json`` (unless ``--cv-only``).

``--confidence`` prints, from the same cross-validation, how far the out-of-fold ``region_confidence`` (the
model's probability of the region it chose) can be trusted on the real links, per threshold
(``evaluate.confidence_figures``), and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from crawler.extract.placement import compile_rules, describe_links, place_links
from crawler.extract.placement.model import MODEL_PATH, REGIONS_MODELLED, Model
from crawler.urls import host_of, registered_domain
from tests.realpages.evaluate import BOILERPLATE

logging.getLogger("trafilatura").setLevel(logging.ERROR)

# one template under several registered domains: one group (tests/realpages/README.md, "Caveat")
SAME_TEMPLATE = {"twincities.com": "mercurynews.com"}


@dataclass
class Link:
    features: frozenset
    rule: str
    want: str
    group: str
    source: str  # "pages", "warc" or "fixtures"
    page: str
    main: bool = False  # in_main_content, were the link placed in content (trafilatura kept it or it is in the article)


# every link placed in content: its in_main_content then says whether it would be flagged there
ALL_CONTENT = compile_rules([{"xpath": "/html", "region": "content"}])


def main_flags(tree, anchors) -> list[bool]:
    return [bool(row["in_main_content"]) for row in place_links(tree, anchors, rules=ALL_CONTENT, model=False)]


def site_group(url: str) -> str:
    domain = registered_domain(host_of(url)) if url.startswith("http") else url
    return SAME_TEMPLATE.get(domain, domain)


def collect(fixtures: bool = True) -> list[Link]:
    """Every labelled link of the tuning part and (optionally) of the fixtures, described."""
    from tests.realpages import source_of
    from tests.realpages.evaluate import labelled_pages

    links = []
    for key, part, meta, tree, anchors, expected in labelled_pages("tuning"):
        assert part == "tuning"
        group = site_group(meta.get("url") or key)
        flags = main_flags(tree, anchors)
        for (rule, features), want, flag in zip(describe_links(tree, anchors), expected, flags):
            if want is not None:
                links.append(Link(features, rule[0], want, group, source_of(key), key, flag))
    if fixtures:
        from tests.test_placement import fixture_pages, load_fixture

        for path in fixture_pages():
            root, anchors, expected = load_fixture(path)
            flags = main_flags(root, anchors)
            for (rule, features), want, flag in zip(describe_links(root, anchors), expected, flags):
                links.append(Link(features, rule[0], want, f"fixture:{path.name}", "fixtures", path.name, flag))
    return links


def folds_of(links: list[Link], folds: int, seed: int = 0) -> dict[str, int]:
    """Groups to folds: the heaviest group first into the lightest fold (by links), ties by name: deterministic.
    ``seed`` > 0 shuffles the groups first (another partition, to see how much a figure owes to one)."""
    weight = Counter(link.group for link in links)
    load = [0] * folds
    assignment = {}
    groups = sorted(weight.items(), key=lambda item: (-item[1], item[0]))
    if seed:
        random.Random(seed).shuffle(groups)
    for group, count in groups:
        fold = min(range(folds), key=lambda f: (load[f], f))
        assignment[group] = fold
        load[fold] += count
    return assignment


@dataclass
class Params:
    epochs: int = 12
    rate: float = 0.01
    l2: float = 1e-5
    min_groups: int = 2  # a feature seen in fewer groups (sites, fixtures) is left out: it cannot generalise
    seed: int = 0
    drop: tuple = ()  # feature kinds left out (the part before ":"), for ablations
    page_weight: float = 0.5  # 0: every link counts 1; 0.5: a page's links weigh 1/sqrt(links on the page)
    prune: float = 0.02  # features whose weights all stay under this are left out of the shipped file
    content_margin: float = 0.0  # taken off the content class's bias: fewer boilerplate links called content


def fit(links: list[Link], params: Params) -> dict:
    """Multinomial logistic regression by stochastic gradient descent (decaying rate, L2 on the weights a step
    touches, a seeded shuffle: the same weights on every run); returns ``{"classes", "bias", "weights"}``."""
    classes = list(REGIONS_MODELLED)
    class_index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    groups_of = defaultdict(set)
    for link in links:
        for name in link.features:
            groups_of[name].add(link.group)
    names = sorted(name for name, groups in groups_of.items()
                   if len(groups) >= params.min_groups and name.split(":", 1)[0] not in params.drop)
    index = {name: i for i, name in enumerate(names)}
    per_page = Counter(link.page for link in links)
    merged: dict = {}  # links with the same features and label are one example, weighed by their number
    for link in links:
        key = (tuple(sorted(index[n] for n in link.features if n in index)), class_index[link.want])
        merged[key] = merged.get(key, 0.0) + 1.0 / per_page[link.page] ** params.page_weight
    data = sorted(merged.items())
    mean = sum(w for _, w in data) / len(data)
    data = [(items, y, w / mean) for (items, y), w in data]
    weights = [[0.0] * k for _ in names]
    bias = [0.0] * k
    rng = random.Random(params.seed)
    order = list(range(len(data)))
    step = 0
    decay = 1.0 - params.l2
    for _ in range(params.epochs):
        rng.shuffle(order)
        for i in order:
            items, y, w = data[i]
            scores = [sum(column) for column in zip(bias, *(weights[f] for f in items))]
            top = max(scores)
            exps = [math.exp(s - top) for s in scores]
            total = sum(exps)
            rate = params.rate / (1.0 + step / len(data)) * w
            step += 1
            grad = [rate * e / total for e in exps]
            grad[y] -= rate
            bias = [b - g for b, g in zip(bias, grad)]
            for f in items:
                weights[f] = [decay * v - g for v, g in zip(weights[f], grad)]
    return {"classes": classes, "bias": bias, "weights": dict(zip(names, weights))}


def out_of_fold(links: list[Link], params: Params, folds: int = 5, partition: int = 0) -> list[tuple[str, float]]:
    """Each link's region and probability by a model trained on the other folds (groups of sites)."""
    assignment = folds_of(links, folds, partition)
    decided = [None] * len(links)
    for fold in range(folds):
        train = [link for link in links if assignment[link.group] != fold]
        model = Model(**export(fit(train, params), params))  # the runtime's scoring of the shipped form
        for i, link in enumerate(links):
            if assignment[link.group] == fold:
                decided[i] = model.decide(model.scores(link.features))
    return decided


def cross_validate(links: list[Link], params: Params, folds: int = 5, partition: int = 0) -> dict:
    """Each fold placed by a model trained on the other folds; the tally of those out-of-fold placements."""
    return tally(links, [region for region, _ in out_of_fold(links, params, folds, partition)])


def confidence_table(links: list[Link], decided: list[tuple[str, float]]) -> str:
    """The threshold table of the out-of-fold probabilities on the real links (fixtures aside), both sources."""
    from tests.realpages.evaluate import confidence_figures, confidence_report

    scored = [(link.want, region, round(p, 3)) for link, (region, p) in zip(links, decided) if link.source != "fixtures"]
    return confidence_report(confidence_figures(scored))


def share(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def tally(links: list[Link], predicted: list[str]) -> dict:
    out = {}
    for name, keep in (("real", lambda s: s != "fixtures"), ("pages", lambda s: s == "pages"),
                       ("warc", lambda s: s == "warc"), ("fixtures", lambda s: s == "fixtures")):
        chosen = [(link, got) for link, got in zip(links, predicted) if keep(link.source)]
        if not chosen:
            continue
        bp = [(link, got) for link, got in chosen if link.want in BOILERPLATE]
        content = [(link, got) for link, got in chosen if link.want == "content"]
        pages = defaultdict(list)
        for link, got in chosen:
            pages[link.page].append(got == link.want)
        out[name] = {
            "links": len(chosen),
            "model": round(sum(got == link.want for link, got in chosen) / len(chosen), 4),
            "rules": round(sum(link.rule == link.want for link, _ in chosen) / len(chosen), 4),
            "macro": round(sum(sum(v) / len(v) for v in pages.values()) / len(pages), 4),
            "in_main_on_content_model": share(sum(got == "content" and link.main for link, got in content),
                                              len(content)),
            "in_main_on_content_rules": share(sum(link.rule == "content" and link.main for link, _ in content),
                                              len(content)),
            "bp_content_model": round(sum(got == "content" for _, got in bp) / max(len(bp), 1), 4),
            "bp_content_rules": round(sum(link.rule == "content" for link, _ in bp) / max(len(bp), 1), 4),
        }
    real = [(link, got) for link, got in zip(links, predicted) if link.source != "fixtures"]
    for region in REGIONS_MODELLED:
        of = [(link, got) for link, got in real if link.want == region]
        out.setdefault("recall_model", {})[region] = share(sum(got == region for _, got in of), len(of))
        out.setdefault("recall_rules", {})[region] = share(sum(link.rule == region for link, _ in of), len(of))
    confusion = Counter((link.want, got) for link, got in real if got != link.want)
    out["confusions"] = ", ".join(f"{a}->{b} {n}" for (a, b), n in confusion.most_common(8))
    return out


def export(model: dict, params: Params) -> dict:
    """The shipped form: weights rounded, rows under ``params.prune`` dropped, names sorted (a stable diff), the
    content margin taken off the content bias. The cross-validation scores this form: its figure is the shipped
    model's."""
    prune = params.prune
    bias = list(model["bias"])
    bias[model["classes"].index("content")] -= params.content_margin
    weights = {}
    for name in sorted(model["weights"]):
        row = [round(w, 4) for w in model["weights"][name]]
        if max(abs(w) for w in row) >= max(prune, 1e-4):
            weights[name] = row
    return {"classes": model["classes"], "bias": [round(b, 4) for b in bias], "weights": weights}


def report(figures: dict) -> str:
    lines = []
    for name in ("real", "pages", "warc", "fixtures"):
        f = figures.get(name)
        if f:
            lines.append(f"  {name:<9} {f['links']:>6} links: region accuracy {f['model']:.2%} (rules {f['rules']:.2%}), "
                         f"per page {f['macro']:.2%}, boilerplate->content {f['bp_content_model']:.2%} (rules "
                         f"{f['bp_content_rules']:.2%}), in_main_content on content {f['in_main_on_content_model']:.2%} "
                         f"(rules {f['in_main_on_content_rules']:.2%})")
    lines.append("  recall on the real pages, model (rules): " + ", ".join(
        f"{region} {figures['recall_model'][region]:.1%} ({figures['recall_rules'][region]:.1%})"
        for region in REGIONS_MODELLED if figures["recall_model"][region] is not None))
    lines.append("  top confusions (labelled -> placed): " + figures["confusions"])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv-only", action="store_true", help="print the cross-validation figure, write nothing")
    parser.add_argument("--skip-cv", action="store_true", help="write the weights without cross-validating first")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-fixtures", action="store_true", help="train on the real pages alone")
    parser.add_argument("--confidence", action="store_true",
                        help="the cross-validated table of region_confidence thresholds, write nothing")
    args = parser.parse_args()
    started = time.monotonic()
    links = collect(fixtures=not args.no_fixtures)
    print(f"{len(links)} labelled links ({sum(link.source != 'fixtures' for link in links)} on real pages of the "
          f"tuning part), {len({link.group for link in links})} groups ({time.monotonic() - started:.0f} s)")
    params = Params()
    if args.confidence:
        decided = out_of_fold(links, params, args.folds)
        print(f"cross-validation, {args.folds} folds grouped by site:")
        print(report(tally(links, [region for region, _ in decided])))
        print("region_confidence out of fold, real links of the tuning part (fixtures aside):")
        print(confidence_table(links, decided))
        return
    if not args.skip_cv:
        print(f"cross-validation, {args.folds} folds grouped by site:")
        print(report(cross_validate(links, params, args.folds)))
    if not args.cv_only:
        model = export(fit(links, params), params)
        MODEL_PATH.write_text(json.dumps(model, separators=(",", ":")) + "\n")
        print(f"wrote {MODEL_PATH} ({len(model['weights'])} features)")


if __name__ == "__main__":
    main()
