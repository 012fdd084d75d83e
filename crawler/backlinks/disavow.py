"""Google's disavow file: read (to skip what it lists, to merge, as a whitelist) and write.

The format, from Google's help page "Disavow links to your site"
(https://support.google.com/webmasters/answer/2648487): a plain ``.txt`` file in UTF-8 or 7-bit ASCII, one URL
or ``domain:example.com`` per line, ``#`` starting a comment line, URLs at most 2,048 characters, at most
100,000 lines and 2 MB. Each upload replaces the previous file of the property, so a file is never split in
parts (the second part would undo the first): a list over the limits is refused, and ``domain:`` lines (which
cover every page and subdomain of a site) are the way to shorten it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from crawler.seeds import parse_seed
from crawler.urls import host_of, normalize_url

DOMAIN_PREFIX = "domain:"
MAX_URL_CHARS = 2048
MAX_LINES = 100_000
MAX_BYTES = 2_000_000  # "2 MB": counted in decimal megabytes, the smaller reading


class DisavowError(ValueError):
    """A disavow (or whitelist) file that cannot be used as it is; the message names the line."""


@dataclass
class DisavowList:
    """What a disavow file lists: hosts (``domain:`` lines, lower case) and normalized URLs, with its lines."""

    domains: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)  # as read, without line ends

    def covers(self, url: str) -> bool:
        """Whether a linking page is disavowed: its URL is listed, or its host is (or is under) a listed domain."""
        return normalize_url(url) in self.urls or covered_by(host_of(url), self.domains)

    def covers_host(self, host: str) -> bool:
        return covered_by(host, self.domains)


def covered_by(host: str, domains: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    parts = host.split(".")
    suffixes = {".".join(parts[i:]) for i in range(len(parts))}
    return not suffixes.isdisjoint(domains)


def parse_entry(text: str) -> tuple[str, str] | None:
    """One line: ``("domain", host)``, ``("url", normalized URL)``, or None for a comment or blank line; raise
    ``ValueError`` for anything else. A bare host (no scheme) is read as a domain, as whitelists are written."""
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    if text.lower().startswith(DOMAIN_PREFIX):
        name = text[len(DOMAIN_PREFIX):].strip().lower().rstrip(".")
        if not name or "/" in name or ":" in name or " " in name:
            raise ValueError(f"{DOMAIN_PREFIX} takes a bare host name (domain:example.com)")
        return "domain", name
    if "://" not in text:
        if "/" in text or " " in text:
            raise ValueError("expected a URL, domain:example.com or a # comment")
        return "domain", host_of(parse_seed(text))
    if len(text) > MAX_URL_CHARS:
        raise ValueError(f"URL longer than {MAX_URL_CHARS} characters")
    return "url", parse_seed(text)


def read_disavow(path: str, what: str = "disavow file") -> DisavowList:
    """Read a disavow or whitelist file; a line that is none of its forms raises :class:`DisavowError`."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise DisavowError(f"{what} {path}: {exc.strerror or exc}") from None
    text = data.decode("utf-8-sig", errors="replace")
    found = DisavowList()
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            entry = parse_entry(line)
        except ValueError as exc:
            raise DisavowError(f"{what} {path} line {number}: {exc}: {line.strip()[:100]!r}") from None
        found.lines.append(line.rstrip("\r\n"))
        if entry is None:
            continue
        kind, value = entry
        (found.domains if kind == "domain" else found.urls).add(value)
    return found


@dataclass(frozen=True)
class Candidate:
    """A page or site to disavow, and why (each reason with its evidence)."""

    kind: str  # domain | url
    value: str  # host, or normalized URL
    reasons: tuple[tuple[str, str], ...]  # (reason code, evidence)


@dataclass
class Written:
    lines: list[str]
    domains: int = 0
    urls: int = 0
    skipped: list[str] = field(default_factory=list)  # what was left out, and why, one line each


def build_disavow(candidates: Iterable[Candidate], *, today: date, header: Iterable[str] = (),
                  merge: DisavowList | None = None, keep_out: DisavowList | None = None,
                  own_domains: Iterable[str] = ()) -> Written:
    """The lines of a disavow file: the merged file's lines first, all kept; then each new ``domain:`` line once,
    each new URL not already covered by a domain line, each preceded by ``# reason: evidence (date)`` comments.
    Never a page or site of ``own_domains`` or of ``keep_out`` (the whitelist)."""
    own = {d.lower().strip().rstrip(".") for d in own_domains if d.strip()}
    keep_out = keep_out or DisavowList()
    merged = merge or DisavowList()
    out = Written(lines=[*merged.lines])
    if merged.lines and out.lines[-1].strip():
        out.lines.append("")
    out.lines += [f"# {line}" for line in header]
    domains, urls = set(merged.domains), set(merged.urls)
    candidates = sorted(candidates, key=lambda c: (c.kind != "domain", c.value))
    for c in candidates:
        host = c.value if c.kind == "domain" else host_of(c.value)
        if _hits(c, host, own, set()):
            out.skipped.append(f"{c.value}: your own domain")
            continue
        if _hits(c, host, keep_out.domains, keep_out.urls):
            out.skipped.append(f"{c.value}: whitelisted")
            continue
        if c.kind == "domain":
            if covered_by(host, domains):
                continue
            domains.add(host)
            line = DOMAIN_PREFIX + host
            out.domains += 1
        else:
            if c.value in urls or covered_by(host, domains):
                continue
            if len(c.value) > MAX_URL_CHARS:
                out.skipped.append(f"{c.value[:80]}...: URL longer than {MAX_URL_CHARS} characters "
                                   f"(disavow its domain instead)")
                continue
            urls.add(c.value)
            line = c.value
            out.urls += 1
        for reason, evidence in c.reasons:
            out.lines.append(f"# {reason}: {one_line(evidence)} ({today.isoformat()})")
        out.lines.append(line)
    return out


def _hits(c: Candidate, host: str, domains: set[str], urls: set[str]) -> bool:
    """Whether disavowing ``c`` would touch one of ``domains`` (or their subdomains) or ``urls``: a URL on them,
    a domain under one of them, or a domain above one of them (``domain:example.com`` covers ``shop.example.com``)."""
    if covered_by(host, domains):
        return True
    if c.kind == "url":
        return c.value in urls
    return any(covered_by(other, {host}) for other in domains | {host_of(u) for u in urls})


def one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


def check_limits(lines: list[str]) -> str | None:
    """What breaks Google's limits, or None."""
    size = len(("\n".join(lines) + "\n").encode("utf-8"))
    problems = []
    if len(lines) > MAX_LINES:
        problems.append(f"{len(lines):,} lines (at most {MAX_LINES:,})")
    if size > MAX_BYTES:
        problems.append(f"{size:,} bytes (at most {MAX_BYTES:,})")
    return " and ".join(problems) or None


def write_disavow(lines: list[str], path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
