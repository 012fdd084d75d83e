"""What the learned placement model reads about each link: named features over the lxml tree (``model.py``).

A link's features come in two parts, so that scoring a page stays O(links + elements) however deep it is:

- **ancestor features**: what each element around the link says about itself (landmark tag, ARIA role, the words
  of its id/class/aria-label/itemprop, the rules' label of it, ``labels.py``). A link carries the sum over its
  ancestors (``html`` and ``body`` aside), so the model scores each element once and a link adds its parent's sum
  (:func:`element_features`);
- **link features**: what the rules decided and why (region, reason, the chain's absorbing/nearest/weak labels and
  its content container), where the link is (document order, before/inside/after the main area and the article,
  after the page's footer), its text run (length, link density, links in it), its group of links (the nearest
  container holding 3 and 10 links: density, text, how the rules placed the others), the nearest preceding
  heading's words, and the anchor itself (image-only, text length and words, same site or external, URL words).

Every feature is a short string (``"w:footer"``, ``"rule:navigation"``); numbers are bucketed, so a feature's
value is how often it occurs. Nothing here decides a region: ``model.py`` weighs these.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from functools import lru_cache
from urllib.parse import urlsplit

from crawler.extract.placement.runs import _block_of, is_running_text
from crawler.extract.placement.vocabulary import _SPLIT, _WORD, BLOCK_TAGS, LINK_TAGS, SKIPPED_TAGS

_TEXT_WORD = re.compile(r"[^\W\d_]{2,}")  # words of visible text (headings, anchors), any script
_SKIP_TEXT = SKIPPED_TAGS | {"noscript", "svg", "select", "textarea"}
MAX_WORDS = 6  # words taken from a heading, an anchor or a URL path
GROUP_SIZES = (3, 10)
NEAR = 3  # ancestors whose words count apart as the link's near surroundings
# every kind of feature (the name before ":"), by part: ancestors, context, near, groups, heading, anchor
FEATURE_KINDS = frozenset(
    (
        "t r w al ip l "
        "rule why rw abs near weak cont bc pos where art h1 after-footer rc rd rl blk running "
        "hl hw img tl aw ac rel h hx hd hu rep"
    ).split()
    + [f"n{depth}{kind}" for depth in range(1, NEAR + 1) for kind in "twl"]
    + [f"g{size}{kind}" for size in GROUP_SIZES for kind in "dcstnpwa"]
)



def _bucket(value: float, edges: tuple) -> int:
    """Index of the first edge above ``value`` (``len(edges)`` past the last): how many of the sorted edges lie at
    or below it."""
    return bisect_right(edges, value)


CHARS = (1, 10, 25, 50, 100, 200, 400, 800, 1600, 3200)
COUNTS = (1, 2, 3, 4, 6, 10, 20, 50, 100)
SHARES = (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)


def token_words(value: str | None) -> tuple[str, ...]:
    """Lowercase words of an id/class/aria value (``site-footer__nav`` -> site, footer, nav), as ``labels.py``
    splits them (cached: themes repeat the same class strings on every item)."""
    if not value:
        return ()
    return _token_words(value)


@lru_cache(maxsize=16384)
def _token_words(value: str) -> tuple[str, ...]:
    return tuple(w.lower() for part in _SPLIT.split(value) for w in _WORD.findall(part) if len(w) > 1 and not w.isdigit())


def element_features(element, label: str | None) -> list[str]:
    """What one element says about the links inside it; ``label`` is the rules' label of it (``labels.py``)."""
    tag = element.tag
    features = [f"t:{tag}"]
    role = (element.get("role") or "").strip().lower()
    if role:
        features.append(f"r:{role.split(' ', 1)[0]}")
    features.extend(f"w:{word}" for word in _words_of(element.get("class"), element.get("id")))
    aria = element.get("aria-label")
    if aria:
        features.extend(f"al:{word}" for word in sorted({w.lower() for w in _TEXT_WORD.findall(aria)}))
    itemprop = element.get("itemprop")
    if itemprop:
        features.append(f"ip:{itemprop.strip().lower()[:30]}")
    if label is not None:
        features.append(f"l:{label}")
    return features


class PageFacts:
    """Per-element counts computed once per page, bottom-up in one pass (O(elements)): characters of visible text,
    characters inside links, number of links; and the page's own host: the most common host among its absolute
    links, unless relative links are more common still (then every absolute link is another site's). Not the
    crawl's idea of the site: the features must be those of the training pages, read without their URL."""

    def __init__(self, root, anchors, elements=None):
        """``elements``: the tree's elements in document order, when the caller has them (``layout._Page.order``)."""
        chars: dict = {}
        link_chars: dict = {}
        links: dict = {}
        anchor_set = set(anchors)
        for element in reversed(elements if elements is not None else list(root.iter())):
            tag = element.tag
            if not isinstance(tag, str) or tag in _SKIP_TEXT:
                chars[element] = link_chars[element] = links[element] = 0
                continue
            text = element.text
            own = len(text.strip()) if text else 0
            inside = count = 0
            for child in element if len(element) else ():  # most elements are leaves: no child iterator for them
                tail = child.tail
                own += chars[child] + (len(tail.strip()) if tail else 0)
                inside += link_chars[child]
                count += links[child]
            if element in anchor_set:
                inside, count = own, count + 1
            chars[element], link_chars[element], links[element] = own, inside, count
        self.chars, self.link_chars, self.links = chars, link_chars, links
        self.urls: dict = {}  # anchor -> (href stripped, its urlsplit or None, its host)
        hosts = Counter()
        relative = 0
        for anchor in anchors:
            href = (anchor.get("href") or "").strip()
            parts, host = _split_href(href)
            self.urls[anchor] = (href, parts, host)
            if host:
                hosts[host] += 1
            elif parts is not None and not parts.scheme:
                relative += 1
        # a site that links to itself with relative URLs: its absolute links are other sites', whichever is commonest
        top, count = hosts.most_common(1)[0] if hosts else ("", 0)
        self.host = top if count >= relative else ""
        self.host_tail = _tail(self.host)
        self.total_links = max(len(anchors), 1)
        # how often each URL is linked from the page: menus and footers repeat the links of the header
        self.repeats = Counter(href for href, _, _ in self.urls.values())
        self.page_chars = max(chars.get(root, 0), 1)


@lru_cache(maxsize=4096)
def _split_href(href: str) -> tuple:
    """``(urlsplit(href), its host)`` for an absolute URL, host ``""`` for another; ``(None, "")`` when it does not
    parse. Cached: a site's pages link the same URLs (urllib's own cache holds 128, fewer than a page's links)."""
    try:
        parts = urlsplit(href)
        host = (parts.hostname or "").lower() if href.lower().startswith(("http://", "https://", "//")) else ""
    except ValueError:
        return None, ""
    return parts, host


def _tail(host: str) -> str:
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else host


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def heading_before(root, wanted: set, levels: int = 6) -> dict:
    """The nearest heading (``h1`` to ``h<levels>``) before each wanted link in document order."""
    headings: dict = {}
    current = None
    for element in root.iter(*HEADINGS[:levels], *LINK_TAGS):
        if element.tag in LINK_TAGS:
            if element in wanted:
                headings[element] = current
        else:
            current = element
    return headings


def href_features(href: str, parts, host: str, facts: PageFacts) -> list[str]:
    """What the URL says: fragment, mailto/tel/javascript, same site or external (and which), home page, depth,
    query, the words of its first two path segments. ``parts`` is its ``urlsplit`` (None when it has none)."""
    lowered = href[:11].lower()
    if lowered.startswith("#"):
        return ["h:fragment"]
    for scheme in ("mailto:", "tel:", "javascript:"):
        if lowered.startswith(scheme):
            return [f"h:{scheme[:-1]}"]
    features = []
    if host and _tail(host) != facts.host_tail:
        features.append("h:external")
        first = host.removeprefix("www.").split(".")[0]
        features.append(f"hx:{first[:20]}")
    else:
        features.append("h:internal")
    if parts is None:
        return features
    path = parts.path.strip("/")
    if not path and not parts.query:
        features.append("h:root")
    segments = [s for s in path.split("/") if s]
    features.append(f"hd:{min(len(segments), 5)}")
    if parts.fragment:
        features.append("h:has-fragment")
    if parts.query:
        features.append("h:query")
    words = token_words(" ".join(segments[:2]))[:MAX_WORDS]
    features.extend(f"hu:{word}" for word in words if len(word) <= 20)
    return features


def link_groups(facts: PageFacts, link, inclusive: bool = False) -> list:
    """For each of ``GROUP_SIZES``, the nearest ancestor of ``link`` (``inclusive``: or ``link`` itself) holding
    that many links, or None."""
    wanted = list(GROUP_SIZES)
    found = []
    for ancestor in link.iterancestors() if not inclusive else (link, *link.iterancestors()):
        while wanted and facts.links.get(ancestor, 0) >= wanted[0]:
            wanted.pop(0)
            found.append(ancestor)
        if not wanted:
            break
    return found + [None] * len(wanted)


class Describer:
    """A page's links described for the model. A link's features come in parts: the anchor's own, and parts shared
    with other links, each computed once per page and keyed by what decides it (the rules' verdict and chain,
    where the link is, its run of text, each of its three nearest ancestors, its link groups, its heading), so a
    scorer weighs each part once too (``model.PageScorer``). Parts never share a feature kind, so a link's features
    are their disjoint union."""

    def __init__(self, page, root, anchors):
        self.page = page
        self.facts = PageFacts(root, anchors, list(page.order))
        self.headings = heading_before(root, set(anchors))
        self.shared: dict = {}
        self.area_chain = set(page.area.iterancestors()) if page.area is not None else set()
        self.arounds: dict = {}  # a link's parent -> what it decides for the link (around)

    def keys(self, link, run, rule: tuple[str, str]) -> list:
        """The keys of the link's shared parts: its own (``own_keys``) and its parent's (``parent_keys``)."""
        return [*self.own_keys(link, run, rule), *self.parent_keys(link.getparent())]

    def own_keys(self, link, run, rule: tuple[str, str]) -> list:
        """The keys of the shared parts a link does not share with its siblings: the rules' verdict and chain, where
        it is, its run of text, its heading."""
        page = self.page
        order = page.order[link]
        in_article, block = self.around(link.getparent())
        if page.article is None:
            article = "none"
        elif in_article:
            article = "in"
        else:
            article = "after" if order > page.article_end else "before"
        return [
            ("rule", *rule, *page._chain(link)),
            ("where", min(int(10 * order / max(len(page.order), 1)), 9), page.relative_position(link), article,
             order < page.first_h1, order > page.footer_end()),
            ("run", id(run), block),
            ("heading", self.headings.get(link)),
        ]

    def around(self, parent) -> tuple:
        """What a link's parent decides for it, once per parent: whether it is in the article, its block."""
        around = self.arounds.get(parent)
        if around is None:
            if parent is None:
                around = False, None
            else:
                article = self.page.article
                in_article = article is not None and (parent is article or self.page.inside(parent, article))
                around = in_article, parent if parent.tag in BLOCK_TAGS else _block_of(parent)
            self.arounds[parent] = around
        return around

    def parent_keys(self, parent) -> list:
        """The keys of the parts a link shares with its siblings: its near ancestors (by distance) and its link
        groups."""
        if parent is None:
            return []
        keys: list = []
        element, depth = parent, 0
        while element is not None and depth < NEAR and element.tag not in ("body", "html"):
            depth += 1
            keys.append((depth, element))  # the near ancestors' parts, by distance
            element = element.getparent()
        keys.extend(("group", size, container)
                    for size, container in zip(GROUP_SIZES, link_groups(self.facts, parent, inclusive=True))
                    if container is not None)
        return keys

    def parts(self, link, run, rule: tuple[str, str]) -> list[tuple[object, tuple[str, ...]]]:
        """``[(key, features)]``: the anchor's own features (key None), then the shared parts."""
        parts: list[tuple[object, tuple[str, ...]]] = [(None, tuple(self.anchor(link, run)))]
        shared = self.shared
        for key in self.keys(link, run, rule):
            features = shared.get(key)
            if features is None:
                features = shared[key] = tuple(dict.fromkeys(self.shared_features(key, run)))  # each once
            parts.append((key, features))
        return parts

    def shared_features(self, key, run) -> list[str]:
        """The features of the shared part ``key`` (``run`` is the link's, for a run part)."""
        kind = key[0]
        if kind == "rule":
            return rule_features(*key[1:])
        if kind == "where":
            return where_features(*key[1:])
        if kind == "run":
            return run_features(run, key[2])
        if kind == "group":
            _, size, container = key
            return [*group_features(self.facts, size, container), f"g{size}a:{self._against_area(container)}"]
        if kind == "heading":
            return heading_features(key[1])
        depth, element = key
        label = self.page.label(element)
        return [f"n{depth}t:{element.tag}", *(f"n{depth}w:{word}" for word in _own_words(element)),
                *((f"n{depth}l:{label}",) if label is not None else ())]

    def plain_key(self, key, run) -> tuple:
        """What the features of the shared part ``key`` are read from, as plain values (strings and numbers, no
        element): two parts with the same plain key have the same features, on any page, so a scorer may remember
        their weights across pages (``model.PageScorer.part_score``)."""
        kind = key[0]
        if kind == "rule" or kind == "where":
            return key  # plain values already
        if kind == "run":
            block = key[2]
            return "run", run.chars, run.link_chars, run.links, block.tag if block is not None else None
        if kind == "group":
            _, size, container = key
            return ("group", size, *group_buckets(self.facts, container), container.tag, container.get("class"),
                    container.get("id"), self._against_area(container))
        if kind == "heading":
            heading = key[1]
            return ("heading",) if heading is None else ("heading", heading.tag, heading.text_content())
        depth, element = key  # a near ancestor
        return "near", depth, element.tag, element.get("class"), element.get("id"), self.page.label(element)

    def _against_area(self, container) -> str:
        """Where a group container lies against the main area (rule 6): around it, in it, before or after it."""
        area = self.page.area
        if area is None:
            return "none"
        if container is area or container in self.area_chain:
            return "holds"
        if self.page.inside(container, area):
            return "in"
        return "before" if self.page.order[container] < self.page.order[area] else "after"

    def anchor(self, link, run) -> list[str]:
        """What is the link's alone: image or text, its words, its class, rel and URL."""
        start, end = run.spans.get(link, (0, 0))
        text = run.text[start:end]
        features = ["img"] if start == end else []
        features.append(f"tl:{_bucket(len(text), CHARS)}")
        words = _TEXT_WORD.findall(text)
        if len(words) <= MAX_WORDS:
            features.extend({f"aw:{word.lower()}" for word in words})  # a set: a feature counts once
        features.extend(f"ac:{word}" for word in _words_of(link.get("class")))
        rel = (link.get("rel") or "").lower().split()
        features.extend({f"rel:{value}" for value in rel if value in ("nofollow", "ugc", "sponsored", "me")})
        href = self.facts.urls[link][0]
        features.extend(href_features(*self.facts.urls[link], self.facts))
        features.append(f"rep:{_bucket(self.facts.repeats[href], COUNTS)}")
        return features


def rule_features(region, reason, breadcrumb, absorbing, nearest, weak, container) -> list[str]:
    """The rules' verdict and reason (``_region``) and what the link's chain says (``layout._Page._chain``)."""
    features = [f"rule:{region}", f"why:{reason}", f"rw:{region}/{reason}", f"abs:{absorbing}", f"near:{nearest}",
                f"weak:{weak}", f"cont:{container}"]
    if breadcrumb:
        features.append("bc")
    return features


def where_features(decile, where, article, before_h1, after_footer) -> list[str]:
    """Where the link is: tenth of the document, against the main area (rule 6), the article (rule 4), the first
    ``h1`` and the page's footers."""
    features = [f"pos:{decile}", f"where:{where}", f"art:{article}", "h1:before" if before_h1 else "h1:after"]
    if after_footer:
        features.append("after-footer")
    return features


def run_features(run, block) -> list[str]:
    """The link's run of inline text: running text or not, its non-link characters, link density, links."""
    features = [
        f"rc:{_bucket(run.chars - run.link_chars, CHARS)}",
        f"rd:{_bucket(run.link_chars / run.chars, SHARES) if run.chars else 'none'}",
        f"rl:{_bucket(run.links, COUNTS)}",
        f"blk:{block.tag if block is not None else None}",
    ]
    if is_running_text(run):
        features.append("running")
    return features


def group_features(facts: PageFacts, size: int, container) -> list[str]:
    """The nearest container holding ``size`` links: how much of it is link text, how much text, how many of the
    page's links and of its text it holds, its tag and words."""
    density, text, share, links, page = group_buckets(facts, container)
    return [
        f"g{size}d:{density}",
        f"g{size}c:{text}",
        f"g{size}s:{share}",
        f"g{size}t:{container.tag}",
        f"g{size}n:{links}",
        f"g{size}p:{page}",
        *(f"g{size}w:{word}" for word in _own_words(container)),
    ]


def group_buckets(facts: PageFacts, container) -> tuple[int, int, int, int, int]:
    """A link group container's numbers, bucketed: its link density, its text outside links, its share of the
    page's links, its links, its share of the page's text."""
    chars = facts.chars.get(container, 0)
    inside = facts.link_chars.get(container, 0)
    density = inside / chars if chars else 1.0
    links = facts.links[container]
    return (
        _bucket(density, SHARES),
        _bucket(chars - inside, CHARS),
        _bucket(links / facts.total_links, SHARES),
        _bucket(links, COUNTS),
        _bucket(chars / facts.page_chars, SHARES),
    )


def _own_words(element) -> tuple[str, ...]:
    """The words of an element's class and id, each once."""
    return _words_of(element.get("class"), element.get("id"))


@lru_cache(maxsize=16384)
def _words_of(*values) -> tuple[str, ...]:
    words = set()
    for value in values:
        words.update(token_words(value))
    return tuple(sorted(words))


def heading_features(heading) -> list[str]:
    """The level and first words of a heading (computed once per heading, not per link)."""
    if heading is None:
        return ["hl:none"]
    words = [w.lower() for w in _TEXT_WORD.findall(heading.text_content() or "")[:MAX_WORDS]]
    return [f"hl:{heading.tag}", *(f"hw:{word}" for word in words)]
