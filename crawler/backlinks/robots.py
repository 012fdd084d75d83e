"""What a page tells search engines about itself: may it be indexed, may its links be followed?

Two sources say it: ``<meta name="robots">`` (and ``googlebot``), already collected by ``page_facts`` as one
comma-joined string, and the ``X-Robots-Tag`` HTTP header. A header directive may name a user agent
(``X-Robots-Tag: otherbot: noindex``); only directives for every crawler or for Googlebot count, because a link
is worth what the main search engine makes of it. ``none`` means ``noindex, nofollow``.
"""

from __future__ import annotations

from collections.abc import Sequence

COUNTED_AGENTS = ("googlebot",)
# Header directives that may follow "name:" without being a user agent ("unavailable_after: 25 Jun 2030 ...").
_VALUED_DIRECTIVES = frozenset(("unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"))


def directives(meta_robots: str | None, x_robots_tags: Sequence[str] = ()) -> set[str]:
    """The lower-case directives that apply to us, from the meta tags and each ``X-Robots-Tag`` header."""
    found = {d.strip().lower() for d in (meta_robots or "").split(",") if d.strip()}
    for header in x_robots_tags:
        agent = None  # a user agent named in a header applies to the directives after it, in that header
        for part in header.split(","):
            part = part.strip().lower()
            if not part:
                continue
            name, sep, rest = part.partition(":")
            if sep and name.strip() not in _VALUED_DIRECTIVES and " " not in name.strip():
                agent, part = name.strip(), rest.strip()
            if agent is None or agent in COUNTED_AGENTS:
                found.add(part)
    if "none" in found:
        found |= {"noindex", "nofollow"}
    return found


def is_noindex(meta_robots: str | None, x_robots_tags: Sequence[str] = ()) -> bool:
    return "noindex" in directives(meta_robots, x_robots_tags)


def is_nofollow_page(meta_robots: str | None, x_robots_tags: Sequence[str] = ()) -> bool:
    """Every link of the page is nofollow, whatever its own ``rel`` says."""
    return "nofollow" in directives(meta_robots, x_robots_tags)
