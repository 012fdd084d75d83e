"""What the dupefilter remembers of a request: its kind, method and canonical URL.

Why the kind: a link check and a page request of the same URL are different work. A check asks one ranged GET
(``CHECK_METHOD``), a page request a plain GET; keyed by method and URL alone, as Scrapy's fingerprint does, the
first of the two made the other a duplicate: a page of a site that another site of the crawl links to was never
crawled when its check came first (found on the benchmark's sites, which link to each other). Both modes use this
one function: Scrapy's ``REQUEST_FINGERPRINTER_CLASS`` on one machine, the shared Bloom dupefilter in cluster mode
(``crawler/frontier/codec.py``), so a cluster crawl fetches exactly what a crawl on one machine fetches.
"""

from __future__ import annotations

import hashlib

from w3lib.url import canonicalize_url


def fingerprint(kind: str, method: str, url: str) -> bytes:
    """sha1 of ``kind method url`` with the URL canonicalized as Scrapy's dupefilter does (query arguments sorted,
    fragment dropped, ``http://a.com`` = ``http://a.com/``)."""
    return hashlib.sha1(f"{kind} {method} {canonicalize_url(url)}".encode("utf-8", "surrogatepass")).digest()


class KindFingerprinter:
    """Scrapy ``REQUEST_FINGERPRINTER_CLASS``: :func:`fingerprint` of a request, its kind from ``meta["kind"]``
    (requests without one, such as robots.txt, are ``page``). Request bodies are not part of it: the crawler sends
    none."""

    def __init__(self, crawler=None):
        pass

    @classmethod
    def from_crawler(cls, crawler) -> KindFingerprinter:
        return cls(crawler)

    def fingerprint(self, request) -> bytes:
        return fingerprint(request.meta.get("kind", "page"), request.method, request.url)
