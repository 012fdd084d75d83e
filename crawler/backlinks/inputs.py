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

Entries are grouped per source page (normalized URL) so that each page is fetched once, whichever worker takes
it: ``{"source_url": ..., "expectations": [{"line", "target", "expected_anchor", "expected_rel"}, ...]}``, plain
JSON for the Redis input of a cluster crawl.
"""

from __future__ import annotations

import csv
import json
import os
from typing import Iterator

from crawler.backlinks.targets import parse_target
from crawler.extract.page import collapse
from crawler.seeds import LineError, parse_seed

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


class InputFileError(ValueError):
    """The file as a whole cannot be read (missing, or a header we cannot trust)."""


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


def read_input(path: str) -> tuple[list[dict], list[LineError]]:
    """Read a CSV or JSONL input file: (entries grouped per source page, bad rows)."""
    if not os.path.isfile(path):
        raise InputFileError(f"backlinks input {path!r} is not a file (CSV with a header, or JSONL)")
    reader = _jsonl_rows if _is_jsonl(path) else _csv_rows
    entries: dict[str, dict] = {}
    seen: dict[tuple[str, str], int] = {}
    errors: list[LineError] = []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        for line, text, fields in reader(f):
            try:
                if isinstance(fields, ValueError):  # the reader could not split the line into fields
                    raise fields
                source, expectation = parse_row(fields)
                key = (source, expectation["target"])
                if key in seen:
                    raise ValueError(f"duplicate of line {seen[key]}")
            except ValueError as exc:
                errors.append(LineError(line, text, str(exc), kind="input"))
                continue
            seen[key] = line
            entry = entries.setdefault(source, {"source_url": source, "expectations": []})
            entry["expectations"].append({"line": line, **expectation})
    return list(entries.values()), errors


def _is_jsonl(path: str) -> bool:
    if path.lower().endswith((".jsonl", ".ndjson")):
        return True
    if path.lower().endswith(".csv"):
        return False
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            if line.strip():
                return line.lstrip().startswith("{")
    return False


def _csv_rows(f) -> Iterator[tuple[int, str, dict | ValueError]]:
    """(line, raw text, {column: value} or the error) per data row; blank lines are skipped."""
    reader = csv.reader(f)
    header = None
    for number, fields in _csv_records(reader):
        if header is None:
            if isinstance(fields, ValueError):
                raise InputFileError(f"backlinks input line {number}: unreadable header: {fields}")
            if not any(v.strip() for v in fields):
                continue
            header = [v.strip().lower() for v in fields]
            _check_header(header)
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
        yield number, text, dict(zip(header, fields))
    if header is None:
        raise InputFileError("backlinks input is empty: expected a header source_url,target[,expected_anchor,expected_rel]")


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
