"""A small, polite client of a web archive's CDX server and replay: the last good capture of a URL, and its bytes.

Used by ``scrapy recover`` (``crawler/reports/recover.py``) for dead resources our own lake never archived. Plain
blocking functions, no Twisted: a recovery run asks a few hundred URLs, one request at a time.

- **The CDX query** (``WAYBACK_CDX_URL``, the Wayback Machine's by default) asks for captures answered 200
  (``filter=statuscode:200``) as JSON, newest first where the server can: the Wayback Machine's CDX server returns
  the last N captures for ``limit=-N`` (https://github.com/internetarchive/wayback/tree/master/wayback-cdx-server,
  "Query Result Limits"); pywb's, which serves Common Crawl's index and most institutional archives, does not, and
  answers nothing, but sorts newest first with ``sort=reverse`` (https://pywb.readthedocs.io/en/latest/manual/
  cdxserver_api.html). A query that comes back empty is asked once more the pywb way; the first form that gives
  a capture is used from then on, so a server costs at most one extra request per miss until it is known.
  Both answer shapes are read: the Wayback Machine's array of arrays under a header row (``urlkey, timestamp,
  original, mimetype, statuscode, digest, length``), pywb's one JSON object a line (``url``, ``mime``,
  ``status``...), named the Wayback way here.
- **The capture** is fetched in its ``id_`` form (``<replay>/<timestamp>id_/<original>``): the archived bytes as
  the site sent them, without the archive's banner or rewritten links.
- **Rules of every fetch**: one request at a time, ``WAYBACK_DELAY`` seconds apart; ``WAYBACK_TIMEOUT`` seconds for
  the whole answer, ``WAYBACK_MAX_BYTES`` at most of body (a bigger one is cut there, as the crawl's checks do);
  429 and 503 are retried once after ``Retry-After`` (at most ``WAYBACK_RETRY_AFTER_MAX`` seconds); after
  ``WAYBACK_MAX_FAILURES`` failures in a row the archive is taken as unavailable and asked no more. Each
  connection goes through the crawler's address guard (``crawler/dns.py``: ``DNS_OVERRIDES``,
  ``DNS_OVERRIDES_STRICT``, ``ALLOWED_NETWORKS``), redirects included: an archive on your own network must be
  allowed like any other address.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

from crawler.dns import lookup, parse_overrides
from crawler.netguard import parse_networks
from crawler.warc.reader import BodyTooLarge, UndecodableBody, decode_content

logger = logging.getLogger(__name__)

CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
# pywb's names for the Wayback Machine's fields (pywb's CDXObject.CDX_ALT_FIELDS, reversed)
_PYWB_NAMES = {"url": "original", "mime": "mimetype", "status": "statuscode"}
MAX_REDIRECTS = 5


class ArchiveError(Exception):
    """A request to the archive failed (network, status, size): this URL gets no capture from it."""


class ArchiveUnavailable(ArchiveError):
    """Too many failures in a row: the archive is not asked again in this run."""


@dataclass(frozen=True)
class Capture:
    """One CDX line, named the Wayback Machine's way."""

    urlkey: str
    timestamp: str  # 14 digits, UTC
    original: str
    mimetype: str
    statuscode: str
    digest: str
    length: str


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str  # after redirects
    truncated: bool = False


def parse_cdx(body: bytes) -> list[Capture]:
    """Captures from a CDX answer: the Wayback Machine's JSON (an array of arrays, the first one naming the fields),
    pywb's JSON lines (one object a line), or plain text lines in the default field order."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    rows: list[dict] = []
    if text.startswith("["):
        table = json.loads(text)
        if table and isinstance(table[0], list):
            header = [str(name) for name in table[0]]
            rows = [dict(zip(header, row)) for row in table[1:] if isinstance(row, list) and len(row) == len(header)]
    elif text.startswith("{"):
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    else:
        for line in text.splitlines():
            parts = line.split(" ")
            if len(parts) >= len(CDX_FIELDS):
                rows.append(dict(zip(CDX_FIELDS, parts)))
    out = []
    for row in rows:
        named = {_PYWB_NAMES.get(key, key): str(value) for key, value in row.items() if value is not None}
        if named.get("timestamp", "").isdigit() and named.get("original"):
            out.append(Capture(**{field: named.get(field, "") for field in CDX_FIELDS}))
    return out


def latest_html(captures: list[Capture]) -> list[Capture]:
    """The captures worth fetching, newest first: answered 200, HTML (or of unknown type), not a revisit record."""
    good = [c for c in captures if c.statuscode == "200" and c.mimetype != "warc/revisit"
            and (not c.mimetype or c.mimetype == "unk" or "html" in c.mimetype)]
    return sorted(good, key=lambda c: c.timestamp, reverse=True)


def replay_base(cdx_url: str) -> str:
    """Where captures are replayed, from the CDX endpoint: the Wayback Machine's ``.../cdx/search/cdx`` replays
    under ``.../web/``, pywb's ``.../<collection>/cdx`` under ``.../<collection>/``. '' when it cannot be told."""
    base = cdx_url.split("?", 1)[0]
    if base.endswith("/cdx/search/cdx"):
        return base[: -len("cdx/search/cdx")] + "web/"
    if base.endswith("/cdx"):
        return base[: -len("cdx")]
    return ""


def id_url(replay: str, capture: Capture) -> str:
    """The capture's ``id_`` URL: the archived bytes, unmodified."""
    return f"{replay.rstrip('/')}/{capture.timestamp}id_/{capture.original}"


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already checked by the guard, with the certificate checked against the host name."""

    def __init__(self, address: str, port: int, server_name: str, timeout: float, context: ssl.SSLContext):
        super().__init__(address, port, timeout=timeout, context=context)
        self.server_name = server_name

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.server_name)


class Archive:
    """The CDX server and replay of one web archive (see the module docstring for the rules every fetch obeys)."""

    def __init__(self, cdx_url: str, *, replay_url: str = "", timeout: float = 20.0, max_bytes: int = 2 << 20,
                 delay: float = 1.0, retry_after_max: float = 60.0, rows: int = 10, max_failures: int = 3,
                 user_agent: str = "linkprospector", overrides: dict | None = None, strict: bool = False,
                 allowed=(), sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.cdx_url = cdx_url
        self.replay = replay_url or replay_base(cdx_url)
        if not self.replay:
            raise ValueError(f"WAYBACK_REPLAY_URL: cannot tell the replay address from WAYBACK_CDX_URL {cdx_url!r}: "
                             "set it (https://web.archive.org/web/ for the Wayback Machine, "
                             "http://host/<collection>/ for pywb)")
        self.timeout, self.max_bytes, self.delay = timeout, max_bytes, delay
        self.retry_after_max, self.rows, self.max_failures = retry_after_max, rows, max_failures
        self.user_agent = user_agent
        self.overrides, self.strict, self.allowed = overrides or {}, strict, tuple(allowed)
        self.sleep, self.clock = sleep, clock
        self.failures = 0
        self.requests = 0
        self._last = -1e9
        self._newest_first: str | None = None  # "limit" or "sort", once a server has shown which it understands

    @classmethod
    def from_settings(cls, settings) -> Archive:
        return cls(
            settings.get("WAYBACK_CDX_URL"),
            replay_url=settings.get("WAYBACK_REPLAY_URL") or "",
            timeout=settings.getfloat("WAYBACK_TIMEOUT"),
            max_bytes=settings.getint("WAYBACK_MAX_BYTES"),
            delay=settings.getfloat("WAYBACK_DELAY"),
            retry_after_max=settings.getfloat("WAYBACK_RETRY_AFTER_MAX"),
            rows=settings.getint("WAYBACK_CDX_ROWS"),
            max_failures=settings.getint("WAYBACK_MAX_FAILURES"),
            user_agent=settings.get("USER_AGENT"),
            overrides=parse_overrides(settings.get("DNS_OVERRIDES")),
            strict=settings.getbool("DNS_OVERRIDES_STRICT"),
            allowed=parse_networks(settings.get("ALLOWED_NETWORKS")),
        )

    # --- what the recovery asks
    def captures(self, url: str) -> list[Capture]:
        """The good captures of ``url`` (answered 200, HTML), newest first."""
        forms = {"limit": {"limit": f"-{self.rows}"}, "sort": {"sort": "reverse", "limit": str(self.rows)}}
        order = [self._newest_first] if self._newest_first else ["limit", "sort"]
        for form in order:
            query = {"url": url, "output": "json", "filter": "statuscode:200", **forms[form]}
            answer = self.get(f"{self.cdx_url}?{urlencode(query)}")
            if answer.status == 404:  # pywb: no capture of this URL
                return []
            if answer.status != 200:
                raise self._failed(f"CDX server answered {answer.status}")
            found = latest_html(parse_cdx(answer.body))
            if found:
                self._newest_first = form
                return found
        return []

    def fetch(self, capture: Capture) -> Answer:
        """The archived bytes of a capture (its ``id_`` URL); an answer other than 200 raises ArchiveError."""
        answer = self.get(id_url(self.replay, capture))
        if answer.status != 200:
            raise self._failed(f"{id_url(self.replay, capture)}: archive answered {answer.status}")
        return answer

    # --- one request at a time
    def get(self, url: str) -> Answer:
        """GET ``url``, following redirects, after the pause the archive is owed; 429/503 waited out once."""
        if self.failures >= self.max_failures:
            raise ArchiveUnavailable(f"{self.failures} failures in a row: the archive is not asked again")
        for attempt in (1, 2):
            wait = self._last + self.delay - self.clock()
            if wait > 0:
                self.sleep(wait)
            try:
                answer = self._follow(url)
            except (OSError, http.client.HTTPException, ArchiveError) as exc:
                raise self._failed(f"{url}: {exc}") from None
            finally:
                self._last = self.clock()
            if answer.status in (429, 503) and attempt == 1:
                retry_after = _seconds(answer.headers.get("retry-after"))
                if retry_after is not None and retry_after <= self.retry_after_max:
                    logger.info("archive asked to wait %.0f s (%s)", retry_after, answer.status)
                    self.sleep(retry_after)
                    continue
            if answer.status < 500 and answer.status != 429:
                self.failures = 0
            return answer
        return answer

    def _failed(self, why: str) -> ArchiveError:
        self.failures += 1
        return ArchiveError(why)

    def _follow(self, url: str) -> Answer:
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._request(url)
            location = answer.headers.get("location")
            if answer.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            return answer
        raise ArchiveError(f"more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str) -> Answer:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArchiveError(f"not an http(s) URL: {url[:200]}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = lookup(parts.hostname, self.overrides, self.strict, self.allowed)  # the guard: may raise
        deadline = self.clock() + self.timeout
        if parts.scheme == "https":
            conn = _PinnedHTTPSConnection(address, port, parts.hostname, self.timeout, ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(address, port, timeout=self.timeout)
        self.requests += 1
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("GET", path, headers={"Host": parts.netloc.rsplit("@", 1)[-1], "User-Agent": self.user_agent,
                                               "Accept-Encoding": "gzip"})
            response = conn.getresponse()
            chunks, size = [], 0
            while size <= self.max_bytes:
                if self.clock() > deadline:
                    raise ArchiveError(f"no complete answer within {self.timeout:.0f} s")
                chunk = response.read(min(65536, self.max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            body = b"".join(chunks)
            headers = {name.lower(): value for name, value in response.getheaders()}
        finally:
            conn.close()
        truncated = len(body) > self.max_bytes
        body = body[: self.max_bytes]
        try:
            body = decode_content(body, headers.get("content-encoding"), self.max_bytes)
        except (BodyTooLarge, UndecodableBody) as exc:
            raise ArchiveError(str(exc)) from None
        return Answer(response.status, headers, body, url, truncated)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
