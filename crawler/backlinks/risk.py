"""Risk signals of a backlink that one linking page shows, as reason codes with their evidence.

Google ignores most spam links rather than punishing them, and no page-level figure proves a link toxic, so the
audit gives reasons a person can check (each with what was seen: a count, the CSS that hides the link, the
page's language), never one opaque score. What needs several pages or sites (sitewide placement, one commercial
anchor on many domains, many linking sites on one template) is computed over the lake by
``crawler/reports/toxic.py`` from the columns this module fills: ``outbound_links``, ``linked_domains``,
``sponsored_links``, ``page_language``, ``template_hash``.

Not computable from the page, so not here: malware, de-indexing, shared IP networks, authority, traffic.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crawler.backlinks.riskwords import (
    CANONICAL_ELSEWHERE,
    HIDDEN_LINK,
    HIDING_ATTRIBUTES,
    HIDING_CSS,
    LANGUAGE_MISMATCH,
    MANY_LINKED_DOMAINS,
    MANY_OUTBOUND_LINKS,
    MANY_SPONSORED_LINKS,
    PAGE_NOINDEX,
    SPAM_TLD,
    SPAM_TLDS,
)
from crawler.backlinks.robots import is_noindex
from crawler.urls import host_of
from schemas.records import LinkRow

_HIDING = [re.compile(p) for p in HIDING_CSS]
TEMPLATE_MIN_TOKENS = 8  # a page with fewer distinct tag.class / tag#id tokens has no template fingerprint
TEMPLATE_TAGS = frozenset("html body header footer nav aside main article section div ul ol li span a form".split())


@dataclass(frozen=True)
class Thresholds:
    """From the settings (``TOXIC_*`` in ``crawler/settings.py``)."""

    max_outbound_links: int
    max_linked_domains: int
    max_sponsored_links: int
    languages: tuple[str, ...] = ()  # primary language subtags the linking pages should be in; empty: not judged

    @classmethod
    def from_settings(cls, settings) -> Thresholds:
        languages = settings.getlist("TOXIC_LANGUAGES")
        return cls(settings.getint("TOXIC_MAX_OUTBOUND_LINKS"), settings.getint("TOXIC_MAX_LINKED_DOMAINS"),
                   settings.getint("TOXIC_MAX_SPONSORED_LINKS"),
                   tuple(primary_language(lang) for lang in languages if lang.strip()))


@dataclass(frozen=True)
class PageSignals:
    """What one parsed linking page shows, whatever link is looked for on it."""

    outbound_links: int = 0
    linked_domains: int = 0
    sponsored_links: int = 0
    language: str | None = None
    template_hash: str | None = None


@dataclass
class Risk:
    reasons: list[str] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, evidence: str) -> None:
        if reason not in self.evidence:
            self.reasons.append(reason)
        self.evidence[reason] = evidence


def primary_language(tag: str | None) -> str | None:
    """``en-GB`` -> ``en``; None for an empty tag."""
    tag = (tag or "").strip().lower().replace("_", "-")
    return tag.split("-")[0] or None


def page_language(root, headers: Mapping[str, str]) -> str | None:
    """The declared language: ``<html lang>``, else ``Content-Language`` (header or meta http-equiv)."""
    if root is not None:
        html = root if root.tag == "html" else root.getroottree().getroot()
        lang = html.get("lang") or html.get("xml:lang")
        if lang and lang.strip():
            return primary_language(lang)
        for meta in root.iter("meta"):
            if (meta.get("http-equiv") or "").lower() == "content-language" and meta.get("content"):
                return primary_language(meta.get("content").split(",")[0])
    header = headers.get("content-language")
    return primary_language(header.split(",")[0]) if header else None


def template_hash(root) -> str | None:
    """A fingerprint of the page's template: its distinct ``tag.class`` and ``tag#id`` tokens of layout elements,
    plus the generator. Pages of one theme share it whatever their text; a plain page has too few tokens to have
    one (``TEMPLATE_MIN_TOKENS``), so unrelated bare pages are never taken for one template."""
    if root is None:
        return None
    tokens = set()
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag not in TEMPLATE_TAGS:
            if tag == "meta" and (el.get("name") or "").lower() == "generator":
                tokens.add("generator=" + (el.get("content") or "").strip().lower())
            continue
        for cls in (el.get("class") or "").split():
            tokens.add(f"{tag}.{cls.lower()}")
        if el.get("id"):
            tokens.add(f"{tag}#{el.get('id').lower()}")
    if len(tokens) < TEMPLATE_MIN_TOKENS:
        return None
    return hashlib.sha1("\n".join(sorted(tokens)).encode()).hexdigest()[:16]


def page_signals(root, links: Sequence[LinkRow], headers: Mapping[str, str]) -> PageSignals:
    """Counts over the page's links rows (``external``, ``target_site``, ``sponsored``) and its declared facts."""
    external = [row for row in links if row.external]
    return PageSignals(
        outbound_links=len(external),
        linked_domains=len({row.target_site for row in external if row.target_site}),
        sponsored_links=sum(1 for row in links if row.sponsored),
        language=page_language(root, headers),
        template_hash=template_hash(root),
    )


def _describe(el) -> str:
    name = el.tag if isinstance(el.tag, str) else "element"
    if el.get("id"):
        return f"<{name} id={el.get('id')}>"
    if el.get("class"):
        return f"<{name} class={el.get('class').split()[0]}>"
    return f"<{name}>"


def hidden_by(element) -> str | None:
    """How the link (or an element around it) is hidden from readers, or None: the inline CSS or the attribute."""
    el = element
    while el is not None and isinstance(el.tag, str) and el.tag not in ("body", "html"):
        for attribute in HIDING_ATTRIBUTES:
            if el.get(attribute) is not None:
                return f"{attribute} attribute on {_describe(el)}"
        style = re.sub(r"\s+", "", (el.get("style") or "").lower())
        for pattern in _HIDING:
            found = pattern.search(style)
            if found:
                return f"style {found.group(0).rstrip(';!')} on {_describe(el)}"
        el = el.getparent()
    return None


def spam_tld(url: str) -> str | None:
    host = host_of(url)
    tld = host.rsplit(".", 1)[-1] if "." in host else ""
    return f".{tld}" if tld in SPAM_TLDS else None


def link_risk(source_url: str, thresholds: Thresholds, signals: PageSignals | None = None, *,
              link_element=None, meta_robots: str | None = None, x_robots_tags: Sequence[str] = (),
              canonical_url: str | None = None, final_url: str | None = None) -> Risk:
    """The reasons one backlink row carries. ``signals`` is None when the page could not be read: only the
    reasons the URL shows are given then."""
    risk = Risk()
    if signals is not None:
        if signals.outbound_links > thresholds.max_outbound_links:
            risk.add(MANY_OUTBOUND_LINKS, f"{signals.outbound_links} external links on the page "
                                          f"(over {thresholds.max_outbound_links})")
        if signals.linked_domains > thresholds.max_linked_domains:
            risk.add(MANY_LINKED_DOMAINS, f"links to {signals.linked_domains} other sites "
                                          f"(over {thresholds.max_linked_domains})")
        if link_element is not None:
            how = hidden_by(link_element)
            if how:
                risk.add(HIDDEN_LINK, how)
        if is_noindex(meta_robots, x_robots_tags):
            where = [f"meta robots {meta_robots!r}"] if is_noindex(meta_robots) else []
            where += [f"X-Robots-Tag {h!r}" for h in x_robots_tags if is_noindex(None, [h])]
            risk.add(PAGE_NOINDEX, "; ".join(where))
        if canonical_url and final_url and canonical_url != final_url:
            risk.add(CANONICAL_ELSEWHERE, f"rel=canonical {canonical_url}")
    tld = spam_tld(source_url)
    if tld:
        risk.add(SPAM_TLD, f"the linking site is under {tld}")
    if signals is not None:
        if thresholds.languages and signals.language and signals.language not in thresholds.languages:
            risk.add(LANGUAGE_MISMATCH, f"page language {signals.language}; expected "
                                        f"{' or '.join(thresholds.languages)}")
        if signals.sponsored_links > thresholds.max_sponsored_links:
            risk.add(MANY_SPONSORED_LINKS, f"{signals.sponsored_links} rel=sponsored links on the page "
                                           f"(over {thresholds.max_sponsored_links})")
    return risk
