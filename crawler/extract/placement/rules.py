"""Per-site region rules (``LINK_REGION_RULES``): a user's XPath or class, first match wins, before anything else."""

from __future__ import annotations

from dataclasses import dataclass

import lxml.etree
import lxml.html

from crawler.extract.placement.vocabulary import REGIONS


# --- per-site rules ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegionRule:
    region: str
    xpath: lxml.etree.XPath | None = None
    css_class: str | None = None
    site: str | None = None

    def applies_to(self, site: str | None) -> bool:
        if self.site is None:
            return True
        return site is not None and (site == self.site or site.endswith("." + self.site))


def compile_rules(spec) -> tuple[RegionRule, ...]:
    """Compile the ``LINK_REGION_RULES`` setting: a list of ``{"xpath": ..., "region": ...}`` or
    ``{"class": "token", "region": ...}`` dicts, each optionally limited to ``"site": "example.com"`` (that host and
    its subdomains). The first rule matching a link or one of its ancestors decides its region. Raises
    ``ValueError`` naming the faulty rule."""
    if spec is None:
        return ()
    if isinstance(spec, (str, bytes, dict)) or not hasattr(spec, "__iter__"):
        raise ValueError("LINK_REGION_RULES must be a list of rules")
    probe = lxml.html.fromstring("<div><p>probe</p></div>")
    rules = []
    for number, item in enumerate(spec, 1):
        where = f"LINK_REGION_RULES rule {number}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a dict, got {type(item).__name__}")
        unknown = set(item) - {"xpath", "class", "region", "site"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        region = item.get("region")
        if region not in REGIONS:
            raise ValueError(f"{where}: region must be one of {REGIONS}, got {region!r}")
        if ("xpath" in item) == ("class" in item):
            raise ValueError(f"{where}: give exactly one of 'xpath' or 'class'")
        site = item.get("site")
        if site is not None:
            if not isinstance(site, str) or not site.strip(". "):
                raise ValueError(f"{where}: 'site' must be a host name")
            site = site.strip(". ").lower()
        if "xpath" in item:
            expression = item["xpath"]
            if not isinstance(expression, str) or not expression.strip():
                raise ValueError(f"{where}: 'xpath' must be a non-empty string")
            try:
                xpath = lxml.etree.XPath(expression)
                xpath(probe)
            except lxml.etree.XPathError as exc:
                raise ValueError(f"{where}: invalid XPath {expression!r}: {exc}") from None
            rules.append(RegionRule(region=region, xpath=xpath, site=site))
        else:
            token = item["class"]
            if not isinstance(token, str) or len(token.split()) != 1:
                raise ValueError(f"{where}: 'class' must be one class token")
            rules.append(RegionRule(region=region, css_class=token.strip(), site=site))
    return tuple(rules)


def _rule_region(link, rules, matched: list) -> str | None:
    chain = (link, *link.iterancestors())
    for rule, elements in zip(rules, matched):
        if rule.xpath is not None:
            if any(element in elements for element in chain):
                return rule.region
        elif any(rule.css_class in (element.get("class") or "").split() for element in chain):
            return rule.region
    return None


