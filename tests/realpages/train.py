"""Train the learned placement model: ``python -m tests.realpages.train [--cv-only] [--folds N]``.

Reads the labelled links of the *tuning* part of the real pages (``labels.json``, both sources) and of the
placement fixtures (``tests/fixtures/placement/``), describes every link with the features the runtime reads
(``crawler/extract/placement/features.py``), and fits a multinomial logistic regression in pure Python (stochastic
gradient with a fixed seed, so the weights are the same on every run). Held-out pages are never read.

It first prints the cross-validation figure: folds are groups of sites (a site's pages, and pages of one template
across sites such as ``github.io`` homepages, are always in the same fold; each fixture is its own group), each fold
is placed by a model trained on the others, and the rules' figure on the same links is printed beside it. Then it
trains on everything and writes ``crawler/extract/placement/model.json`` (unless ``--cv-only``).
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

from crawler.extract.placement import describe_links
from crawler.extract.placement.model import MODEL_PATH, REGIONS_MODELLED
from crawler.urls import host_of, registered_domain

logging.getLogger("trafilatura").setLevel(logging.ERROR)

BOILERPLATE = frozenset(("navigation", "header", "footer", "sidebar", "breadcrumb"))
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
        for (rule, features), want in zip(describe_links(tree, anchors), expected):
            if want is not None:
                links.append(Link(features, rule[0], want, group, source_of(key), key))
    if fixtures:
        from tests.test_placement import fixture_pages, load_fixture

        for path in fixture_pages():
            root, anchors, expected = load_fixture(path)
            for (rule, features), want in zip(describe_links(root, anchors), expected):
                links.append(Link(features, rule[0], want, f"fixture:{path.name}", "fixtures", path.name))
    return links


def folds_of(links: list[Link], folds: int) -> dict[str, int]:
    """Groups to folds: the heaviest group first into the lightest fold (by links), ties by name: deterministic."""
    weight = Counter(link.group for link in links)
    load = [0] * folds
    assignment = {}
    for group, count in sorted(weight.items(), key=lambda item: (-item[1], item[0])):
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
    page_weight: float = 0.0  # 0: every link counts 1; 0.5: a page's links weigh 1/sqrt(links on the page)


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


def predict(model: dict, features) -> str:
    classes, weights = model["classes"], model["weights"]
    rows = [weights[name] for name in features if name in weights]
    scores = [sum(column) for column in zip(model["bias"], *rows)]
    return classes[max(range(len(classes)), key=scores.__getitem__)]


def cross_validate(links: list[Link], params: Params, folds: int = 5) -> dict:
    assignment = folds_of(links, folds)
    predicted = [None] * len(links)
    for fold in range(folds):
        train = [link for link in links if assignment[link.group] != fold]
        model = fit(train, params)
        for i, link in enumerate(links):
            if assignment[link.group] == fold:
                predicted[i] = predict(model, link.features)
    return tally(links, predicted)


def tally(links: list[Link], predicted: list[str]) -> dict:
    out = {}
    for name, keep in (("real", lambda s: s != "fixtures"), ("pages", lambda s: s == "pages"),
                       ("warc", lambda s: s == "warc"), ("fixtures", lambda s: s == "fixtures")):
        chosen = [(link, got) for link, got in zip(links, predicted) if keep(link.source)]
        if not chosen:
            continue
        bp = [(link, got) for link, got in chosen if link.want in BOILERPLATE]
        pages = defaultdict(list)
        for link, got in chosen:
            pages[link.page].append(got == link.want)
        out[name] = {
            "links": len(chosen),
            "model": round(sum(got == link.want for link, got in chosen) / len(chosen), 4),
            "rules": round(sum(link.rule == link.want for link, _ in chosen) / len(chosen), 4),
            "macro": round(sum(sum(v) / len(v) for v in pages.values()) / len(pages), 4),
            "bp_content_model": round(sum(got == "content" for _, got in bp) / max(len(bp), 1), 4),
            "bp_content_rules": round(sum(link.rule == "content" for link, _ in bp) / max(len(bp), 1), 4),
        }
    real = [(link, got) for link, got in zip(links, predicted) if link.source != "fixtures"]
    confusion = Counter((link.want, got) for link, got in real if got != link.want)
    out["confusions"] = ", ".join(f"{a}->{b} {n}" for (a, b), n in confusion.most_common(8))
    return out


def export(model: dict) -> dict:
    """The shipped form: weights rounded, near-zero rows dropped, names sorted (a stable diff)."""
    weights = {}
    for name in sorted(model["weights"]):
        row = [round(w, 4) for w in model["weights"][name]]
        if any(abs(w) >= 1e-4 for w in row):
            weights[name] = row
    return {"classes": model["classes"], "bias": [round(b, 4) for b in model["bias"]], "weights": weights}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cv-only", action="store_true", help="print the cross-validation figure, write nothing")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-fixtures", action="store_true", help="train on the real pages alone")
    args = parser.parse_args()
    started = time.monotonic()
    links = collect(fixtures=not args.no_fixtures)
    print(f"{len(links)} labelled links, {len({link.group for link in links})} groups "
          f"({time.monotonic() - started:.0f} s)")
    params = Params()
    print("cross-validation:", json.dumps(cross_validate(links, params, args.folds)))
    if not args.cv_only:
        MODEL_PATH.write_text(json.dumps(export(fit(links, params)), separators=(",", ":")) + "\n")
        print("wrote", MODEL_PATH)


if __name__ == "__main__":
    main()
