"""A generated multi-site web on loopback for cluster tests: a few hundred pages, external targets, and a server
that records, per host, how many requests were in flight at once and when each one started.

Sites ``site<k>.com`` have ``pages`` pages each: page ``i`` links to pages ``3i+1..3i+3`` (so every page is within
depth 5 of the home page), to the first five pages (navigation repeats), and to three external targets on
``ext<j>.org`` hosts (``/r/<n>``: 404 when ``n`` is a multiple of 4, else 200). A site may ask for a
``Crawl-delay`` in its robots.txt. Every answer takes ``latency`` seconds, so that concurrent requests overlap and
show in ``max_in_flight``.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Site:
    name: str
    pages: int
    crawl_delay: float = 0.0


@dataclass
class Record:
    in_flight: int = 0
    max_in_flight: int = 0
    starts: list[float] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


class GridWeb:
    def __init__(self, sites: list[Site], externals: int = 120, ext_hosts: int = 5, latency: float = 0.02,
                 hang: float = 0.0):
        self.sites = {s.name: s for s in sites}
        self.externals = externals
        self.ext_hosts = ext_hosts
        self.latency = latency
        self.hang = hang  # > 0: every home page also links to hang.org, which answers after this many seconds
        self.lock = threading.Lock()
        self.hosts: dict[str, Record] = defaultdict(Record)
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.answer(body=False)

            def do_GET(self):
                self.answer(body=True)

            def answer(self, body: bool):
                host = (self.headers.get("Host") or "").split(":")[0]
                record = web.hosts[host]
                with web.lock:
                    record.in_flight += 1
                    record.max_in_flight = max(record.max_in_flight, record.in_flight)
                    record.starts.append(time.monotonic())
                    record.paths.append(self.path)
                try:
                    time.sleep(web.latency)
                    status, ctype, payload = web.content(host, self.path)
                finally:
                    # Counted out before the answer leaves: once the client has it, it may send its next request,
                    # which must not be seen overlapping with this one.
                    with web.lock:
                        record.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if body:
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GridWeb:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the crawl sees
    @property
    def seeds(self) -> list[str]:
        return [f"http://{name}:{self.port}/" for name in self.sites]

    @property
    def dns_overrides(self) -> dict[str, str]:
        names = [*self.sites, *(f"ext{j}.org" for j in range(self.ext_hosts)), "hang.org"]
        return {n: "127.0.0.1" for n in names}

    def reset(self) -> None:
        with self.lock:
            self.hosts.clear()

    def content(self, host: str, path: str) -> tuple[int, str, bytes]:
        if host == "hang.org":
            time.sleep(self.hang)
            return 200, "text/plain", b"late"
        if host.startswith("ext"):
            n = int(path.rsplit("/", 1)[-1]) if path.startswith("/r/") and path[3:].isdigit() else 0
            return (404 if n % 4 == 0 else 200), "text/plain", b"resource"
        site = self.sites.get(host)
        if site is None:
            return 404, "text/plain", b"no such site"
        if path == "/robots.txt":
            rules = "User-agent: *\nDisallow: /private/\n"
            if site.crawl_delay:
                rules += f"Crawl-delay: {site.crawl_delay:g}\n"
            return 200, "text/plain", rules.encode()
        i = 0 if path == "/" else int(path[3:]) if path.startswith("/p/") and path[3:].isdigit() else -1
        if not 0 <= i < site.pages:
            return 404, "text/html", b"<html><title>Not found</title></html>"
        base = f"http://{host}:{self.port}"
        links = [f'<a href="/p/{j}">page {j}</a>' for j in range(3 * i + 1, 3 * i + 4) if j < site.pages]
        nav = [f'<a href="/p/{j}">nav {j}</a>' for j in range(5) if j < site.pages]
        index = sum(ord(c) for c in host) * 1000 + i
        ext = [(index * 7 + k * 31) % self.externals for k in range(3)]
        out = [f'<a href="http://ext{n % self.ext_hosts}.org:{self.port}/r/{n}">resource {n}</a>' for n in ext]
        if self.hang and i == 0:
            out.append(f'<a href="http://hang.org:{self.port}/r/{host}">slow resource</a>')
        html = (f"<html><head><title>{host} page {i}</title></head><body><nav>{''.join(nav)}</nav>"
                f"<main><h1>Page {i}</h1><p>Text of page {i} on {base}. {' '.join(out)}</p>"
                f"<ul>{''.join(f'<li>{a}</li>' for a in links)}</ul></main></body></html>")
        return 200, "text/html; charset=utf-8", html.encode()

    def gaps(self, host: str, skip_robots: bool = False) -> list[float]:
        record = self.hosts[host]
        starts = sorted(t for t, p in zip(record.starts, record.paths) if not (skip_robots and p == "/robots.txt"))
        return [b - a for a, b in zip(starts, starts[1:])]
