"""The state of one expected backlink, from what fetching its source page showed.

States (docs/pitfalls.md §5, after Ahrefs' lost-link reasons), each row with a ``reason`` and ``flags``:

- ``live``: the link is on the page, followed, and the page is indexable. A source that redirects to a page
  holding the link is live; the row's ``redirect_chain`` and ``final_url`` show the redirect.
- ``degraded``: the link is there and the page indexable, but ``flags`` name what weakens it: ``nofollow``,
  ``sponsored``, ``ugc`` (its ``rel``), ``page_nofollow`` (the page's robots directives make every link
  nofollow), ``anchor_changed`` (differs from ``expected_anchor``), ``rel_changed`` (its nofollow/sponsored/ugc
  tokens differ from ``expected_rel``).
- ``lost``: ``link_removed`` (page fine, link gone), ``page_not_found`` (4xx, or a 200 page whose title or first
  heading says it is missing, when the link is gone), ``page_gone`` (410), ``page_redirected`` (a redirect to a
  page without the link), ``noindex`` (meta robots or ``X-Robots-Tag``), ``canonical_elsewhere``
  (``rel=canonical`` names another URL), ``dns_nxdomain`` (the source's domain no longer exists).
- ``unverified``: we could not look, so we say nothing about the link: ``timeout``, ``page_error`` (5xx after
  retries, or an answer that is not a usable page), ``blocked`` (bot wall, 401/403/999), ``rate_limited`` (429
  after retries), ``robots_disallowed`` (robots.txt forbids the page and we obey it), and the other network
  failures ``crawler.checks.verdict.failure_reason`` names (``dns_error``, ``connection_refused``,
  ``connection_error``, ``no_route``, ``tls_error``), ``not_html`` and ``unparseable``.

Lost outranks degraded: a nofollow link on a noindex page is lost (its flags are still recorded). When several
links on the page match the target, the row describes the best one: in the main content before elsewhere, in a
content region before boilerplate, followed before nofollow/sponsored/ugc, then the one matching the expected
anchor and rel, then the first on the page; ``matches`` counts them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crawler.backlinks.inputs import WEIGHT_TOKENS
from crawler.backlinks.robots import is_nofollow_page, is_noindex
from crawler.checks.verdict import failure_reason, looks_not_found, status_verdict
from crawler.extract.page import collapse
from schemas.records import LinkRow

LIVE, DEGRADED, LOST, UNVERIFIED = "live", "degraded", "lost", "unverified"
STATES = (LIVE, DEGRADED, LOST, UNVERIFIED)
FLAGS = ("nofollow", "sponsored", "ugc", "page_nofollow", "anchor_changed", "rel_changed")

# crawler.checks.verdict reasons of an HTTP status -> (state, reason) of the source page
_STATUS_OUTCOMES = {
    "http_404": (LOST, "page_not_found"),
    "http_4xx": (LOST, "page_not_found"),
    "http_410": (LOST, "page_gone"),
    "http_5xx": (UNVERIFIED, "page_error"),
    "blocked": (UNVERIFIED, "blocked"),
    "rate_limited": (UNVERIFIED, "rate_limited"),
}


@dataclass(frozen=True)
class SourcePage:
    """What fetching a source page told us (fields stay empty when no answer came)."""

    url: str  # as listed in the input, normalized
    final_url: str | None = None
    http_status: int | None = None
    redirect_chain: tuple[str, ...] = ()  # every URL after the first, in order
    canonical_url: str | None = None
    meta_robots: str | None = None
    x_robots_tags: tuple[str, ...] = ()  # each X-Robots-Tag header
    title: str | None = None
    h1: str | None = None
    error: str | None = None  # the network error, when there was no answer


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str | None = None
    flags: tuple[str, ...] = ()
    link: LinkRow | None = None  # the best matching link, its placement columns filled
    matches: int = 0


def failure_decision(exc: BaseException, host: str) -> Decision:
    """No usable answer: robots.txt forbade the fetch, the name does not exist, or the network failed."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError

    from crawler.dns import BlockedRequest

    if isinstance(exc, BlockedRequest):  # the address guard refused the page's address
        return Decision(UNVERIFIED, "blocked_address")
    if isinstance(exc, IgnoreRequest):
        # RobotsTxtMiddleware's refusal; other refusals (too many redirects) leave us unable to see the page
        return Decision(UNVERIFIED, "robots_disallowed" if "robots.txt" in str(exc) else "page_error")
    if isinstance(exc, HttpError):  # a status no callback takes: a 3xx without a Location
        return Decision(UNVERIFIED, "page_error")
    _, reason, _ = failure_reason(exc, host)
    return Decision(LOST if reason == "dns_nxdomain" else UNVERIFIED, reason)


def status_decision(status: int, headers: Mapping[str, str]) -> Decision | None:
    """The decision an HTTP status makes on its own (``headers`` with lower-case names); ``None`` for 2xx."""
    judged = status_verdict(status, headers)
    if judged is None:
        return None
    state, reason = _STATUS_OUTCOMES.get(judged[1], (UNVERIFIED, "page_error"))
    return Decision(state, reason)


def same_anchor(expected: str, actual: str | None) -> bool:
    """Anchors are compared as people read them: case and runs of whitespace do not count."""
    return collapse(expected).casefold() == collapse(actual).casefold()


def weight_tokens(rel: Sequence[str]) -> set[str]:
    return {token for token in rel if token in WEIGHT_TOKENS}


def _rank(link: LinkRow, expectation: dict) -> tuple:
    anchor, rel = expectation.get("expected_anchor"), expectation.get("expected_rel")
    return (
        not link.in_main_content,
        link.region != "content",
        bool(weight_tokens(link.rel)),
        anchor is not None and not same_anchor(anchor, link.anchor_text),
        rel is not None and weight_tokens(link.rel) != set(rel.split()),
        link.ordinal,
    )


def best_link(links: Sequence[LinkRow], expectation: dict) -> LinkRow | None:
    return min(links, key=lambda link: _rank(link, expectation), default=None)


def link_flags(link: LinkRow, expectation: dict, page: SourcePage) -> tuple[str, ...]:
    """What weakens a link that is there, in ``FLAGS`` order."""
    found = weight_tokens(link.rel)
    if is_nofollow_page(page.meta_robots, page.x_robots_tags) and "nofollow" not in found:
        found.add("page_nofollow")
    anchor, rel = expectation.get("expected_anchor"), expectation.get("expected_rel")
    if anchor is not None and not same_anchor(anchor, link.anchor_text):
        found.add("anchor_changed")
    if rel is not None and weight_tokens(link.rel) != set(rel.split()):
        found.add("rel_changed")
    return tuple(flag for flag in FLAGS if flag in found)


def decide(expectation: dict, page: SourcePage, links: Sequence[LinkRow]) -> Decision:
    """The decision for an HTML page that answered 2xx; ``links`` are its links that match the target."""
    if not links:
        if page.redirect_chain:
            return Decision(LOST, "page_redirected")
        if looks_not_found(page.title, page.h1):
            return Decision(LOST, "page_not_found")
        return Decision(LOST, "link_removed")
    link = best_link(links, expectation)
    flags = link_flags(link, expectation, page)
    found = dict(flags=flags, link=link, matches=len(links))
    if is_noindex(page.meta_robots, page.x_robots_tags):
        return Decision(LOST, "noindex", **found)
    if page.canonical_url and page.canonical_url != page.final_url:
        return Decision(LOST, "canonical_elsewhere", **found)
    return Decision(DEGRADED if flags else LIVE, None, **found)
