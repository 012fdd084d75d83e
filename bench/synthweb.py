"""A synthetic web for the benchmark: N pages over M named sites, written to disk for a static server, with external
link targets spread over the verdict classes and the ground truth of every target.

Why on disk: the benchmark measures the crawler, so the server must never be the bottleneck; nginx serving files
(``bench/servers.py``) is the fastest server on the machine. Only the targets whose answer depends on state or time
(429 once, a host that never answers, redirect loops...) are served by the small dynamic server in ``servers.py``.

Shape of a page (20-60 KB, like a blog post with its template): header with nav, an article of paragraphs with
inline internal and external links, a sidebar of related posts, a footer. Each page links to the home page, a few
hub pages, ``internal_links`` other pages of its site (the next page included, so every page is reachable) and
``external_links`` targets from a shared pool whose popularity is skewed (a few targets are linked from many
pages, as in a real niche). Every site also links to other sites of the web (those are external too; truth: ok).
Hosts that never answer are linked from the peer site only (every class appears there at least once): a timeout
holds a check for ``CHECK_TIMEOUT`` x attempts, which lengthens a crawl's tail but says nothing about pages/s.

Names use ordinary TLDs (``.com``, ``.org``, ``.net``; docs/pitfalls.md §3) and reach loopback only through the crawler's
``DNS_OVERRIDES`` (``dns_overrides``) or, for peers, a private hosts file (``hosts_file``). Everything is
deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from crawler.urls import normalize_url

LOOPBACK = "127.0.0.1"
NOWHERE = "127.0.0.2"  # loopback, but nothing listens there: connection refused
TLDS = (".com", ".org", ".net")


@dataclass(frozen=True)
class TargetClass:
    """One kind of external target: what the server does, and the verdict a correct checker reaches."""

    name: str
    verdict: str  # ok | broken | unknown (crawler.checks.verdict)
    reason: str
    served_by: str  # nginx | dynamic | nowhere (refused) | none (NXDOMAIN)
    weight: float  # share of the target pool
    host_word: str


# Ground truth follows crawler/checks/verdict.py: what we cannot see clearly (a host that never answers, a 429
# that never ends) is "unknown", not "broken".
CLASSES = (
    TargetClass("ok", "ok", "ok", "nginx", 0.50, "useful-resource"),
    TargetClass("http_404", "broken", "http_404", "nginx", 0.08, "dead-pages"),
    TargetClass("http_410", "broken", "http_410", "dynamic", 0.05, "removed-content"),
    TargetClass("redirect_ok", "ok", "ok", "dynamic", 0.06, "moved-site"),
    TargetClass("redirect_404", "broken", "http_404", "dynamic", 0.05, "moved-dead"),
    TargetClass("redirect_loop", "broken", "redirect_loop", "dynamic", 0.03, "loop-trap"),
    TargetClass("nxdomain", "broken", "dns_nxdomain", "none", 0.05, "expired-brand"),
    TargetClass("refused", "broken", "connection_refused", "nowhere", 0.04, "server-down"),
    TargetClass("timeout", "unknown", "timeout", "dynamic", 0.0, "never-answers"),  # fixed: 2 URLs (see below)
    TargetClass("soft_404", "broken", "soft_404", "dynamic", 0.06, "soft-missing"),
    TargetClass("rate_limited_once", "ok", "ok", "dynamic", 0.05, "busy-api"),
    TargetClass("rate_limited", "unknown", "rate_limited", "dynamic", 0.03, "rate-wall"),
)
CLASS_BY_NAME = {c.name: c for c in CLASSES}
TIMEOUT_TARGETS = 2  # each one holds a check for CHECK_TIMEOUT x attempts: a few are enough to see the class
PATHS_PER_HOST = 4

_WORDS = (
    "garden soil compost tomato season harvest water seed plant root leaf light shade pruning bloom autumn spring "
    "winter summer mulch worm bed raised frost yield variety heirloom greenhouse potting trellis bean squash onion "
    "garlic herb basil mint thyme sage rosemary weed path fence shed tool spade fork hoe rake barrow hose can "
    "guide notes diary plot allotment neighbour market recipe jar pickle jam bread oven kitchen table friends"
).split()


@dataclass
class Site:
    host: str
    pages: int  # page 0 is "/", page j is "/posts/p<j>.html"

    def path(self, j: int) -> str:
        return "/" if j == 0 else f"/posts/p{j}.html"


@dataclass
class Target:
    url: str
    cls: TargetClass


@dataclass
class SyntheticWeb:
    """The generated web: where it is on disk, its sites, its targets and their ground truth."""

    root: Path  # root/<host>/<path> are the static files nginx serves
    nginx_port: int
    dynamic_port: int
    sites: list[Site]
    peer_site: Site
    targets: dict[str, Target]  # normalized URL -> target
    peer_targets: set[str] = field(default_factory=set)  # external targets linked from the peer site
    bytes_written: int = 0
    page_count: int = 0

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.nginx_port}{path}"

    @property
    def seeds(self) -> list[str]:
        """Home pages of the throughput sites (the peer site is crawled on its own)."""
        return [self.url(s.host) for s in self.sites]

    @property
    def peer_seed(self) -> str:
        return self.url(self.peer_site.host)

    def site_pages(self, site: Site) -> list[str]:
        return [self.url(site.host, site.path(j)) for j in range(site.pages)]

    @property
    def named_hosts(self) -> dict[str, str]:
        """Every name of the web and its address; NXDOMAIN hosts are absent on purpose."""
        hosts = {s.host: LOOPBACK for s in (*self.sites, self.peer_site)}
        for t in self.targets.values():
            host = t.url.split("//", 1)[1].split(":", 1)[0]
            if t.cls.served_by in ("nginx", "dynamic"):
                hosts[host] = LOOPBACK
            elif t.cls.served_by == "nowhere":
                hosts[host] = NOWHERE
        return hosts

    @property
    def dns_overrides(self) -> str:
        return ",".join(f"{h}={ip}" for h, ip in sorted(self.named_hosts.items()))

    def hosts_file(self) -> str:
        """An /etc/hosts for peers (mounted in a private mount namespace: the real file is never touched)."""
        lines = ["127.0.0.1 localhost"] + [f"{ip} {h}" for h, ip in sorted(self.named_hosts.items())]
        return "\n".join(lines) + "\n"

    def truth_of(self, url: str) -> tuple[str, str] | None:
        """(verdict, reason) a correct checker gives the normalized ``url``; a page of another site of the web
        is ok; ``None`` for a URL that is not an external target of this web."""
        target = self.targets.get(url)
        if target is not None:
            return target.cls.verdict, target.cls.reason
        host = url.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if host in {s.host for s in (*self.sites, self.peer_site)}:
            return "ok", "ok"
        return None

    def peer_truth(self) -> dict[str, tuple[str, str]]:
        """Every external target linked from the peer site -> its (verdict, reason)."""
        return {u: self.truth_of(u) for u in sorted(self.peer_targets)}


def _paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _make_targets(rng: random.Random, pool: int, nginx_port: int, dynamic_port: int) -> list[Target]:
    """The external target pool: per class, hosts of ``PATHS_PER_HOST`` URLs each (timeouts: a fixed few)."""
    targets: list[Target] = []
    for cls in CLASSES:
        count = TIMEOUT_TARGETS if cls.name == "timeout" else max(PATHS_PER_HOST, round(pool * cls.weight))
        port = nginx_port if cls.served_by == "nginx" else dynamic_port
        for k in range(count):
            host = f"{cls.host_word}-{k // PATHS_PER_HOST + 1}{TLDS[k % len(TLDS)]}"
            path = f"/article-{k % PATHS_PER_HOST + 1}.html"
            targets.append(Target(normalize_url(f"http://{host}:{port}{path}"), cls))
    return targets


def _target_page(title: str, text: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body><header><a href=\"/\">Home</a></header><main><h1>{title}</h1><p>{text}</p></main></body></html>\n")


def _page_html(rng: random.Random, web: SyntheticWeb, site: Site, j: int, internal: list[int], external: list[str],
               paragraphs: list[str], size: int) -> str:
    """One page of ``site``: links placed where real templates put them, filler text up to ``size`` bytes."""
    title = f"{' '.join(rng.choice(_WORDS) for _ in range(4)).title()} ({site.host} #{j})"
    hubs = "".join(f'<a href="{site.path(h)}">Section {h}</a> ' for h in range(1, min(5, site.pages)))
    body: list[str] = []
    inline = internal[: len(internal) // 2]
    related = internal[len(internal) // 2 :]
    links = [f'<a href="{site.path(k)}">{rng.choice(_WORDS)} {rng.choice(_WORDS)} notes</a>' for k in inline]
    rels = ("", "", ' rel="nofollow"')
    links += [f'<a href="{u}"{rng.choice(rels)}>{rng.choice(_WORDS)} resource</a>' for u in external]
    rng.shuffle(links)
    for i, link in enumerate(links):
        if i % 4 == 0:
            body.append(f"<h2>{rng.choice(_WORDS).title()} and {rng.choice(_WORDS)}</h2>")
        body.append(f"<p>{rng.choice(paragraphs)} See {link} for more. {rng.choice(paragraphs)}</p>")
    sidebar = "".join(f'<li><a href="{site.path(k)}">Related post {k}</a></li>' for k in related)
    head = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width"></head>\n<body>\n'
            f'<header><a class="logo" href="/">{site.host}</a><nav><a href="/">Home</a> {hubs}</nav></header>\n'
            f"<main><article><h1>{title}</h1>\n")
    tail = (f'</article></main>\n<aside class="sidebar"><h2>Related</h2><ul>{sidebar}</ul></aside>\n'
            f'<footer><p>&copy; 2024 {site.host}</p> <a href="/">Home</a> <a href="{site.path(1 % site.pages)}">First post'
            "</a></footer>\n</body></html>\n")
    html = head + "\n".join(body)
    while len(html) + len(tail) < size:
        html += f"\n<p>{rng.choice(paragraphs)} {rng.choice(paragraphs)}</p>"
    return html + tail


def generate(root: Path, *, pages: int, sites: int, peer_pages: int, nginx_port: int, dynamic_port: int,
             internal_links: int = 30, external_links: int = 5, target_pool: int | None = None,
             seed: int = 6) -> SyntheticWeb:
    """Write the web under ``root`` and return it. ``pages`` are spread evenly over ``sites`` throughput sites;
    the peer site (``peer_pages`` pages) is extra and links to every target class at least once."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    per_site = max(2, pages // sites)
    site_list = [Site(f"niche-site-{i + 1:03d}{TLDS[i % len(TLDS)]}", per_site) for i in range(sites)]
    peer = Site("peer-checked-site.org", max(2, peer_pages))
    pool = target_pool or max(60, pages // 5)
    targets = _make_targets(rng, pool, nginx_port, dynamic_port)
    web = SyntheticWeb(root, nginx_port, dynamic_port, site_list, peer, {t.url: t for t in targets})
    paragraphs = [_paragraph(rng, rng.randint(40, 110)) for _ in range(300)]
    # Zipf-like popularity: some targets are linked from many pages; hosts that never answer only from the peer site.
    order = [t for t in targets if t.cls.name != "timeout"]
    rng.shuffle(order)
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(order))]
    by_class: dict[str, list[Target]] = {}
    for t in targets:
        by_class.setdefault(t.cls.name, []).append(t)
    must_link = [ts[0].url for ts in by_class.values()]  # the peer site links to every class

    written = 0
    for site in (*site_list, peer):
        (root / site.host / "posts").mkdir(parents=True, exist_ok=True)
        (root / site.host / "robots.txt").write_text("User-agent: *\nDisallow:\n")
        others = [s for s in site_list if s is not site]
        for j in range(site.pages):
            internal = sorted({(j + 1) % site.pages, *(rng.randrange(site.pages) for _ in range(internal_links - 1))})
            external = [t.url for t in rng.choices(order, weights, k=external_links)]
            if site is peer and must_link:
                external.append(must_link.pop())
            if others:
                other = rng.choice(others)
                external.append(web.url(other.host, other.path(rng.randrange(other.pages))))
            html = _page_html(rng, web, site, j, internal, external, paragraphs, rng.randint(20_000, 60_000))
            path = root / site.host / ("index.html" if j == 0 else site.path(j).lstrip("/"))
            path.write_text(html)
            written += len(html)
            if site is peer:
                web.peer_targets.update(normalize_url(u) for u in external)
    web.bytes_written = written
    web.page_count = sum(s.pages for s in site_list)

    for t in targets:  # static files of the nginx-served targets (404 targets: the host exists, the file does not)
        host, path = t.url.split("//", 1)[1].split(":", 1)[0], "/" + t.url.split("/", 3)[3]
        (root / host).mkdir(parents=True, exist_ok=True)
        if t.cls.name == "ok":
            (root / host / path.lstrip("/")).write_text(_target_page(f"Resource {host}", _paragraph(rng, 80)))
    return web
