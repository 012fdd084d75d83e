"""The learned placement model: a multinomial logistic regression over ``features.py``'s features, which include the
rules' own verdict, so it learns where the rules go wrong on real pages (docs/placement.md).

The weights are plain data, ``model.json`` beside this file (package data): ``classes`` (the regions it predicts),
``bias`` and ``weights`` (feature name -> one weight per class). A link's scores are the bias plus the weights of
every feature it has, each feature counted once; the region is the class with the highest score, and its softmax
probability is the row's ``region_confidence`` (``Model.decide``, docs/placement.md "Confidence"). They are read
once, at import time of the first page, with ``json``: no pickle, nothing executable, no dependency. Rebuild them
with ``python -m tests.realpages.train`` (``tests/realpages/README.md``).

Scoring is O(links + elements): the ancestor features (``features.element_features``) are summed once per element
down the tree, each element inheriting its parent's feature set and score, so a link adds only its own features to
its parent's sum however deep it sits and however many links share its ancestors. The other parts are weighed
once per page too (``PageScorer``), and once per process when they are read from plain values (a class string, a
URL, an anchor's text, the rules' verdict: ``features.Describer.plain_key``): a site's pages repeat their menus,
footers and class names, so a crawl weighs only the parts of a page it has not met on earlier pages (``Model.memo``).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

from crawler.extract.placement.features import GROUP_SIZES, element_features

MODEL_PATH = Path(__file__).with_name("model.json")
REGIONS_MODELLED = ("content", "navigation", "header", "footer", "sidebar", "comments", "breadcrumb")
_TOP = ("html", "body")  # never described: every link has them
MEMO_GENERATION = 8192  # weighed parts remembered per generation, two generations kept (~600 bytes each: ~10 MB)
MEMO_KEY_CHARS = 600  # a part read from longer strings (a hostile page's 1 MB class or anchor) is weighed, not kept


class Model:
    def __init__(self, classes, bias, weights: dict):
        if list(classes) != list(REGIONS_MODELLED[: len(classes)]) or len(bias) != len(classes):
            raise ValueError("placement model: unexpected classes or bias")
        self.classes = tuple(classes)
        self.bias = tuple(float(b) for b in bias)
        self.weights = {str(name): tuple(float(w) for w in row) for name, row in weights.items()}
        if any(len(row) != len(classes) for row in self.weights.values()):
            raise ValueError("placement model: a weight row does not match the classes")
        self.zero = (0.0,) * len(classes)
        # weighed parts that depend on plain values only (an anchor's text, class and URL, the rules' verdict...),
        # kept across pages: a site's pages repeat their menus, footers and class names (``PageScorer``). Two
        # generations: when the current one is full it becomes the older one and the older one is dropped, so what
        # a crawl keeps meeting (a site's menu) stays while one-off parts go, and memory stays bounded
        self.memo: dict = {}
        self.older: dict = {}

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

    def decide(self, scores) -> tuple[str, float]:
        """The best-scoring class and its softmax probability, ``1 / sum_j exp(s_j - s_best)``: how sure the model
        is of it (``region_confidence``; docs/placement.md, "Confidence"). Ties go to the first class, as ever."""
        return top_class(self.classes, scores)

    def weigh(self, features) -> tuple[float, ...]:
        """The summed weights of ``features``, each feature once (zeros when the model weighs none of them)."""
        found = list(filter(None, map(self.weights.get, dict.fromkeys(features))))  # the rows of weighed features
        if len(found) > 1:
            return tuple(map(sum, zip(*found)))
        return found[0] if found else self.zero

    def memoized(self, key, features_of, *args) -> tuple[float, ...]:
        """``weigh(features_of(*args))``, remembered under ``key``, which must name everything the features depend
        on: the same class string or URL is weighed once, not once per link."""
        score = self.recall(key)
        if score is None:
            score = self.remember(key, self.weigh(features_of(*args)))
        return score

    def recall(self, key):
        """What was remembered under ``key``, or None; kept for the next generation when it is from the older one."""
        value = self.memo.get(key)
        if value is None:
            value = self.older.get(key)
            if value is not None:
                self.remember(key, value)
        return value

    def remember(self, key, value):
        """``memo[key] = value``, starting a new generation first when the current one is full. Keys are tuples of
        plain values; one whose strings are longer than ``MEMO_KEY_CHARS`` in all is not kept, so the memory stays
        bounded in bytes, not only in entries."""
        if sum(len(part) for part in key if isinstance(part, str)) > MEMO_KEY_CHARS:
            return value
        if len(self.memo) >= MEMO_GENERATION:
            self.older, self.memo = self.memo, {}
        self.memo[key] = value
        return value

    def forget(self) -> None:
        """Drop every remembered part (benchmarks: a page of a site never seen)."""
        self.memo, self.older = {}, {}


class PageScorer:
    """One page's links scored part by part, each part weighed once: the ancestors' sums (element -> weighted
    features of its ancestors and itself, their score), each parent's parts, the shared parts of the page."""

    def __init__(self, model: Model, label):
        self.model = model
        self.label = label  # element -> the rules' label of it (layout._Page.label, cached there)
        self.sums: dict = {}
        self.shared: dict = {}  # key of a shared part (``Describer.keys``) -> its score
        self.parents: dict = {}  # a link's parent (its siblings_key) -> the bias and its parts' score

    def chain(self, element) -> tuple[frozenset, tuple[float, ...]]:
        """The weighted features of ``element`` and its ancestors, each once, and the sum of their weights."""
        sums, weights = self.sums, self.model.weights
        pending = []
        node = element
        while node is not None and node not in sums:
            pending.append(node)
            node = node.getparent()
        seen, score = sums[node] if node is not None else (frozenset(), self.model.zero)
        for node in reversed(pending):
            if node.tag not in _TOP:
                new = [name for name in self._weighted_features(node) if name not in seen]
                if new:
                    seen = seen.union(new)
                    score = tuple(map(sum, zip(score, *(weights[name] for name in new))))
            sums[node] = (seen, score)
        return seen, score

    def signature(self, element) -> tuple:
        """Everything ``element_features`` reads of an element: elements with the same signature say the same."""
        get = element.get
        return (element.tag, get("role"), get("class"), get("id"), get("aria-label"), get("itemprop"),
                self.label(element))

    def _weighted_features(self, element) -> tuple[str, ...]:
        """``element_features`` the model weighs, each once, remembered by the element's signature."""
        key = ("element", *self.signature(element))
        names = self.model.recall(key)
        if names is None:
            weights = self.model.weights
            names = tuple(name for name in dict.fromkeys(element_features(element, key[-1])) if name in weights)
            self.model.remember(key, names)
        return names

    def region(self, describer, link, run, rule: tuple[str, str]) -> tuple[str, float]:
        """The region of ``link`` and the model's probability of it (``Model.decide``), from one sum: its parent's
        parts and the bias (``parent_score``), its anchor's (``anchor_score``) and its own shared parts
        (``features.Describer.own_keys``). The features are those ``Describer.parts`` lists (``describe_links``,
        what training fits)."""
        rows = [self.parent_score(describer, link.getparent()), self.anchor_score(describer, link, run)]
        rows.extend(self.part_score(describer, key, run) for key in describer.own_keys(link, run, rule))
        return self.model.decide(tuple(map(sum, zip(*rows))))

    def part_score(self, describer, key, run) -> tuple[float, ...]:
        """The weights of one shared part (``Describer.shared_features``), once per page, and remembered by the
        model across pages under the part's plain key (``Describer.plain_key``)."""
        score = self.shared.get(key)
        if score is None:
            plain = describer.plain_key(key, run)
            score = self.shared[key] = self.model.memoized(plain, describer.shared_features, key, run)
        return score

    def parent_score(self, describer, parent) -> tuple[float, ...]:
        """The bias and the weights of the parts a link shares with its siblings: its near ancestors (the parent's
        carries the sum of all its ancestors, ``chain``) and its link groups, summed once per parent, and once for
        sibling parents alike (the items of a menu, ``siblings_key``)."""
        key = self.siblings_key(describer, parent)
        score = self.parents.get(key)
        if score is None:
            rows = [self.model.bias]
            for part in describer.parent_keys(parent):
                rows.append(self.part_score(describer, part, None))
                if part[0] == 1:  # the parent itself
                    rows.append(self.chain(part[1])[1])
            score = self.parents[key] = tuple(map(sum, zip(*rows)))
        return score

    def siblings_key(self, describer, parent):
        """What a parent's parts are read from: its signature and its own parent, when it holds too few links to be
        a link group itself (its groups, near ancestors and chain are then its parent's); else the parent itself."""
        if parent is None or describer.facts.links.get(parent, 0) >= GROUP_SIZES[0]:
            return parent
        return parent.getparent(), *self.signature(parent)

    def anchor_score(self, describer, link, run) -> tuple[float, ...]:
        """The weights of the anchor's features (``features.Describer.anchor``), remembered by what they are read
        from: a site's menus and footers repeat the same anchors on every page."""
        facts = describer.facts
        start, end = run.spans.get(link, (0, 0))
        href = facts.urls[link][0]
        key = ("anchor", start == end, run.text[start:end], link.get("class"), link.get("rel"), href,
               facts.host_tail, facts.repeats[href])
        return self.model.memoized(key, describer.anchor, link, run)


def top_class(classes, scores) -> tuple[str, float]:
    """The class of the highest score (the first on a tie) and its softmax probability: the share of
    ``exp(score)`` it holds, computed against the best score so no ``exp`` overflows."""
    top = max(scores)
    # s - top for each score (``top.__rsub__``), mapped in C: this runs once per link
    return classes[scores.index(top)], 1.0 / sum(map(math.exp, map(top.__rsub__, scores)))


@lru_cache(maxsize=1)
def shipped_model() -> Model | None:
    """The model shipped with the package, or None when ``model.json`` is missing (placement is then the rules')."""
    if not MODEL_PATH.is_file():
        return None
    return Model.from_json(MODEL_PATH.read_text(encoding="utf-8"))


shipped_model()  # read at import: the parse pool's fork server preloads this package, so its processes share it
