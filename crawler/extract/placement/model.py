"""The learned placement model: a multinomial logistic regression over ``features.py``'s features, which include the
rules' own verdict, so it learns where the rules go wrong on real pages (docs/placement.md).

The weights are plain data, ``model.json`` beside this file (package data): ``classes`` (the regions it predicts),
``bias`` and ``weights`` (feature name -> one weight per class). A link's scores are the bias plus the weights of
every feature it has, each feature counted once; the region is the class with the highest score. They are read
once, at import time of the first page, with ``json``: no pickle, nothing executable, no dependency. Rebuild them
with ``python -m tests.realpages.train`` (``tests/realpages/README.md``).

Scoring is O(links + elements): the ancestor features (``features.element_features``) are summed once per element
down the tree, each element inheriting its parent's feature set and score, so a link adds only its own features to
its parent's sum however deep it sits and however many links share its ancestors.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from crawler.extract.placement.features import element_features

MODEL_PATH = Path(__file__).with_name("model.json")
REGIONS_MODELLED = ("content", "navigation", "header", "footer", "sidebar", "comments", "breadcrumb")
_TOP = ("html", "body")  # never described: every link has them


class Model:
    def __init__(self, classes, bias, weights: dict):
        if list(classes) != list(REGIONS_MODELLED[: len(classes)]) or len(bias) != len(classes):
            raise ValueError("placement model: unexpected classes or bias")
        self.classes = tuple(classes)
        self.bias = tuple(float(b) for b in bias)
        self.weights = {str(name): tuple(float(w) for w in row) for name, row in weights.items()}
        if any(len(row) != len(classes) for row in self.weights.values()):
            raise ValueError("placement model: a weight row does not match the classes")

    @classmethod
    def from_json(cls, text: str) -> Model:
        data = json.loads(text)
        return cls(data["classes"], data["bias"], data["weights"])

    def scores(self, features) -> list[float]:
        """Scores of one feature set (each feature once), ancestors included: what training fits."""
        total = list(self.bias)
        for name in set(features):
            row = self.weights.get(name)
            if row is not None:
                total = [a + b for a, b in zip(total, row)]
        return total

    def best(self, scores) -> str:
        return self.classes[max(range(len(scores)), key=scores.__getitem__)]


class PageScorer:
    """One page's ancestor sums: element -> (weighted features of its ancestors and itself, their score)."""

    def __init__(self, model: Model, label):
        self.model = model
        self.label = label  # element -> the rules' label of it (layout._Page.label, cached there)
        self.sums: dict = {}
        self.shared: dict = {}  # key of a shared feature part -> its score

    def chain(self, element) -> tuple[frozenset, list[float]]:
        """The weighted features of ``element`` and its ancestors, each once, and the sum of their weights."""
        sums, weights = self.sums, self.model.weights
        pending = []
        node = element
        while node is not None and node not in sums:
            pending.append(node)
            node = node.getparent()
        seen, score = sums[node] if node is not None else (frozenset(), [0.0] * len(self.model.classes))
        for node in reversed(pending):
            if node.tag not in _TOP:
                new = {f for f in element_features(node, self.label(node)) if f in weights and f not in seen}
                if new:
                    seen = seen | new
                    score = [sum(column) for column in zip(score, *(weights[name] for name in new))]
            sums[node] = (seen, score)
        return seen, score

    def region(self, describer, link, run, rule: tuple[str, str]) -> str:
        """The region of ``link``: the weights of its anchor's own features, and of its shared parts
        (``features.Describer.keys``), each part scored once per page; the parent's part carries the ancestors'
        sum too. The features are those ``Describer.parts`` lists (``describe_links``, what training fits)."""
        weights, shared = self.model.weights, self.shared
        rows = [self.model.bias]
        for key in describer.keys(link, run, rule):
            score = shared.get(key)
            if score is None:
                found = [weights[name] for name in set(describer.shared_features(key, run)) if name in weights]
                if key[0] == 1:  # the parent
                    found.append(self.chain(key[1])[1])
                score = shared[key] = [sum(column) for column in zip(*found)] if found else ()
            if score:
                rows.append(score)
        rows.extend(weights[name] for name in set(describer.anchor(link, run)) if name in weights)
        return self.model.best([sum(column) for column in zip(*rows)])


@lru_cache(maxsize=1)
def shipped_model() -> Model | None:
    """The model shipped with the package, or None when ``model.json`` is missing (placement is then the rules')."""
    if not MODEL_PATH.is_file():
        return None
    return Model.from_json(MODEL_PATH.read_text(encoding="utf-8"))


shipped_model()  # read at import: the parse pool's fork server preloads this package, so its processes share it
