"""A bounded memory of the URLs this process has already handed to the scheduler.

Why: a page links to its site's navigation, sidebar and footer, so most links of a crawl point at URLs requested
long ago (30 internal links per page, one new). Each such request is built, passed through every spider middleware,
scheduled, fingerprinted and only then dropped by the dupefilter -- and in cluster mode that drop costs a Redis
round trip. Dropping it here first changes nothing the dupefilter would not do (a URL yielded once has been seen),
and the memory is bounded (least recently seen forgotten first), so worker RSS stays flat as the crawl grows.
"""

from __future__ import annotations


class RecentUrls:
    def __init__(self, size: int):
        self.size = size
        self._urls: dict[str, None] = {}  # insertion-ordered: the oldest first

    def __len__(self) -> int:
        return len(self._urls)

    def seen(self, url: str) -> bool:
        """True if ``url`` was seen before (and remember it as the most recent); else remember it, return False."""
        urls = self._urls
        if url in urls:
            del urls[url]
            urls[url] = None
            return True
        urls[url] = None
        if len(urls) > self.size:
            del urls[next(iter(urls))]
        return False
