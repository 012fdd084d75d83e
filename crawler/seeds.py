"""Seed lists: where a crawl starts.

A seed file holds one URL or bare domain per line; ``#`` starts a comment, blank lines are ignored. A bad line is
reported with its line number and skipped; the rest still crawl. The same reader serves the single-node spider
(``-a seeds=PATH`` or ``-a seeds=url1,url2``) and ``scrapy seed`` (which pushes seeds to the shared Redis frontier).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.urls import normalize_url

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.IGNORECASE)
_BARE_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(?!\d)", re.IGNORECASE)  # a scheme, not a host:port


@dataclass(frozen=True)
class LineError:
    """A bad line of an input file, reported with its number so the user can fix it; the other lines still run."""

    line: int
    text: str
    message: str
    kind: str = "seed"  # what the file holds: "seed", "input"...

    def __str__(self) -> str:
        return f"{self.kind} line {self.line}: {self.message}: {self.text[:200]!r}"


def parse_seed(text: str) -> str:
    """Turn one seed (URL or bare domain) into a normalized http(s) URL, or raise ``ValueError`` saying why."""
    text = text.strip()
    if any(ch.isspace() for ch in text):
        raise ValueError("contains whitespace")
    if "://" not in text:
        if scheme := _BARE_SCHEME.match(text):  # mailto:me@example.com, tel:..., javascript:...
            raise ValueError(f"unsupported scheme {scheme.group(1).lower()!r}")
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported scheme {parts.scheme!r}")
    if "@" in parts.netloc:
        raise ValueError("user name or password in the URL (not supported)")
    host = parts.hostname or ""
    labels = host.rstrip(".").split(".")
    if len(labels) < 2 and host != "localhost" or not all(_HOST_LABEL.match(label) for label in labels):
        raise ValueError("not a valid host name")
    try:
        _ = parts.port  # raises ValueError on a port out of range
    except ValueError:
        raise ValueError("invalid port") from None
    return normalize_url(text)


def read_seeds(spec: str) -> tuple[list[str], list[LineError]]:
    """Read seeds from a file path, or from a comma-separated list when ``spec`` is not a file.

    Returns the unique seed URLs in order and the errors, each with its 1-based line (or list position).
    """
    if os.path.isfile(spec):
        with open(spec, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    elif spec.startswith(("/", "./", "../", "~")) or spec.endswith((".txt", ".csv", ".lst")):
        raise FileNotFoundError(f"no seed file at {spec}")
    else:
        lines = spec.split(",")
    seeds: list[str] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        text = "" if text.startswith("#") else text.split(" #", 1)[0].strip()  # a URL may hold '#'; a comment follows a space
        if not text:
            continue
        try:
            url = parse_seed(text)
        except ValueError as exc:
            errors.append(LineError(number, raw.strip(), str(exc)))
            continue
        if url not in seen:
            seen.add(url)
            seeds.append(url)
    return seeds, errors
