"""Self-test of the hermetic test web (demo/web.py): it is the ground truth of the crawler's verdicts, so it must
answer exactly as its docstring says. Plain http.client / socket against 127.0.0.1 with an explicit Host header."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections import defaultdict
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import lxml.html
import pytest

from crawler.urls import resolve_href, site_of
from demo.web import MANY_HOPS, TestWeb


@pytest.fixture
def web():
    with TestWeb() as test_web:
        yield test_web


def fetch(web: TestWeb, url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request to the test web for ``url`` (no redirect following): status, lower-case headers, body."""
    parts = urlsplit(url)
    assert parts.port == web.port, url
    conn = http.client.HTTPConnection(web.host, web.port, timeout=10)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Host": parts.netloc})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def redirect_chain(web: TestWeb, url: str, limit: int = 20) -> list[tuple[int, str]]:
    """Follow redirects by hand: [(status, url), ...] up to the first non-redirect answer."""
    chain = []
    for _ in range(limit):
        status, headers, _ = fetch(web, url)
        chain.append((status, url))
        if status not in (301, 302, 303, 307, 308):
            break
        url = urljoin(url, headers["location"])
    return chain


def title_of(body: bytes) -> str:
    return lxml.html.document_fromstring(body).findtext(".//title")


def test_sites_are_chosen_by_host_header(web):
    assert title_of(fetch(web, web.url("gardening-notes.com"))[2]) == "Gardening Notes | gardening-notes.com"
    assert title_of(fetch(web, web.url("trail-running-club.org"))[2]) == "Trail Running Club | trail-running-club.org"
    assert fetch(web, web.url("gardening-notes.com", "/no-such-page"))[0] == 404
    assert fetch(web, web.url("unknown-host.com"))[0] == 421
    assert web.requests[:2] == [("GET", "gardening-notes.com", "/"), ("GET", "trail-running-club.org", "/")]


def test_head_has_the_get_status_and_headers_but_no_body(web):
    _, get_headers, get_body = fetch(web, web.url("ok-resource.com", "/guide"))
    with socket.create_connection((web.host, web.port), timeout=10) as sock:
        sock.sendall(f"HEAD /guide HTTP/1.1\r\nHost: ok-resource.com:{web.port}\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == b""
    assert f"Content-Length: {len(get_body)}".encode() in head
    assert get_headers["content-length"] == str(len(get_body)) and len(get_body) > 0


def test_head_haters_need_a_get(web):
    assert fetch(web, web.url("head-hater.com", "/page"), "HEAD")[0] == 405
    assert fetch(web, web.url("head-hater.com", "/page"))[0] == 200
    assert fetch(web, web.url("head-forbidden.com", "/page"), "HEAD")[0] == 403
    assert fetch(web, web.url("head-forbidden.com", "/page"))[0] == 200


def test_redirect_chains(web):
    u = web.url
    assert redirect_chain(web, u("moved-resource.com", "/old")) == [(301, u("moved-resource.com", "/old")),
                                                                   (200, u("moved-resource.com", "/new"))]
    assert [status for status, _ in redirect_chain(web, u("moved-resource.com", "/chain-to-404"))] == [302, 301, 404]
    loop = redirect_chain(web, u("loop.com", "/a"), limit=3)
    assert loop == [(302, u("loop.com", "/a")), (302, u("loop.com", "/b")), (302, u("loop.com", "/a"))]
    hops = redirect_chain(web, u("many-hops.com", "/start"))
    assert [status for status, _ in hops] == [301] * MANY_HOPS + [200] and MANY_HOPS > 10
    deep_article = u("home-redirect.com", "/blog/2019/05/deep-article.html")
    assert redirect_chain(web, deep_article) == [(301, deep_article), (200, u("home-redirect.com"))]
    parked = redirect_chain(web, u("expired-brand.com"))
    assert parked[-1] == (200, u("www.hugedomains.com", "/domain_profile.cfm?d=expired-brand.com"))


@pytest.mark.parametrize("host, path, status, needle", [
    ("dead-links.com", "/gone", 404, b""),
    ("dead-links.com", "/removed", 410, b""),
    ("dead-links.com", "/teapot", 418, b""),
    ("flaky-server.com", "/always-500", 500, b""),
    ("soft-missing.com", "/old-article", 200, b"<title>Page not found</title>"),
    ("for-sale-domain.net", "/", 200, b"This domain is for sale!"),
    ("for-sale-domain.net", "/any/other/path", 200, b"This domain is for sale!"),
    ("linkedin-like.com", "/in/someone", 999, b""),
])
def test_targets_answer_their_status(web, host, path, status, needle):
    answer_status, _, body = fetch(web, web.url(host, path))
    assert answer_status == status and needle in body


def test_bot_wall_sends_a_challenge_header(web):
    status, headers, _ = fetch(web, web.url("bot-wall.com", "/page"))
    assert (status, headers["cf-mitigated"]) == (403, "challenge")


def test_flaky_targets_recover_once_per_url_until_reset(web):
    status, headers, _ = fetch(web, web.url("flaky-server.com", "/recovers"), "HEAD")
    assert (status, headers["retry-after"]) == (503, "1")
    assert fetch(web, web.url("flaky-server.com", "/recovers"))[0] == 200
    assert fetch(web, web.url("rate-limited.com", "/recovers"))[0] == 429
    assert fetch(web, web.url("rate-limited.com", "/recovers"))[0] == 200
    assert [fetch(web, web.url("rate-limited.com", "/always"))[0] for _ in range(3)] == [429, 429, 429]
    web.reset_counters()
    assert web.requests == [] and web.max_concurrency == {}
    assert fetch(web, web.url("flaky-server.com", "/recovers"))[0] == 503


def test_tls_to_the_plain_http_port_fails_the_handshake(web):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((web.host, web.port), timeout=10) as sock:
        with pytest.raises(ssl.SSLError):
            context.wrap_socket(sock, server_hostname="tls-broken.com")


def test_dns_overrides_cover_the_special_hosts(web):
    overrides = web.dns_overrides
    assert "nxdomain-expired.com" not in overrides
    assert overrides["flaky-dns.com"] == "SERVFAIL"
    assert overrides["refused-host.com"] == "127.0.0.2"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", web.port), timeout=10)
    assert (overrides["ipv6-only.com"], overrides["dual-stack.com"]) == ("::1", "127.0.0.2|::1")
    crawled_hosts = {urlsplit(url).hostname for url in [*web.expected_pages, *web.expected_checks, web.slow_seed]}
    assert {host for host in crawled_hosts if overrides.get(host) == "127.0.0.1"} == crawled_hosts - {
        "nxdomain-expired.com", "flaky-dns.com", "refused-host.com", "ipv6-only.com", "dual-stack.com"}


def test_ipv6_hosts_are_served_on_ipv6_loopback_only(web):
    """Each listener plays only its own hosts (421 for the others), so an answer for an IPv6 host proves that the
    connection went over IPv6; where ::1 cannot be bound the IPv6 targets are neither served nor linked."""
    if not web.ipv6:
        pytest.skip("no IPv6 loopback on this machine")
    for family, host, path, status in (("::1", "ipv6-only.com", "/", 200), ("127.0.0.1", "ipv6-only.com", "/", 421),
                                       ("::1", "ok-resource.com", "/", 421), ("::1", "dual-stack.com", "/page", 200)):
        conn = http.client.HTTPConnection(family, web.port, timeout=10)
        conn.request("GET", path, headers={"Host": f"{host}:{web.port}"})
        assert conn.getresponse().status == status, (family, host)
        conn.close()
    assert web.families[("ipv6-only.com", "ipv6")] == 1 and web.families[("ipv6-only.com", "ipv4")] == 1
    assert web.expected_checks[web.url("ipv6-only.com", "/old-catalogue")] == ("broken", "http_404")
    with TestWeb() as other:
        other.ipv6 = False  # as on a machine without ::1
        assert not any("ipv6-only.com" in url or "dual-stack.com" in url for url in other.expected_checks)
        assert "ipv6-only.com" not in fetch(other, other.url("homebrew-corner.net", "/suppliers.html"))[2].decode()


def test_body_targets_answer_200_with_their_template(web):
    """The targets judged by their body alone: every one answers 200 with HTML (a registrar's for-sale path
    behind a 302 aside), and the words each verdict hangs on are in it."""
    from demo.bodies import BODY_TARGETS

    needles = {"hopfen-shop.com": "Diese Domain steht zum Verkauf", "jibiru.com": "このドメインは販売中です",
               "yeast-labs.com": "window.location.href = \"https://sedo.com/", "brew-kits.com": "<center>nginx</center>",
               "fermenter-store.com": "404 - File or directory not found.", "hop-exchange.com": "function buy()",
               "domain-investing.net": "This domain is for sale!"}
    for (host, path), (verdict, _) in BODY_TARGETS.items():
        status, headers, body = fetch(web, web.url(host, path))
        if host == "old-homebrew-shop.com":
            assert status == 302 and "/forsale/old-homebrew-shop.com" in headers["location"]
            continue
        assert status == 200 and headers["content-type"].startswith("text/html"), (host, path)
        assert needles.get(host, "") in body.decode(), host
        assert verdict == "ok" or host not in ("webmaster-notes.com", "domain-investing.net", "brew-search.com")


def test_charsets_and_binary_files(web):
    status, headers, body = fetch(web, web.url("homebrew-corner.net", "/recipes/cafe-creme-stout.html"))
    assert headers["content-type"] == "text/html; charset=windows-1252"
    assert b"<title>Caf\xe9 cr\xe8me stout" in body and "Café crème brewing guide</a>" in body.decode("cp1252")
    _, headers, body = fetch(web, web.url("homebrew-corner.net", "/recipes/biere-de-garde.html"))
    assert headers["content-type"] == "text/html"
    assert b'<meta charset="iso-8859-1">' in body and "Bière de garde à l'ancienne" in body.decode("latin-1")
    _, headers, body = fetch(web, web.url("gardening-notes.com", "/files/seed-calendar.pdf"))
    assert headers["content-type"] == "application/pdf" and body.startswith(b"%PDF-")
    _, headers, body = fetch(web, web.url("gardening-notes.com", "/images/tomato.jpg"))
    assert headers["content-type"] == "image/jpeg" and body.startswith(b"\xff\xd8")


def crawl(web: TestWeb) -> tuple[set[str], dict[str, set[str]]]:
    """A minimal reference crawl of the seed sites: robots-allowed same-site URLs fetched, and for each external
    target the pages that link to it. It checks the ground truth against what the pages really contain."""
    robots: dict[str, RobotFileParser] = {}
    seed_sites = {site_of(seed) for seed in web.seeds}
    queue, seen, fetched, externals = list(web.seeds), set(web.seeds), set(), defaultdict(set)
    while queue:
        url = queue.pop()
        host = urlsplit(url).hostname
        if host not in robots:
            status, _, body = fetch(web, web.url(host, "/robots.txt"))
            robots[host] = RobotFileParser()
            robots[host].parse(body.decode().splitlines() if status == 200 else [])
        if not robots[host].can_fetch("*", url):
            continue
        status, headers, body = fetch(web, url)
        fetched.add(url)
        hrefs = [headers["location"]] if "location" in headers else []
        base = url
        if headers["content-type"].startswith("text/html") and status == 200:
            doc = lxml.html.document_fromstring(body)
            base = urljoin(url, doc.xpath("string(//base/@href)")) or url
            hrefs += doc.xpath("//a/@href | //area/@href")
        for href in hrefs:
            target, _ = resolve_href(href, base)
            if target is None:
                continue
            if site_of(target) not in seed_sites:
                externals[target].add(url)
            elif target not in seen:
                seen.add(target)
                queue.append(target)
    return fetched, externals


def test_ground_truth_matches_the_pages(web):
    fetched, externals = crawl(web)
    assert fetched == web.expected_pages
    assert set(externals) == set(web.expected_checks)
    assert web.url("gardening-notes.com", "/private/notes.html") not in web.expected_pages
    assert ("GET", "gardening-notes.com", "/private/notes.html") not in web.requests
    assert web.url("gardening-notes.com", "/archive/composting.html") in fetched  # reached through <base href>
    assert web.url("blog.gardening-notes.com") in fetched
    assert {site_of(page) for page in externals[web.url("dead-links.com", "/gone")]} == {site_of(s) for s in web.seeds}
    assert len({site_of(page) for page in externals[web.url("dead-links.com", "/teapot")]}) == 1
    verdicts = {verdict for verdict, _ in web.expected_checks.values()}
    assert verdicts == {"ok", "broken", "unknown"}


def test_version_2_changes_a_target_and_two_links(web):
    changing = web.url("ok-resource.com", "/changing")
    tomatoes = web.url("gardening-notes.com", "/guides/tomatoes.html")
    assert fetch(web, changing)[0] == 200 and web.expected_checks[changing] == ("ok", "ok")
    _, v1_externals = crawl(web)
    web.version = 2
    assert fetch(web, changing)[0] == 404 and web.expected_checks[changing] == ("broken", "http_404")
    guide = web.url("ok-resource.com", "/guide")
    assert lxml.html.document_fromstring(fetch(web, tomatoes)[2]).xpath(f'//a[@href="{guide}"]/@rel') == ["nofollow"]
    fetched, v2_externals = crawl(web)
    assert fetched == web.expected_pages and set(v2_externals) == set(web.expected_checks)
    lost = {(target, page) for target, pages in v1_externals.items() for page in pages - v2_externals[target]}
    assert lost == {(web.url("ok-resource.com"), web.url("homebrew-corner.net", "/equipment.html"))}


def test_concurrency_is_counted_per_host_and_slow_pages_do_not_block_others():
    with TestWeb(slow_delay=2.0) as web:
        pages = sorted(web.slow_expected_pages - {web.slow_seed})
        assert len(pages) == 12
        barrier, answers = threading.Barrier(6), []

        def slow_get(url):
            barrier.wait()
            answers.append(fetch(web, url)[0])

        threads = [threading.Thread(target=slow_get, args=(url,)) for url in pages[:6]]
        for thread in threads:
            thread.start()
        assert fetch(web, web.url("ok-resource.com"))[0] == 200
        assert answers == []  # the fast host answered while all slow requests were still waiting
        for thread in threads:
            thread.join(10)
        assert answers == [200] * 6
        assert web.max_concurrency == {"slow-pages.com": 6, "ok-resource.com": 1}


def test_stop_returns_promptly_while_a_request_hangs():
    web = TestWeb(hang_seconds=120).start()
    outcome = []

    def hanging_get():
        try:
            outcome.append(fetch(web, web.url("slow-host.com", "/page")))
        except (http.client.HTTPException, OSError) as exc:
            outcome.append(exc)

    client = threading.Thread(target=hanging_get)
    client.start()
    deadline = time.monotonic() + 10
    while ("GET", "slow-host.com", "/page") not in web.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    assert web.max_concurrency == {"slow-host.com": 1}
    stopper = threading.Thread(target=web.stop)
    stopper.start()
    stopper.join(10)
    client.join(10)
    assert not stopper.is_alive() and not client.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], Exception)  # the connection closed without an answer
