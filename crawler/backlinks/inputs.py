"""The backlinks input: which links you expect on which pages.

A CSV file with the header ``source_url,target[,expected_anchor,expected_rel]``, or a JSONL file (``.jsonl`` or
``.ndjson``, or any file whose first non-blank character is ``{``) with those keys. ``source_url`` is read like a
seed (``crawler/seeds.py``: a bare ``host/path`` gets ``http://``); ``target`` by :mod:`crawler.backlinks.targets`;
``expected_anchor`` is compared without regard to case or whitespace runs; ``expected_rel`` lists the rel tokens
you agreed on (``nofollow``, ``sponsored``, ``ugc``; ``follow`` or ``dofollow`` for none; other standard tokens
like ``noopener`` are allowed and ignored). An empty value means "no expectation".

A bad row (a URL that does not parse, a missing column, a duplicate of an earlier row, an unknown rel token, a
field over ``MAX_FIELD_CHARS``) is returned as an :class:`crawler.seeds.LineError` with its line number; the other rows still
run. A header that lacks ``source_url`` or ``target``, or names unknown columns, makes the whole file unusable
(a typo like ``expected_anchr`` would otherwise drop an expectation silently): :class:`InputFileError`.

A backlink export of Search Console, Ahrefs, Semrush, Majestic, Bing or Moz is read too, recognized by its header
(``crawler/backlinks/vendors.py``), as is a zip of such CSV files (Search Console's bulk download): the vendor's
anchor and rel become the expectations, its other columns ride along as ``vendor_columns``.

Entries are grouped per source page (normalized URL) so that each page is fetched once, whichever worker takes
it: ``{"source_url": ..., "expectations": [{"line", "target", "expected_anchor", "expected_rel"}, ...]}``, plain
JSON for the Redis input of a cluster crawl.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from collections.abc import Iterator

from crawler.backlinks import vendors
from crawler.backlinks.targets import parse_target
from crawler.backlinks.vendors import InputFileError
from crawler.extract.page import collapse
from crawler.seeds import LineError, parse_seed

__all__ = ["InputFileError", "parse_expected_rel", "parse_row", "read_input"]

COLUMNS = ("source_url", "target", "expected_anchor", "expected_rel")
REQUIRED = ("source_url", "target")
MAX_FIELD_CHARS = 4096
MAX_JSON_LINE_CHARS = 4 * MAX_FIELD_CHARS

WEIGHT_TOKENS = ("nofollow", "sponsored", "ugc")  # the rel tokens that change what a link passes on
FOLLOW_TOKENS = ("follow", "dofollow")  # what people write for "a plain, followed link"
OTHER_REL_TOKENS = frozenset(
    "alternate author bookmark external help license me next noopener noreferrer opener prev privacy-policy search tag "
    "terms-of-service".split()
)


def parse_expected_rel(text: str) -> str:
    """The weight tokens of an ``expected_rel`` value, sorted and space-joined ("" for a followed link)."""
    tokens = set(text.lower().replace(",", " ").split())
    unknown = tokens - set(WEIGHT_TOKENS) - set(FOLLOW_TOKENS) - OTHER_REL_TOKENS
    if unknown:
        raise ValueError(f"unknown rel token(s) {', '.join(sorted(unknown))} (expected nofollow, sponsored, ugc or follow)")
    weights = tokens & set(WEIGHT_TOKENS)
    if weights and tokens & set(FOLLOW_TOKENS):
        raise ValueError("expected_rel says both follow and " + " ".join(sorted(weights)))
    return " ".join(sorted(weights))


def parse_row(fields: dict) -> tuple[str, dict]:
    """One row's ``(source_url, expectation)``; raise ``ValueError`` saying what is wrong."""
    values = {}
    for name in COLUMNS:
        value = fields.get(name)
        if value is None:
            if name in REQUIRED:
                raise ValueError(f"missing column {name}")
            value = ""
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        if len(value) > MAX_FIELD_CHARS:
            raise ValueError(f"{name} is longer than {MAX_FIELD_CHARS} characters")
        values[name] = value.strip()
    for name in REQUIRED:
        if not values[name]:
            raise ValueError(f"empty {name}")
    try:
        source = parse_seed(values["source_url"])
    except ValueError as exc:
        raise ValueError(f"source_url: {exc}") from None
    try:
        target = parse_target(values["target"])
    except ValueError as exc:
        raise ValueError(f"target: {exc}") from None
    rel = values["expected_rel"]
    return source, {
        "target": target.spec,
        "expected_anchor": collapse(values["expected_anchor"]) or None,
        "expected_rel": parse_expected_rel(rel) if rel else None,
    }


def read_input(path: str, target: str | None = None) -> tuple[list[dict], list[LineError]]:
    """Read a backlinks input: our CSV or JSONL, or a vendor's export recognized by its header
    (``crawler/backlinks/vendors.py``), or a zip of such CSV files (Search Console's bulk download): (entries
    grouped per source page, bad rows). ``target`` is the target spec of exports that name none (Search Console's
    links are all to your property); a vendor file's rows without a target are refused without it."""
    if not os.path.isfile(path):
        raise InputFileError(f"backlinks input {path!r} is not a file (CSV with a header, JSONL, or a vendor export)")
    default_target = None
    if target:
        try:
            default_target = parse_target(target).spec
        except ValueError as exc:
            raise InputFileError(f"target {target!r}: {exc}") from None
    acc = _Accumulator()
    if zipfile.is_zipfile(path):
        for name, opened in vendors.zip_tables(path):
            with opened as (f, delimiter):
                acc.add(_csv_rows(f, delimiter, default_target, name), f"input {name}")
    elif _is_jsonl(path):
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
            acc.add(_jsonl_rows(f), "input")
    else:
        with vendors.open_text(path) as (f, delimiter):
            acc.add(_csv_rows(f, delimiter, default_target, None), "input")
    return list(acc.entries.values()), acc.errors


class _Accumulator:
    """Rows of one or more files, grouped per source page. A repeated (source, target) pair is an error in our
    own format (someone typed it twice); a vendor export lists one row per link, so a page that links twice to one
    target repeats the pair: the first row is kept and the others are dropped quietly."""

    def __init__(self):
        self.entries: dict[str, dict] = {}
        self.seen: dict[tuple[str, str], int] = {}
        self.errors: list[LineError] = []

    def add(self, rows, kind: str) -> None:
        for line, text, fields in rows:
            vendor = None
            try:
                if isinstance(fields, ValueError):  # the reader could not split the line into fields
                    raise fields
                vendor = fields.pop(vendors.VENDOR_KEY, None)
                source, expectation = parse_row(fields)
                key = (source, expectation["target"])
                if key in self.seen:
                    if vendor is not None:
                        continue
                    raise ValueError(f"duplicate of line {self.seen[key]}")
            except ValueError as exc:
                self.errors.append(LineError(line, text, str(exc), kind=kind))
                continue
            self.seen[key] = line
            entry = self.entries.setdefault(source, {"source_url": source, "expectations": []})
            if vendor is not None:
                expectation.update(input_format=vendor["format"], vendor_columns=vendor["columns"])
            entry["expectations"].append({"line": line, **expectation})


def _is_jsonl(path: str) -> bool:
    if path.lower().endswith((".jsonl", ".ndjson")):
        return True
    if path.lower().endswith((".csv", ".tsv")):
        return False
    with vendors.open_text(path) as (f, _):
        for line in f:
            if line.strip():
                return line.lstrip().startswith("{")
    return False


def _csv_rows(f, delimiter: str, default_target: str | None, member: str | None) -> Iterator[tuple[int, str, dict | ValueError]]:
    """(line, raw text, {column: value} or the error) per data row; blank lines are skipped. The header decides
    the format: ours (``source_url``, ``target`` ...) or a vendor's, whose rows are mapped onto ours."""
    where = f"backlinks input{f' {member}' if member else ''}"
    reader = csv.reader(f, delimiter=delimiter)
    header = raw_header = None
    fmt = None
    for number, fields in _csv_records(reader):
        if header is None:
            if isinstance(fields, ValueError):
                raise InputFileError(f"{where} line {number}: unreadable header: {fields}")
            if not any(v.strip() for v in fields):
                continue
            raw_header = [v.strip().lstrip("\ufeff").strip() for v in fields]
            header = [v.lower() for v in raw_header]
            if any(name in header for name in COLUMNS):
                _check_header(header)
            else:
                fmt = vendors.detect(raw_header, where)
                if fmt.target == () and not default_target:
                    raise InputFileError(f"{where}: a {fmt.label} export names no target (its links all point to "
                                         f"your property): give -a target=domain:your-site.com (or a URL or prefix)")
            continue
        if isinstance(fields, ValueError):
            yield number, "", fields
            continue
        if not any(v.strip() for v in fields):
            continue
        text = ",".join(fields)
        if len(fields) > len(header):
            yield number, text, ValueError(f"{len(fields)} columns, the header has {len(header)}")
            continue
        if fmt is None:
            yield number, text, dict(zip(header, fields))
        else:
            yield number, text, vendors.to_input_row(fmt, raw_header, fields, default_target)
    if header is None:
        raise InputFileError(f"{where} is empty: expected a header source_url,target[,expected_anchor,expected_rel]")


def _csv_records(reader) -> Iterator[tuple[int, list[str] | ValueError]]:
    """The reader's records with the line each starts on; a record the csv module rejects becomes an error."""
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, ValueError(f"unreadable CSV: {exc}")
            continue
        yield start, fields


def _check_header(header: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        problems += ["repeated columns"] if len(set(header)) != len(header) else []
        raise InputFileError(
            f"backlinks input header: {'; '.join(problems)} (columns are {', '.join(COLUMNS)}; the last two optional)"
        )


def _jsonl_rows(f) -> Iterator[tuple[int, str, dict | ValueError]]:
    for number, raw in enumerate(f, start=1):
        text = raw.strip()
        if not text:
            continue
        if len(text) > MAX_JSON_LINE_CHARS:
            yield number, text, ValueError(f"line longer than {MAX_JSON_LINE_CHARS} characters")
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            yield number, text, ValueError(f"not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict):
            yield number, text, ValueError("not a JSON object")
            continue
        unknown = sorted(set(obj) - set(COLUMNS))
        if unknown:
            yield number, text, ValueError(f"unknown key(s) {', '.join(unknown)}")
            continue
        yield number, text, {k: ("" if v is None and k not in REQUIRED else v) for k, v in obj.items()}
