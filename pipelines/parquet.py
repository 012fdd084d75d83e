"""Write every item into the data lake as Parquet, one directory per table and crawl.

Layout: ``<OUTPUT_URI>/<table>/crawl=<CRAWL_ID>/part-<WORKER_ID>-<seq>.parquet`` (Common Crawl's partitioning, so
DuckDB, Spark and ``pyarrow.dataset`` prune by crawl). Files are zstd-compressed, rows are sorted by the table's key
within each row group (min/max statistics then let readers skip row groups), a file rolls after
``PARQUET_ROWS_PER_FILE`` rows. A file is written as ``_part-...parquet.tmp`` and renamed only once complete: a crash
leaves at most a ``_``-prefixed temporary file, which no reader globbing ``*.parquet`` picks up, never a
half-written part.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.runinfo import crawl_id, worker_id
from schemas import schema_for

logger = logging.getLogger(__name__)

SORT_KEYS = {"pages": "url", "links": "target_url", "checks": "url", "backlinks": "source_url"}


class PartWriter:
    """Rolling Parquet part files of one table, written by one worker."""

    def __init__(self, table: str, directory: Path, worker: str, *, rows_per_file: int, row_group_size: int, compression: str):
        self.table = table
        self.schema = schema_for(table)
        self.directory = directory
        self.worker = worker
        self.rows_per_file = rows_per_file
        self.row_group_size = row_group_size
        self.compression = compression
        self.buffer: list[dict] = []  # rows as they come, turned into Arrow batches every BATCH rows
        self.batches: list[pa.RecordBatch] = []  # ~4x smaller than the dicts: worker RSS stays low
        self.batched_rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.rows_in_file = 0
        self.seq = 0
        self.tmp_path: Path | None = None
        self.final_path: Path | None = None
        self.files: list[Path] = []

    BATCH = 5_000

    def add(self, rows: list[dict]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= min(self.BATCH, self.row_group_size):
            self._batch()
        if self.batched_rows >= self.row_group_size:
            self._write_group()

    def _batch(self) -> None:
        if self.buffer:
            self.batches.append(pa.RecordBatch.from_pylist(self.buffer, schema=self.schema))
            self.batched_rows += len(self.buffer)
            self.buffer = []

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            name = f"part-{self.worker}-{self.seq:05d}.parquet"
            self.seq += 1
            final = self.directory / name
            if not final.exists():
                break
        self.final_path = final
        self.tmp_path = self.directory / f"_{name}.tmp"
        self.writer = pq.ParquetWriter(self.tmp_path, self.schema, compression=self.compression)
        self.rows_in_file = 0

    def _write_group(self) -> None:
        self._batch()
        if not self.batches:
            return
        table = pa.Table.from_batches(self.batches, schema=self.schema)
        self.batches, self.batched_rows = [], 0
        key = SORT_KEYS.get(self.table)
        if key:
            table = table.sort_by([(key, "ascending")])
        if self.writer is None:
            self._open()
        self.writer.write_table(table, row_group_size=self.row_group_size)
        self.rows_in_file += table.num_rows
        if self.rows_in_file >= self.rows_per_file:
            self._finish_file()

    def _finish_file(self) -> None:
        if self.writer is None:
            return
        self.writer.close()
        os.replace(self.tmp_path, self.final_path)  # atomic: the part appears complete or not at all
        self.files.append(self.final_path)
        logger.info("wrote %s (%d rows)", self.final_path, self.rows_in_file)
        self.writer = None

    def close(self) -> None:
        self._write_group()
        self._finish_file()


class ParquetPipeline:
    """Item pipeline: routes each item's rows to the part writer of its table (``item.rows_by_table()``)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.writers: dict[str, PartWriter] = {}
        self.root: Path | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        s = self.crawler.settings
        spider = self.crawler.spider
        self.root = Path(s.get("OUTPUT_URI") or "./data")
        self.crawl = crawl_id(self.crawler, spider.name)
        self.worker = worker_id(s)
        self.options = dict(
            rows_per_file=s.getint("PARQUET_ROWS_PER_FILE"),
            row_group_size=s.getint("PARQUET_ROW_GROUP_SIZE"),
            compression=s.get("PARQUET_COMPRESSION"),
        )
        logger.info("output: %s (crawl=%s, worker=%s)", self.root.resolve(), self.crawl, self.worker)

    def writer(self, table: str) -> PartWriter:
        if table not in self.writers:
            directory = self.root / table / f"crawl={self.crawl}"
            self.writers[table] = PartWriter(table, directory, self.worker, **self.options)
        return self.writers[table]

    async def process_item(self, item):
        for table, rows in item.rows_by_table().items():
            if rows:
                self.writer(table).add(rows)
                self.crawler.stats.inc_value(f"rows/{table}", len(rows))
        return item

    def close_spider(self) -> None:
        for writer in self.writers.values():
            writer.close()
