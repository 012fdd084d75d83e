"""Backlink exports of the SEO tools, read as backlinks input: detected by their header, never by their file name
(people rename files, and every vendor names them differently across versions).

The names are in ``crawler/backlinks/formats.py``; here is how a file is opened (its encoding from its BOM or its
NUL bytes, its delimiter from its header line), which format a header is, and how a vendor row becomes an input
row: the vendor's linking page is ``source_url``, its target ``target``, its anchor ``expected_anchor`` and its
nofollow/ugc/sponsored columns ``expected_rel`` (``follow`` when they are all false); every other non-empty column
is kept, by its header name, for the ``vendor_columns`` of the backlinks row. A header that is no known format is
refused with the header seen and the formats known; a Search Console table of counts is refused with the export
to take instead.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crawler.backlinks.formats import (
    FORMATS,
    GSC_COUNT_TABLES,
    GSC_EXTRA,
    GSC_LINKS_EXPORT,
    OURS,
    REL_WORDS,
    TRUE_VALUES,
    Format,
)

VENDOR_KEY = "_vendor"  # the key of an input row that carries the vendor's name and unused columns
SAMPLE_BYTES = 64 * 1024  # read to tell the encoding and the delimiter
MAX_VENDOR_VALUE_CHARS = 1000  # a kept vendor column's value is cut here (a row stays a row, not a page)
DELIMITERS = ("\t", ";", ",")  # Ahrefs uses tabs; Search Console in some locales semicolons


class InputFileError(ValueError):
    """The file as a whole cannot be read (missing, or a header we cannot trust)."""


def header_key(name: str) -> str:
    """A header name as compared: lower case, without spaces, underscores, hyphens, quotes or a BOM."""
    return re.sub(r"[\s_\-\"'\ufeff]+", "", name).lower()


def sniff_encoding(sample: bytes) -> str:
    """The text encoding of a file starting with ``sample``: its BOM says it (Ahrefs: UTF-16 LE; Search Console
    and Excel: UTF-8 with BOM); NUL bytes at every other position mean UTF-16 without one; else UTF-8."""
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    head = sample[:2048]
    if head and head.count(0) * 3 > len(head):
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    return "utf-8-sig"


def sniff_delimiter(text: str) -> str:
    """The delimiter of a header line: the one of tab, semicolon and comma that occurs most outside quotes."""
    unquoted = re.sub(r'"[^"]*"', "", text)
    counts = {d: unquoted.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@contextmanager
def open_text(source: str | Callable[[], io.BufferedIOBase]):
    """``(text stream, delimiter)`` of a file path, or of an opener returning a binary stream (a zip member)."""
    opener = (lambda: open(source, "rb")) if isinstance(source, str) else source
    with opener() as raw:
        sample = raw.read(SAMPLE_BYTES)
    encoding = sniff_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    raw = opener()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        yield stream, sniff_delimiter(first)
    finally:
        stream.close()


def read_header(source) -> list[str]:
    """The first non-blank record of a CSV file (a path or an opener), as written."""
    import csv

    with open_text(source) as (f, delimiter):
        for fields in csv.reader(f, delimiter=delimiter):
            if any(v.strip() for v in fields):
                return [v.strip().lstrip("\ufeff").strip() for v in fields]
    return []


def zip_tables(path: str) -> Iterator[tuple[str, object]]:
    """The CSV files of a zip (Search Console's bulk download) that list links, each as ``(name, open_text(...))``.
    Tables of counts in it are skipped; a zip with no table of links is refused, naming what it holds."""
    with zipfile.ZipFile(path) as z:
        names = [info.filename for info in z.infolist()
                 if not info.is_dir() and info.filename.lower().endswith((".csv", ".tsv"))]
    usable, skipped = [], []
    for name in names:
        header = read_header(_member_opener(path, name))
        count = count_table(header)
        if count is not None:
            skipped.append(f"{name} ({count})")
            continue
        usable.append(name)
    if not usable:
        what = ", ".join(skipped) if skipped else "no CSV file"
        raise InputFileError(f"backlinks input {path}: the zip holds {what}, no list of links: {GSC_LINKS_EXPORT}")
    for name in usable:
        yield name, open_text(_member_opener(path, name))


def _member_opener(path: str, name: str):
    def opener():
        z = zipfile.ZipFile(path)
        member = z.open(name)
        member._zip_owner = z  # keep the archive open as long as the member is read
        return member
    return opener


def count_table(header: list[str]) -> str | None:
    """Which Search Console table of counts this header is ("Top linking sites"...), or None."""
    keys = [header_key(h) for h in header]
    if len(keys) >= 2 and keys[0] in GSC_COUNT_TABLES and not any(k in keys for f in FORMATS for k in f.source):
        return GSC_COUNT_TABLES[keys[0]]
    return None


def matches(fmt: Format, keys: set[str]) -> bool:
    if not any(k in keys for k in fmt.source):
        return False
    if not fmt.target:  # Search Console: the linking page and nothing but its own extra columns
        source = next(k for k in fmt.source if k in keys)
        return keys - {source} <= GSC_EXTRA
    return (any(k in keys for k in fmt.target) and all(k in keys for k in fmt.markers)
            and (not fmt.any_marker or any(k in keys for k in fmt.any_marker)))


def detect(header: list[str], where: str = "backlinks input") -> Format:
    """The vendor format of a header; raise :class:`InputFileError` saying what was seen and what is known."""
    count = count_table(header)
    if count is not None:
        raise InputFileError(f"{where}: this is Search Console's {count!r} table, counts rather than links: "
                             f"{GSC_LINKS_EXPORT}")
    keys = {header_key(h) for h in header}
    for fmt in FORMATS:
        if matches(fmt, keys):
            return fmt
    seen = ",".join(header)
    seen = seen if len(seen) <= 300 else seen[:300] + "..."
    known = ", ".join([f"{OURS} (source_url,target[,expected_anchor,expected_rel])", *(f.label for f in FORMATS)])
    raise InputFileError(f"{where}: header {seen!r} matches no known format; formats known: {known}")


def _first(keys: tuple[str, ...], values: dict[str, str]) -> str | None:
    return next((k for k in keys if k in values), None)


def vendor_rel(fmt: Format, values: dict[str, str]) -> tuple[str, set[str]]:
    """``(expected_rel, columns used)``: the rel tokens the vendor saw ("follow" for none), or "" when the export
    says nothing about rel."""
    used, tokens, known = set(), set(), False
    for token, columns in fmt.rel_flags.items():
        column = _first(columns, values)
        if column is not None:
            used.add(column)
            known = True
            if values[column].strip().lower() in TRUE_VALUES:
                tokens.add(token)
    column = _first(fmt.rel_text, values)
    if column is not None:
        used.add(column)
        text = values[column].strip().lower()
        for word in sorted(REL_WORDS, key=len, reverse=True):  # "nofollow" before "follow"
            if word and re.search(rf"\b{re.escape(word)}\b", text):
                known = True
                if REL_WORDS[word]:
                    tokens.add(REL_WORDS[word])
                text = re.sub(rf"\b{re.escape(word)}\b", " ", text)
    if not known:
        return "", used
    return " ".join(sorted(tokens)) or "follow", used


def to_input_row(fmt: Format, header: list[str], fields: list[str], default_target: str | None) -> dict:
    """A vendor row as an input row (``source_url``, ``target``, ``expected_anchor``, ``expected_rel``) with the
    vendor's name and every other non-empty column under ``VENDOR_KEY``."""
    keys = [header_key(h) for h in header]
    fields = list(fields) + [""] * (len(keys) - len(fields))
    values = dict(zip(keys, fields))
    source = _first(fmt.source, values)
    target = _first(fmt.target, values)
    anchor = _first(fmt.anchor, values)
    rel, used = vendor_rel(fmt, values)
    used |= {source, target, anchor}
    target_value = (values[target].strip() if target else "") or default_target or ""
    columns = {name: value.strip()[:MAX_VENDOR_VALUE_CHARS] for name, key, value in zip(header, keys, fields)
               if key not in used and value.strip()}
    return {"source_url": values[source], "target": target_value,
            "expected_anchor": values[anchor] if anchor else "", "expected_rel": rel,
            VENDOR_KEY: {"format": fmt.name, "columns": columns}}
