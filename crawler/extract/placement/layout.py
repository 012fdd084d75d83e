"""The page's layout: columns, the main area, side columns, what wraps what."""

from __future__ import annotations

from crawler.extract.page import collapse
from crawler.extract.placement.labels import element_label
from crawler.extract.placement.runs import Run, _block_of, _last_descendant, block_runs, is_running_text
from crawler.extract.placement.vocabulary import (
    _COLUMN,
    _FOOTER_MARK,
    _NON_WORD,
    _RUNNING_TEXT,
    ABSORBING,
    AREA_SHARE,
    BIG_CHROME,
    CHROME_LABELS,
    FOOTER_WINDOW,
    MAIN_SHARE,
    MENU_LINKS,
    SIDE_TEXT_MIN,
    WRAPPER_SHARE,
)

_UNKNOWN = object()  # an element not labelled yet (None is a label: "says nothing")


# --- the page's layout -------------------------------------------------------------------------------------------
def column_width(element) -> float | None:
    """The share of its row a grid column claims (``col-md-4`` -> 1/3), 0 for a column of unknown width (a table
    cell, ``col``), None when the element is not a column."""
    if element.tag in ("td", "th"):
        return 0.0
    width = None
    for token in (element.get("class") or "").split():
        match = _COLUMN.match(token)
        if not match:
            continue
        g = match.groups()
        if g[3] and g[4]:
            value = int(g[3]) / max(int(g[4]), 1)
        elif g[6] and g[7]:
            value = int(g[6]) / max(int(g[7]), 1)
        else:
            number = g[0] or g[1] or g[2] or g[5]
            value = int(number) / 12 if number else 0.0
        width = value if width is None else max(width, value)
    return width


class _Page:
    """One tree's labels, runs and layout, computed once per call."""

    def __init__(self, root, anchors):
        self.root = root
        self.anchors = anchors
        self.labels: dict = {}
        self.runs: dict = {}  # block -> list[Run]
        self.run_of: dict = {}  # link -> Run
        self.density: dict = {}
        self.widths: dict = {}
        self.chains: dict = {}  # element -> _chain state; filled only once the wrappers are known
        self.footers: set = set()  # outermost footer regions met while resolving chains
        self._footer_end: int | None = None
        self.wrappers: set = set()
        self.ends: dict = {}  # element -> subtree_end
        self._measure_text()

    def label(self, element) -> str | None:
        label = self.labels.get(element, _UNKNOWN)  # not try/except: half the lookups miss, and raising costs more
        if label is _UNKNOWN:
            label = self.labels[element] = None if element.tag in ("html", "body") else element_label(element)
        return label

    # chrome (rule 2)
    def chrome(self, element) -> tuple[str | None, str | None]:
        """The region the element and its ancestors decide (rule 2), and the content container enclosing it:
        'strong' (``main``, ``article``, ``entry-content``...), 'weak' (a content word) or None."""
        breadcrumb, absorbing, nearest, weak, container = self._chain(element)
        return ("breadcrumb" if breadcrumb else absorbing or nearest or weak), container

    def _chain(self, element) -> tuple:
        """What an element's ancestor chain says, memoized per element: (breadcrumb seen, outermost absorbing
        label, nearest navigation/header, weak sidebar, container strength)."""
        cache = self.chains
        pending = []
        node = element
        while node is not None and node not in cache:
            pending.append(node)
            node = node.getparent()
        state = cache[node] if node is not None else (False, None, None, None, None)
        for node in reversed(pending):
            label = self.label(node)
            if label is not None and not (label in CHROME_LABELS and node in self.wrappers):
                breadcrumb, absorbing, nearest, weak, container = state
                if label == "breadcrumb":
                    breadcrumb = True
                elif label in ABSORBING:
                    absorbing = absorbing or label  # the outer one, already in the state, wins
                    if label == "footer" and absorbing == "footer":
                        self.footers.add(node)
                elif label in ("navigation", "header"):
                    nearest = label
                elif label == "complementary" and nearest == "navigation" and not absorbing:
                    nearest = "header"  # social icons in the site's menu bar are the banner's, as in its header
                elif label in ("complementary", "widget"):
                    weak = "sidebar"
                elif label == "content":
                    container = container or "weak"
                else:
                    container = "strong"
                state = (breadcrumb, absorbing, nearest, weak, container)
            cache[node] = state
        return state

    # running text and the main area (rules 3 and 5)
    def _measure_text(self) -> None:
        """Document order, and where the running text is (one C-level XPath for the text)."""
        root = self.root
        self.order = order = {element: position for position, element in enumerate(root.iter())}
        first_h1 = next(root.iter("h1"), None)
        self.first_h1 = order[first_h1] if first_h1 is not None else len(order)
        owners = []
        for text in _RUNNING_TEXT(root):
            owner = text.getparent()
            if text.is_tail:
                owner = owner.getparent()
            if owner is not None:
                owners.append((owner, len(" ".join(text.split()))))
        # wrappers: what contains a main-area container that holds running text, and chrome that holds most of the
        # running text (a page builder's <header> around a whole article). Only the heaviest main-area container and
        # those holding a fair share of the text count: teaser cards reuse the theme's ``entry-content`` for their
        # excerpts, and a "related posts" box around them is still a related box
        everything = self._weigh(owners)
        total = sum(length for _, length in owners)
        bodies = [(weight, element) for element, weight in everything.items() if self.label(element) == "content!"]
        heaviest = max((weight for weight, _ in bodies), default=0)
        for weight, element in bodies:
            if weight == heaviest or weight >= WRAPPER_SHARE * total:
                self.wrappers.update(element.iterancestors())
        for element, weight in everything.items():
            if weight >= AREA_SHARE * total and self.label(element) in BIG_CHROME:
                self.wrappers.add(element)
        main_owners = [(owner, length) for owner, length in owners if self.chrome(owner)[0] is None]
        self.weight = self._weigh(main_owners)
        self.area = self.first = self.article = None
        self.article_end = len(order)
        if not main_owners:
            return
        main_total = sum(length for _, length in main_owners)
        scope, scope_total = None, main_total
        # the page's one <main> is its dominant content (HTML Living Standard, "the main element"): the main area
        # is sought inside it when it holds a fair share of the text, so a long teaser grid after a short article
        # does not pass for the article
        landmarks = [e for e in self.weight if e.tag == "main" or (e.get("role") or "").strip().lower() == "main"]
        if len(landmarks) == 1 and self.weight[landmarks[0]] >= MAIN_SHARE * main_total:
            scope, scope_total = landmarks[0], self.weight[landmarks[0]]
        holding = [
            e
            for e, w in self.weight.items()
            if w >= AREA_SHARE * scope_total
            and e.tag not in ("html", "body")
            and (scope is None or e is scope or scope in e.iterancestors())
        ]
        area = max(holding, key=order.__getitem__) if holding else None
        anchors = self.anchors
        if area is not None and not all(area in (a, *a.iterancestors()) for a in (anchors[0], anchors[-1])):
            self.area = area  # informative: some links lie outside it
            # the article holding the main area (its tags, author box and post links are its own), and where it ends
            containers = [e for e in (area, *area.iterancestors()) if e.tag == "main" or self.label(e) in ("content!", "article")]
            self.article = containers[-1] if containers else area
            self.article_end = order[_last_descendant(self.article)]
        self.first = min(order[owner] for owner, _ in main_owners)

    @staticmethod
    def _weigh(owners) -> dict:
        weight: dict = {}
        for owner, length in owners:
            for element in (owner, *owner.iterancestors()):
                weight[element] = weight.get(element, 0) + length
        return weight

    def relative_position(self, link) -> str | None:
        """Rule 6: 'inside' the main area, 'before' it (and before the page's first ``h1``: the page's own title and
        what follows it are content), 'after the footer' (toolbars and banners a page appends after its footer),
        or 'outside'; None when the page has no running text."""
        order = self.order[link]
        if self.area is not None and self.inside(link, self.area):
            return "inside"
        start = self.order[self.area] if self.area is not None else self.first
        if start is None:
            return None
        if order < min(start, self.first_h1):
            return "before"
        return "after the footer" if order > self.footer_end() else "outside"

    def in_article(self, link) -> bool:
        """Inside the page's main container (``main``, ``article``, ``entry-content``... or the main area): the link
        lists trafilatura's fast extraction drops ("further reading", resource lists, link roundups) are there."""
        if self.chrome(link)[1] == "strong":
            return True
        return self.article is not None and self.inside(link, self.article)

    def inside(self, element, ancestor) -> bool:
        """Whether ``element`` lies inside ``ancestor`` (``ancestor in element.iterancestors()``) without walking up
        the tree: an element's subtree is a run of document order, from the element to its last descendant."""
        return self.order[ancestor] < self.order[element] <= self.subtree_end(ancestor)

    def subtree_end(self, element) -> int:
        """Document position of ``element``'s last descendant (itself when it has none)."""
        end = self.ends.get(element)
        if end is None:
            end = self.ends[element] = self.order[_last_descendant(element)]
        return end

    def footer_end(self) -> int:
        """Document position of the last element of the page's footers (call once every link's chain is known)."""
        if self._footer_end is None:
            self._footer_end = max(
                (self.order[last] for footer in self.footers for last in [_last_descendant(footer)]),
                default=len(self.order),
            )
        return self._footer_end

    def side_column(self, link) -> str | None:
        """Rule 3: 'navigation' or 'sidebar' when the link sits in a layout column beside the main column."""
        for column in link.iterancestors():
            width = self.width(column)
            if width is None:
                continue
            parent = column.getparent()
            if parent is None or column.tag == "article" or self._inside_article(column):
                return None
            own = self.weight.get(column, 0)
            for sibling in parent:
                if sibling is column or not isinstance(sibling.tag, str):
                    continue
                other_width = self.width(sibling)
                other = self.weight.get(sibling, 0)
                if other_width is None or other < max(SIDE_TEXT_MIN, 2 * own):
                    continue
                if width and other_width and width >= other_width:
                    continue
                density, links = self._link_density(column)
                leading = self.order[column] < self.order[sibling]
                return "navigation" if leading and links >= 3 and density >= 0.6 else "sidebar"
        return None

    def width(self, element) -> float | None:
        if element not in self.widths:
            self.widths[element] = column_width(element)
        return self.widths[element]

    def _inside_article(self, element) -> bool:
        return any(
            a.tag == "article" or (self.label(a) == "content!" and a.tag != "main" and a.get("role") != "main")
            for a in element.iterancestors()
        )

    def _link_density(self, element) -> tuple[float, int]:
        """Share of the element's letters and digits inside links (separators like "·" and "|" do not count)."""
        if element not in self.density:
            total = len(_NON_WORD.sub("", element.text_content()))
            links = element.xpath(".//a[@href]")
            link_chars = sum(len(_NON_WORD.sub("", a.text_content())) for a in links)
            self.density[element] = (link_chars / total if total else 0.0, len(links))
        return self.density[element]

    # text around a link
    def run(self, link) -> Run:
        run = self.run_of.get(link)
        if run is None:
            block = _block_of(link)
            if block not in self.runs:
                self.runs[block] = runs = block_runs(block)
                for candidate in runs:
                    for element in candidate.spans:
                        self.run_of[element] = candidate
            run = self.run_of.get(link)
            if run is None:  # not reachable as inline text of its block (e.g. inside <template>)
                text = collapse(link.text_content()) if link.tag == "a" else ""
                chars = len(text) - text.count(" ")
                run = Run(text=text, spans={link: (0, len(text))}, chars=chars, link_chars=chars, links=1)
                self.run_of[link] = run
        return run

    def near_footer_mark(self, link, run: Run) -> bool:
        """A copyright/"powered by" mark in the link's run or the few short blocks around it."""
        if _FOOTER_MARK.search(run.text):
            return True
        element = _block_of(link)
        while element is not None and element.tag not in ("body", "html"):
            text = element.text_content()
            if len(text) > FOOTER_WINDOW:
                return False
            if _FOOTER_MARK.search(text):
                return True
            element = element.getparent()
        return False

    def is_menu(self, link, run: Run) -> bool:
        """A text link in a table cell, in a group of at least ``MENU_LINKS`` links that is not running text. Only
        cells: a ``<header>`` bar's rows of links are sign-in, social and utility links as often as menus."""
        start, end = run.spans.get(link, (0, 0))
        if start == end or is_running_text(run) or self.group_size(link, run) < MENU_LINKS:
            return False
        return any(ancestor.tag in ("td", "th") for ancestor in link.iterancestors())

    def group_size(self, link, run: Run) -> int:
        block = _block_of(link)
        if block.tag in ("li", "dd", "dt") and block.getparent() is not None:
            return len(block.getparent().xpath(".//a[@href]"))
        return run.links


