"""One typed record per table (schemas/records.py): its fields are the schema's columns, a misspelt or missing field
fails where the row is built, and the Parquet writer still drops, alone, a row that does not fit at run time."""

from __future__ import annotations

import dataclasses
import pickle
import types
import typing
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.backlinks.decide import Decision, SourcePage
from crawler.backlinks.rows import backlink_row
from crawler.checks.checker import LinkChecker
from crawler.extract.placement import place_links
from crawler.extract.record import Fetched, build_page
from crawler.lake import LocalLake
from crawler.recrawl import EarlierChecks
from pipelines.parquet import PartWriter
from pipelines.placement import place_item
from schemas import TABLES, TS
from schemas.records import RECORDS, UNPLACED, CheckRow, ContactRow, LinkRow, PageRow
from tests.records import check_row, link_row

WHEN = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
PYTHON_TYPES = {pa.string(): str, pa.int32(): int, pa.int64(): int, pa.float32(): float, pa.float64(): float, pa.bool_(): bool,
                TS: datetime, pa.list_(pa.string()): list[str], pa.map_(pa.string(), pa.string()): dict[str, str]}
PAGE = (b'<html><head><title>Tomatoes</title></head><body><h1>Growing tomatoes</h1><nav><a href="/">Home</a></nav>'
        b'<p>Read <a href="https://seeds.example/heirloom" rel="nofollow">this seed shop</a> first.</p>'
        b'<a href="/kontakt/">Kontakt</a></body></html>')


def fetched(status=200, headers=None, body=PAGE, **extra) -> Fetched:
    return Fetched("https://garden.example/tomatoes", status, headers or {"content-type": "text/html"}, body, WHEN,
                   "garden.example", depth=1, extra=extra)


def without_none(hint):
    """``str | None`` -> ``str``: every Arrow column is nullable, the record says which ones the code leaves null."""
    if isinstance(hint, types.UnionType):
        kept = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        assert len(kept) == 1, hint
        return kept[0]
    return hint


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_table_has_a_record_whose_fields_are_its_columns(table):
    record = RECORDS[table]
    schema = TABLES[table]
    assert record.TABLE == table
    assert [f.name for f in dataclasses.fields(record)] == schema.names  # the same names, in the schema's order
    hints = typing.get_type_hints(record)
    for field in schema:
        assert without_none(hints[field.name]) == PYTHON_TYPES[field.type], (table, field.name)
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
               for f in dataclasses.fields(record))  # nothing may be left out: a null is written None
    assert not hasattr(record(*[None] * len(schema)), "__dict__")  # slotted: an unknown attribute cannot be set


def test_every_table_has_a_record():
    assert set(RECORDS) == set(TABLES)


def test_a_misspelt_or_missing_field_fails_where_the_row_is_built(monkeypatch):
    with pytest.raises(TypeError, match="anchr_text"):
        link_row(anchr_text="seed shop")
    with pytest.raises(TypeError, match="label"):
        ContactRow(site="a.com", kind="email", value="x@a.com", network=None, source_url="https://a.com/",
                   fetched_at=WHEN)
    row = link_row()
    with pytest.raises(AttributeError):
        row.anchr_text = "seed shop"  # set after building (placement does)
    with pytest.raises(AttributeError):
        row.anchr_text  # noqa: B018 (read: a dict's .get() said None)
    # Through the builders: the capture columns a spider hands build_page, a column placement fills.
    with pytest.raises(TypeError, match="warc_filname"):
        build_page(fetched(warc_filname="a.warc.gz"))
    item = build_page(fetched()).item
    misspelt = [{**p, "regoin": p["region"]} for p in place_links(item.root, item.anchors, main_content=False)]
    monkeypatch.setattr("pipelines.placement.place_links", lambda *args, **kwargs: misspelt)
    with pytest.raises(AttributeError, match="regoin"):
        place_item(item, (), False, True)


def test_placement_fills_exactly_the_placement_columns():
    item = build_page(fetched()).item
    assert all(getattr(row, column) is None for row in item.links for column in UNPLACED)
    placements = place_links(item.root, item.anchors, main_content=True)
    assert {column for p in placements for column in p} == set(UNPLACED)
    place_item(item, (), True, True)
    assert [row.region for row in item.links] == [p["region"] for p in placements]


@pytest.mark.parametrize("status, headers, body, parse_status", [
    (200, {"content-type": "text/html", "etag": '"v1"'}, PAGE, "parsed"),
    (301, {"location": "/tomatoes-2"}, b"", "redirect"),
    (404, {"content-type": "text/html"}, b"gone", "http_error"),
    (200, {"content-type": "application/pdf"}, b"%PDF-1.7", "not_html"),
])
def test_page_rows_are_records_and_fit_their_schemas(tmp_path, status, headers, body, parse_status):
    result = build_page(fetched(status, headers, body, warc_filename="a.warc.gz", warc_record_offset=0,
                                warc_record_length=10, unchanged=False))
    item = result.item
    assert type(item.page) is PageRow and item.page.parse_status == parse_status
    assert item.page.warc_filename == "a.warc.gz" and item.page.unchanged is False
    assert all(type(r) is LinkRow and r.fetched_at == WHEN for r in item.links)
    assert all(type(r) is ContactRow for r in item.contacts)
    if parse_status == "parsed":
        assert len(item.links) == 3 and item.contacts and item.page.etag == '"v1"' and item.page.title == "Tomatoes"
    for table, rows in item.rows_by_table().items():
        writer = PartWriter(table, LocalLake(tmp_path), table, "w", row_group_size=10, compression="zstd")
        writer.add(rows)
        path = writer.commit()
        assert writer.rejected == 0
        if rows:
            assert pq.read_table(tmp_path / path).num_rows == len(rows)


def test_check_and_backlink_rows_are_records():
    unchecked = LinkChecker.unchecked_row("http://a.com/" + "x" * 50, "url_too_long", "too long")
    assert type(unchecked) is CheckRow and unchecked.attempts == 0
    table = pa.Table.from_pylist([{"url": "http://a.com/", "verdict": "ok", "checked_at": WHEN, "http_status": 200,
                                   "final_url": None, "redirect_chain": None, "method": "HEAD", "attempts": 1,
                                   "elapsed_ms": 3, "first_seen_broken": None, "broken_crawls": None}])
    reused = EarlierChecks(table, "c1", datetime(2026, 1, 1, tzinfo=UTC)).reusable("http://a.com/")
    assert type(reused) is CheckRow and reused.reused
    found = link_row(region="content", in_main_content=True)
    row = backlink_row({"target": "https://b.com/", "line": 2}, SourcePage(url="https://a.com/", http_status=200),
                       Decision("live", link=found, matches=1), WHEN)
    assert row.found_url == "https://b.com/" and row.region == "content" and row.input_format == "linkprospector"


@pytest.mark.parametrize("table", sorted(RECORDS))
def test_records_pickle_as_class_and_values(table):
    record = RECORDS[table]
    row = record(*range(len(dataclasses.fields(record))))
    assert pickle.loads(pickle.dumps(row)) == row
    assert row.__reduce__() == (record, tuple(range(len(dataclasses.fields(record)))))


def test_the_writer_reads_records_as_from_pylist_reads_the_same_dicts(tmp_path):
    item = build_page(fetched()).item
    place_item(item, (), True, True)
    rows = item.links
    writer = PartWriter("links", LocalLake(tmp_path), "l", "w", row_group_size=10, compression="zstd")
    as_dicts = pa.RecordBatch.from_pylist([dataclasses.asdict(r) for r in rows], schema=writer.schema)
    assert len(rows) == 3 and writer._to_batch(rows).equals(as_dicts)


def test_a_row_that_is_not_its_tables_record_is_dropped_alone_at_run_time(tmp_path, caplog):
    writer = PartWriter("checks", LocalLake(tmp_path), ".", "w1", row_group_size=100, compression="zstd")
    good = [check_row(url=f"http://a.com/{i}") for i in range(3)]
    as_dict = dataclasses.asdict(check_row(url="http://a.com/dict"))  # a row built the old way
    wrong_table = link_row()
    wrong_value = check_row(url="http://a.com/bad")
    wrong_value.attempts = 2**40  # over int32
    writer.add([good[0], as_dict, good[1], wrong_table, wrong_value, good[2]])
    path = tmp_path / writer.commit()
    assert sorted(pq.read_table(path).column("url").to_pylist()) == [r.url for r in good]
    assert writer.rejected == 3 and writer.pending == 0
    assert caplog.text.count("checks row dropped") == 3
    assert "a dict is not a CheckRow" in caplog.text and "a LinkRow is not a CheckRow" in caplog.text
