"""Where each link sits on its page: the page region, whether it is part of the main text, and the words around it.

SEO users judge a link by its position (Screaming Frog's "link position", Ahrefs' ``is_content``): an editorial
link inside an article is worth more than the same link in a sitewide footer, and a backlink that moved out of the
content is *degraded*. This module answers that from the lxml tree the spider already parsed; trafilatura reads
the same tree (it copies it internally), so a page is downloaded, decoded and parsed once.

Regions
=======
``REGIONS`` names where a link sits. The rules decide in this order, the first decision winning (then the learned
model weighs their verdict, below):

1. **Per-site rules** (``LINK_REGION_RULES``, see :func:`compile_rules`): the first rule that matches the link or
   one of its ancestors.
2. **Page chrome among the link and its ancestors.** Each element may carry one label. Per element, strongest
   first: a breadcrumb marker (``aria-label`` mentioning breadcrumb, schema.org ``BreadcrumbList``); a main-area
   container (``main``, ``role=main``, ``itemprop=articleBody``); the comments/footer/sidebar words of its id and
   class; its HTML5 landmark or ARIA role (``nav``, ``header``, ``footer``, ``aside``, ``article``, ``navigation``,
   ``banner``, ``contentinfo``, ``complementary``, ``menu``); then its other words (navigation, header, widget,
   related/share/social/ad boxes, content). Ids and classes are split into words on ``-``, ``_``, spaces and
   camelCase and matched as whole words, so ``navy``, ``unavailable``, ``canvas`` and ``commentary`` mean nothing;
   ``aside`` and ``secondary`` count only as a whole class (``text-align-aside``, ``btn-secondary`` do not). In a
   BEM name (``GlobalNav__social-widget``) the element part's region words outrank the block's.
   Over the chain:

   - a **breadcrumb** anywhere wins: a trail is a trail wherever a theme puts it (phpBB repeats it in the footer).
   - **footer**, **sidebar** and **comments** *absorb* what they contain; the outermost one decides. A footer menu
     (``footer > nav``, which Screaming Frog calls navigation and warns about), footer widgets and social icons
     are ``footer``; a menu widget in a sidebar and a docs sidebar's page tree are ``sidebar``; a comment's own
     header, footer and reply links are ``comments``. Forum signatures and comment forms are ``comments`` too:
     text users add under a post, not the page's content. Forum posts themselves are ``content``.
   - otherwise the **nearest** of navigation and header decides: the menu inside a site header is ``navigation``
     while the logo beside it is ``header``; a table of contents or series menu inside an article
     (``article > nav``) and post-to-post links are ``navigation``. Social icons in the site's menu bar are
     ``header``, as in its banner; a header table cell holding a row of four or more links (a 2008 layout's
     ``td.topHeader``) is ``navigation``.
   - weak labels, ``sidebar`` only when nothing stronger encloses them: related/similar posts, share and social
     buttons, ads (social icons in a header stay ``header``), and a ``widget`` (Blogger calls its header and its
     post list widgets too).

   Scoping follows HTML-AAM: a ``header``/``footer`` inside ``article``, ``aside``, ``main`` or ``nav`` is that
   article's own header/footer (byline, categories, tags, "edit this page"), not the site banner or contentinfo;
   it decides nothing, whatever its class says, and neither does any element there whose class says header or
   footer (Docusaurus' ``theme-doc-footer-edit-meta-row``), so those links end up ``content``. The exception is a
   ``<footer>`` scoped by ``main`` alone that claims a copyright: libxml2 leaves a page's footer inside a
   ``<main>`` the page never closed. ``<section>``
   does not scope: themes use it as a plain wrapper. An ``aside`` in the site header or footer is part of it
   (social links beside the logo). One token naming both a side and a menu (``sidebar-nav``, ``left-bar-menu``)
   is a menu; a complementary word next to a tag/topic/embed word (``RelatedTags``, ``related-topics``,
   ``social-media-embed``) is the article's own. Class words alone mark item headers/footers too
   (``entry-header``, ``card-footer``, ``message-footer``, ``page-header``...). An ``aside`` inside an article is
   a call-out (content) unless it is labelled (``aria-label``). **Wrappers are not regions**: an element that
   contains the main area (``main``, ``articleBody``, ``entry-content``, ``post-body``... holding running text)
   or most of the page's running text decides nothing, whatever its classes say (``content-sidebar-wrap``,
   ``wy-nav-content``, page builders that wrap a whole article in ``<header>``); only the heaviest main-area
   container and those holding a fifth of the text count, so teaser cards reusing ``entry-content`` for their
   excerpts leave their "related posts" box a related box. ``html`` and ``body`` never
   decide; state classes (``menu-open``, ``has-sidebar``, ``navigation-not-searchable``), WordPress taxonomy
   classes (``tag-menu``) and page-builder widget classes (``elementor-widget-*``) say nothing about regions.
3. **Layout columns.** A grid column (``col-md-4``, ``span3``, ``large-4``, ``col--3``...) or table cell beside
   a sibling column holding at least twice its running text is a side column: ``navigation`` when it comes first
   and is a list of links (the left menu of a table layout), ``sidebar`` otherwise. With known widths the side
   column must be the narrower one; columns inside an article are the article's own layout.
4. **After the article.** The *article* is the outermost ``main``/``article``/main-area container around the main
   area (rule 6). A link after it whose run is not running text is ``sidebar``: "more stories" rows, teaser cards
   (each its own ``<article>``), sponsored slides, which are rule 2's related boxes without their words; ``footer``
   when it is after the page's footer or near a footer mark.
5. A link inside a content container (``main``, ``role=main``, ``article``, ``articleBody``, ``entry-content``,
   ``post-body``...) is ``content``.
6. **Where the running text is**, for pages without (enough) hints. Running text is every text node of at least
   25 characters outside links and outside the chrome; the *main area* is the deepest element holding 60% of it,
   when some links lie outside it. When the page has one ``<main>`` holding at least 15% of the running text,
   the main area is sought inside it (60% of *its* text): a long teaser grid after a short article is not the
   article. A link inside the main area is ``content``. Outside it, a link near a footer
   mark (``©``, "copyright 2021", "all rights reserved", "powered by", "last updated" in its block or the short
   blocks around it) or after the page's footer region (toolbars and banners appended to the page) is
   ``footer``; a link before the main area and before the page's first ``h1`` is ``header`` when it is an image
   (a logo) or alone, ``navigation`` when it belongs to a group of links (a menu). Anything else on a page with
   running text is ``content`` (sections of a landing page, lists after an intro).
7. Pages without any running text: a link in a weak content container (a ``content``/``post``/``entry`` word),
   a link trafilatura keeps, or a link in running text (its own run has at least 40 characters of non-link text,
   under half of it link text) is ``content``; anything else is ``unknown``.

trafilatura is only the tie-breaker of rule 7: its fast extraction keeps menus, footers and link lists on small
pages and drops link lists that are the page's content (measured on the fixtures), while rules 2-5 are exact on
hinted markup. It answers the other question, whether a link is part of the main text, below.

The learned model
=================
Rules 2-7 give a verdict and the rule that gave it; with ``model=True`` (``PLACEMENT_MODEL``, the default) a
multinomial logistic regression (``model.py``, weights in ``model.json``) takes that verdict as one feature among
the link's others (``features.py``: its ancestors' landmarks, roles and class/id words, its near ancestors, its
link groups, where it is against the main area, its run of text, its heading, the anchor and its URL) and gives
the region; it never says ``unknown``. It is trained on the labelled real pages' tuning part and the fixtures
(``python -m tests.realpages.train``), so it learns where the rules go wrong on real pages; rule 1 (per-site
rules) still wins over it. docs/placement.md has its features, figures and cost.

Each row's ``region_confidence`` is the model's softmax probability of the region it chose (``model.Model.decide``,
from the same scores, rounded to 3 decimals): how far to trust the row (docs/placement.md, "Confidence"). It is
None wherever the model did not decide: ``model=False``, no ``model.json``, a link placed by a per-site rule.

Main content
============
``main_content`` (``PLACEMENT_MAIN_CONTENT``) says where ``in_main_content``, ``position`` and ``paragraph_index``
come from. ``"auto"`` (default): the page's article (rule 4) when it has one, trafilatura's main text when it has
none; ``"article"``: the article alone; ``"trafilatura"``: trafilatura on every page; ``False``: none (the three
columns are None). On the labelled real pages trafilatura on every page buys half a point of ``in_main_content``
for ~1.7x the placement time (docs/placement.md, "Main content").

From the article: ``in_main_content`` is true for ``content`` links in the article or a strong content container;
``position`` is the link's offset in the article's text over its length, ``paragraph_index`` its block among the
article's paragraphs, headings, list items and cells (``maincontent.article_positions``).

From trafilatura (``fast=True``: the readability/justext comparison costs 2-15x more and its justext output drops
links), run on the same tree with links kept. To map its output back to elements without text guessing, each
``<a>`` gets a unique marker ``href`` for the duration of the call (restored in ``finally``; trafilatura copies the
tree and copies ``href`` verbatim into ``<ref target>``), so a kept link is found by identity. When the output
holds no link at all (trafilatura's baseline fallback returns plain text), a link is kept when its text with its
surrounding words appears in the main text. Links without text (image links, which trafilatura always drops) count
as kept when they sit between kept links. ``in_main_content`` is true for ``content`` links that trafilatura kept or
that lie in a strong content container or the article of rule 4: fast mode drops link lists ("further reading",
resource lists, link roundups), which are the main content of such pages. ``position`` and ``paragraph_index`` are
then offsets in trafilatura's text and its blocks. A trafilatura crash is logged and the article's figures are used.

Either way ``in_main_content`` is never true outside ``content``, so the two columns never contradict each other,
and ``position``/``paragraph_index`` are set for main-content links only.

Text around a link
==================
A link's *block* is its nearest block-level ancestor; nested blocks split it into separate runs of inline text,
and a link's text columns come from its run only (``text_before``/``text_after`` up to 150 characters, cut at a
word boundary). ``sentence`` is set when the run is running text (rule 7), cut at sentence punctuation followed by
a capital, capped at 300 characters around the link; for a main-content link that is a whole list item (a resource
list) it is the list's lead-in: the last sentence of the paragraph before the list, or its heading. ``links_in_block`` counts every ``<a href>``/``<area href>``
in the run; ``block_link_density`` is the share of the run's characters (spaces aside) inside links, 0 for a run
without text.
``heading`` is the nearest preceding ``h1``-``h3``.
"""

from __future__ import annotations

import lxml.etree

from crawler.extract.page import collapse
from crawler.extract.placement.features import Describer, element_features, heading_before
from crawler.extract.placement.layout import _Page
from crawler.extract.placement.maincontent import article_positions, find_main_content, main_content_mode
from crawler.extract.placement.model import PageScorer, shipped_model
from crawler.extract.placement.rules import RegionRule, _rule_region, compile_rules
from crawler.extract.placement.runs import Run, _block_of, _clip_end, _clip_start, is_running_text, sentence_of
from crawler.extract.placement.vocabulary import (
    _SENTENCE_END,
    REGIONS,
    RUNNING_TEXT_MIN,
    SENTENCE_LIMIT,
    TEXT_LIMIT,
)

__all__ = ["REGIONS", "RegionRule", "compile_rules", "place_links"]



def lead_in(link, run: Run) -> str | None:
    """The context of a link that is a whole list item ("Further reading", resource lists): the last sentence of
    the paragraph that introduces its list, else the list's heading; None when the item has words of its own."""
    block = _block_of(link)
    if block.tag not in ("li", "dd", "dt") or run.chars - run.link_chars >= RUNNING_TEXT_MIN:
        return None
    items = block.getparent()
    if items is None:
        return None
    previous = items.getprevious()
    # comments and processing instructions are siblings too (a tree parsed with comments kept)
    while previous is not None and (not isinstance(previous.tag, str) or not collapse(previous.text_content())):
        previous = previous.getprevious()
    if previous is None or previous.tag not in ("p", "h2", "h3", "h4", "h5", "h6", "div", "strong", "b", "dt"):
        return None
    text = collapse(previous.text_content())
    if previous.tag == "p" or previous.tag == "div":
        boundaries = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]
        text = text[boundaries[-1]:] if boundaries else text
    return _clip_end(text, SENTENCE_LIMIT) or None


def _context_in_main(run: Run, link, main_text: str) -> bool:
    start, end = run.spans.get(link, (0, 0))
    context = run.text[max(0, start - 40) : end + 40].strip()
    return len(context) >= 25 and context in main_text


def _region(page: _Page, link, run: Run, kept: bool) -> tuple[str, str]:
    """Rules 2-7 for one link: its region and which rule decided it (the learned model reads both, ``model.py``)."""
    region, container = page.chrome(link)
    if region == "header" and page.is_menu(link, run):
        # a table layout's header cell holding a row of links without any menu markup (``td.menuHeader``) is a
        # menu: rule 6 reads a group of links before the content the same way
        return "navigation", "header-menu"
    if region is not None:
        return region, "chrome"
    side = page.side_column(link)
    if side is not None:
        return side, "column"
    if page.article is not None and page.order[link] > page.article_end and not is_running_text(run):
        # link lists after the article ("more stories", teaser rows of <article> cards, sponsored slides) are the
        # related boxes of rule 2 without their words; a footer without markup still shows its marks
        if page.order[link] > page.footer_end() or page.near_footer_mark(link, run):
            return "footer", "after-article"
        return "sidebar", "after-article"
    if container == "strong":
        return "content", "container"
    where = page.relative_position(link)
    if where == "inside":
        return "content", "area"
    if where == "after the footer" or (where is not None and page.near_footer_mark(link, run)):
        return "footer", "mark"
    if where == "before":
        start, end = run.spans.get(link, (0, 0))
        if start == end:
            return "header", "before-image"  # an image before the content: a logo
        return ("navigation" if page.group_size(link, run) >= 2 else "header"), "before"
    if where is not None or container or kept or is_running_text(run):
        return "content", "rest"
    return "unknown", "none"


def describe_links(root, anchors, kept=frozenset()) -> list[tuple[tuple[str, str], frozenset]]:
    """Each link's rules verdict (region, reason) and every feature the model reads of it, its ancestors' included,
    each once: what training fits and the tests check (``place_links`` scores the same features part by part,
    ``model.PageScorer``)."""
    anchors = list(anchors)
    if not anchors:
        return []
    page = _Page(root, anchors)
    runs = [page.run(link) for link in anchors]
    for link in anchors:
        page.chrome(link)
    describer = Describer(page, root, anchors)
    described = []
    for index, link in enumerate(anchors):
        rule = _region(page, link, runs[index], index in kept)
        features = set()
        for _, part in describer.parts(link, runs[index], rule):
            features.update(part)
        for ancestor in link.iterancestors():
            if ancestor.tag not in ("html", "body"):
                features.update(element_features(ancestor, page.label(ancestor)))
        described.append((rule, frozenset(features)))
    return described


def place_links(tree, anchors, *, rules=(), main_content="auto", site: str | None = None, model=True) -> list[dict]:
    """Place every link of a parsed page; see the module docstring for how.

    ``tree`` is the page's lxml tree (root element or ElementTree), ``anchors`` its ``<a href>``/``<area href>``
    elements in document order. ``rules`` come from :func:`compile_rules`; rules limited to a site apply when
    ``site`` (the page's host) is that host or a subdomain. ``main_content`` is ``"auto"``, ``"article"``,
    ``"trafilatura"`` or False (``maincontent.main_content_mode``; see "Main content" above): with False,
    ``in_main_content``, ``position`` and ``paragraph_index`` are None. ``model=False`` places by the
    rules alone (``PLACEMENT_MODEL``); by default the learned model (``model.py``) decides from the rules' verdict
    and the link's features, and ``rules`` still win over both.

    Returns one dict per anchor: ``region`` (one of ``REGIONS``), ``in_main_content``, ``region_confidence`` (the
    model's probability of the region, 3 decimals; None when the model did not decide it: ``model=False``, no
    ``model.json``, or a user rule placed the link), ``text_before``, ``text_after``, ``sentence``, ``heading``,
    ``paragraph_index``, ``position``, ``links_in_block``, ``block_link_density``.
    """
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    anchors = list(anchors)
    if not anchors:
        return []
    page = _Page(root, anchors)
    if any(link not in page.order for link in anchors):
        raise ValueError("place_links: every anchor must be an element of the given tree")
    active = [rule for rule in rules if rule.applies_to(site.lower() if site else None)]
    matched = [
        {e for e in rule.xpath(root) if isinstance(e, lxml.etree._Element)} if rule.xpath is not None else None
        for rule in active
    ]
    mode = main_content_mode(main_content)
    use_trafilatura = mode == "trafilatura" or (mode == "auto" and page.article is None)
    main = find_main_content(root, anchors) if use_trafilatura else None
    kept = main.kept if main is not None else {}  # link index -> its place in trafilatura's text
    if mode is not None and main is None and page.article is not None:  # the article's (also if trafilatura failed)
        index_of = {link: index for index, link in enumerate(anchors)}
        positions = {index_of[link]: place for link, place in article_positions(page.article, set(anchors)).items()}
    else:
        positions = kept
    runs = [page.run(link) for link in anchors]
    for link in anchors:
        page.chrome(link)  # resolves every chain first: the page's footers are then known
    if main is not None and not kept and main.text:
        kept = {i: (None, None) for i, link in enumerate(anchors) if _context_in_main(runs[i], link, main.text)}
    first_kept, last_kept = (min(kept), max(kept)) if kept else (None, None)
    headings = heading_before(root, set(anchors), levels=3)  # the row's ``heading``: h1-h3
    learned = shipped_model() if model else None
    if learned is not None:
        scorer = PageScorer(learned, page.label)
        describer = Describer(page, root, anchors)

    heading_texts = {None: ""}  # heading -> the row's text of it
    rows = []
    for index, link in enumerate(anchors):
        run = runs[index]
        start, end = run.spans.get(link, (0, 0))
        # image links are never in trafilatura's output: kept when they sit between kept links
        is_kept = index in kept or (start == end and first_kept is not None and first_kept < index < last_kept)
        region = _rule_region(link, active, matched) if active else None
        confidence = None  # the model's probability of its region; None when a user rule or the rules alone decide
        if region is None:
            region, reason = _region(page, link, run, is_kept)
            if learned is not None:
                region, probability = scorer.region(describer, link, run, (region, reason))
                confidence = round(probability, 3)
        in_main = None if mode is None else (region == "content" and (is_kept or page.in_article(link)))
        position, paragraph = positions.get(index, (None, None)) if in_main else (None, None)
        heading = headings.get(link)
        heading_text = heading_texts.get(heading)
        if heading_text is None:  # once per heading: a heading is over many links
            heading_text = heading_texts[heading] = _clip_start(collapse(heading.text_content()), TEXT_LIMIT)
        rows.append(
            {
                "region": region,
                "in_main_content": in_main,
                "region_confidence": confidence,
                "text_before": _clip_end(run.text[:start].rstrip(), TEXT_LIMIT),
                "text_after": _clip_start(run.text[end:].lstrip(), TEXT_LIMIT),
                "sentence": (
                    sentence_of(run, start, end)
                    if is_running_text(run)
                    else lead_in(link, run) if in_main else None
                ),
                "heading": heading_text or None,
                "paragraph_index": paragraph,
                "position": position,
                "links_in_block": run.links,
                "block_link_density": round(run.link_chars / run.chars, 4) if run.chars else 0.0,
            }
        )
    return rows

