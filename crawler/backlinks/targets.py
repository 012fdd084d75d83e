"""What a row's ``target`` means, and which links of a page match it.

Three forms, as users keep lists of their backlinks (and as Google's disavow file names sites):

- an exact URL, compared after normalization (``crawler.urls.normalize_url``, as every link row is stored);
- ``domain:example.com``: any link into that domain or one of its subdomains (``domain:example.com`` matches
  ``shop.example.com``; ``domain:shop.example.com`` does not match ``example.com``), whatever the port or scheme;
- a URL prefix ending in ``*``: any link whose normalized URL starts with the normalized prefix.

The normalized spec (``Target.spec``) is what the ``backlinks`` table stores in ``target``, so one link keeps one
key across crawls even when the input file spells it differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.seeds import parse_seed
from crawler.urls import host_of

DOMAIN_PREFIX = "domain:"


@dataclass(frozen=True)
class Target:
    kind: str  # url | domain | prefix
    value: str  # normalized URL, lower-case host, or normalized URL prefix

    @property
    def spec(self) -> str:
        return {"url": self.value, "domain": DOMAIN_PREFIX + self.value, "prefix": self.value + "*"}[self.kind]

    def matches(self, url: str) -> bool:
        """Whether a link's normalized target URL is this target."""
        if self.kind == "url":
            return url == self.value
        if self.kind == "prefix":
            return url.startswith(self.value)
        host = host_of(url)
        return host == self.value or host.endswith("." + self.value)


def parse_target(text: str) -> Target:
    """Read a target spec; raise ``ValueError`` saying what is wrong with it."""
    text = text.strip()
    if not text:
        raise ValueError("empty target")
    if text.lower().startswith(DOMAIN_PREFIX):
        name = text[len(DOMAIN_PREFIX):].strip().lower().rstrip(".")
        if not name or "/" in name or ":" in name:
            raise ValueError(f"{DOMAIN_PREFIX} takes a bare host name (domain:example.com)")
        return Target("domain", host_of(parse_seed(name)))
    if text.endswith("*"):
        return Target("prefix", _absolute_url(text[:-1], "a target prefix"))
    return Target("url", _absolute_url(text, "a target"))


def _absolute_url(text: str, what: str) -> str:
    if "://" not in text:
        raise ValueError(f"{what} must be an absolute http(s) URL, domain:NAME or a URL prefix ending in *")
    return parse_seed(text)
