"""Write every item into the data lake as Parquet, one directory per table and crawl, committed at intervals.

Layout: ``<OUTPUT_URI>/<table>/crawl=<CRAWL_ID>/part-<WORKER_ID>-<seq>.parquet`` (Common Crawl's partitioning, so
DuckDB, Spark and ``pyarrow.dataset`` prune by crawl). Rows are buffered (as Arrow batches, ~4x smaller than
dicts) and *committed* every ``PARQUET_COMMIT_INTERVAL`` seconds, when a table holds ``PARQUET_ROWS_PER_FILE``
rows, when a cluster worker goes idle, and at the end: each commit writes one new part per table, zstd-compressed
and sorted by the table's key, as ``_part-...parquet.tmp``, then renames it. A crash leaves at most a
``_``-prefixed temporary file, which no reader globbing ``*.parquet`` (nor ``pyarrow.dataset``) picks up, never a
half-written part; a kill loses at most the rows since the last commit.

In cluster mode the rows of a leased request are held apart until the request is fully processed
(``crawler/frontier/ledger.py``) and only then join the next commit; once the commit's files are renamed, their
leases are acknowledged to the frontier. Until then a killed worker's requests are redone by another worker, so
no row is lost, and no committed row is produced twice except in the moment between a rename and its
acknowledgement (the README's "Cluster guarantees" says so, and every report deduplicates by the table's key).

On one machine a run replaces the partition of its ``CRAWL_ID`` (the parts of an earlier run with the same id
are removed at start), unless it resumes a ``JOBDIR``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.frontier.ledger import Ledger, current
from crawler.runinfo import crawl_id, worker_id
from schemas import schema_for

logger = logging.getLogger(__name__)

SORT_KEYS = {"pages": "url", "links": "target_url", "checks": "url", "backlinks": "source_url"}


class PartWriter:
    """The uncommitted rows of one table in one worker, and the part files they become."""

    BATCH = 5_000

    def __init__(self, table: str, directory: Path, worker: str, *, row_group_size: int, compression: str):
        self.table = table
        self.schema = schema_for(table)
        self.directory = directory
        self.worker = worker
        self.row_group_size = row_group_size
        self.compression = compression
        self.buffer: list[dict] = []
        self.batches: list[pa.RecordBatch] = []
        self.pending = 0  # rows not yet committed
        self.seq = 0
        self.files: list[Path] = []
        self.tmp_path: Path | None = None  # set while a commit writes
        self.rejected = 0  # rows that did not fit the schema (logged one by one)

    def add(self, rows: list[dict]) -> None:
        self.buffer.extend(rows)
        self.pending += len(rows)
        if len(self.buffer) >= self.BATCH:
            self._batch()

    def _batch(self) -> None:
        if not self.buffer:
            return
        try:
            batch = pa.RecordBatch.from_pylist(self.buffer, schema=self.schema)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            batch = self._salvage()
        self.batches.append(batch)
        self.buffer = []

    def _salvage(self) -> pa.RecordBatch:
        """Some row does not fit the schema: keep every row that does, log and count each one that does not (one
        bad row must not cost the table its other rows)."""
        good = []
        for row in self.buffer:
            try:
                pa.RecordBatch.from_pylist([row], schema=self.schema)
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                self.rejected += 1
                self.pending -= 1
                logger.error("%s row dropped, it does not fit schema v%s (%s): %.300r", self.table,
                             self.schema.metadata.get(b"linkprospector.schema_version", b"?").decode(), exc, row)
            else:
                good.append(row)
        return pa.RecordBatch.from_pylist(good, schema=self.schema)

    def _next_name(self) -> str:
        while True:
            name = f"part-{self.worker}-{self.seq:05d}.parquet"
            self.seq += 1
            if not (self.directory / name).exists():
                return name

    def commit(self) -> Path | None:
        """Write the pending rows as one new part file; on failure (a full disk) keep them for the next commit."""
        self._batch()
        self.batches = [b for b in self.batches if b.num_rows]
        if not self.batches:
            return None
        table = pa.Table.from_batches(self.batches, schema=self.schema)
        key = SORT_KEYS.get(self.table)
        if key:
            table = table.sort_by([(key, "ascending")])
        self.directory.mkdir(parents=True, exist_ok=True)
        name = self._next_name()
        final = self.directory / name
        self.tmp_path = self.directory / f"_{name}.tmp"
        try:
            pq.write_table(table, self.tmp_path, compression=self.compression, row_group_size=self.row_group_size)
            os.replace(self.tmp_path, final)  # atomic: the part appears complete or not at all
        except BaseException:
            if self.tmp_path.is_file():
                self.tmp_path.unlink()
            raise
        finally:
            self.tmp_path = None
        self.batches, self.pending = [], 0
        self.files.append(final)
        logger.debug("wrote %s (%d rows)", final, table.num_rows)
        return final


class ParquetPipeline:
    """Item pipeline: routes each item's rows to the writer of its table (``item.rows_by_table()``) and commits."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.writers: dict[str, PartWriter] = {}
        self.root: Path | None = None
        self.held: dict[str, list[tuple[str, list[dict]]]] = {}  # lease -> rows of a request being processed
        self.finished: list[str] = []  # leases whose rows are in the writers, acknowledged at the next commit
        self.committing = False
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self) -> None:
        s = self.crawler.settings
        spider = self.crawler.spider
        self.root = Path(s.get("OUTPUT_URI") or "./data")
        self.crawl = crawl_id(self.crawler)
        self.worker = worker_id(s)
        self.rows_per_file = s.getint("PARQUET_ROWS_PER_FILE")
        self.options = dict(row_group_size=s.getint("PARQUET_ROW_GROUP_SIZE"), compression=s.get("PARQUET_COMPRESSION"))
        self.ledger = Ledger.of(self.crawler)
        self.ledger.sink = self
        self._clear_partition(spider, s)
        interval = s.getfloat("PARQUET_COMMIT_INTERVAL")
        if interval > 0:
            from scrapy.utils.asyncio import create_looping_call

            self.task = create_looping_call(self.commit)
            self.task.start(interval, now=False)
        logger.info("output: %s (crawl=%s, worker=%s, commit every %.0f s)", self.root.resolve(), self.crawl,
                    self.worker, interval)

    def _clear_partition(self, spider, settings) -> None:
        """Remove our own leftovers of a crash; on one machine, the parts of an earlier run of this crawl id."""
        replace = not settings.get("REDIS_URL") and not _resuming(settings.get("JOBDIR"))
        removed = 0
        for table in getattr(spider, "output_tables", ()):
            directory = self.root / table / f"crawl={self.crawl}"
            if not directory.is_dir():
                continue
            for path in directory.glob(f"_part-{self.worker}-*.tmp"):
                path.unlink(missing_ok=True)
            if replace:
                for path in [*directory.glob("part-*.parquet"), *directory.glob("_part-*.tmp")]:
                    path.unlink(missing_ok=True)
                    removed += 1
        if removed:
            logger.warning("crawl %s ran before: replaced its partition (%d part files of the earlier run removed)",
                           self.crawl, removed)

    def writer(self, table: str) -> PartWriter:
        if table not in self.writers:
            directory = self.root / table / f"crawl={self.crawl}"
            self.writers[table] = PartWriter(table, directory, self.worker, **self.options)
        return self.writers[table]

    async def process_item(self, item):
        rows_by_table = [(table, rows) for table, rows in item.rows_by_table().items() if rows]
        lease = current.get()
        if lease is not None:
            self.held.setdefault(lease, []).extend(rows_by_table)
        else:
            self._add(rows_by_table)
        return item

    def _add(self, rows_by_table) -> None:
        full = False
        for table, rows in rows_by_table:
            writer = self.writer(table)
            writer.add(rows)
            self.crawler.stats.inc_value(f"rows/{table}", len(rows))
            full = full or writer.pending >= self.rows_per_file
        if full:
            self.commit()

    def lease_finished(self, lease: str, ok: bool) -> None:
        rows = self.held.pop(lease, [])
        if ok:
            self.finished.append(lease)
            self._add(rows)

    def commit(self) -> None:
        """Make every pending row durable, then acknowledge the leases whose rows they were."""
        if self.committing:
            return
        self.committing = True
        started = time.monotonic()
        files, failed = [], False
        try:
            for writer in self.writers.values():  # each table on its own: one failing table stops no other
                try:
                    if (path := writer.commit()) is not None:
                        files.append(path)
                except OSError as exc:
                    failed = True
                    logger.error("commit of %s failed, its rows are kept for the next attempt: %s", writer.table, exc)
                    self.crawler.stats.inc_value("parquet/commit_errors")
        finally:
            self.committing = False
        for writer in self.writers.values():
            if writer.rejected:
                self.crawler.stats.set_value(f"parquet/rejected_rows/{writer.table}", writer.rejected)
        if failed:  # the leases wait until every table holds their rows
            return
        leases, self.finished = self.finished, []
        if files:
            self.crawler.stats.inc_value("parquet/commits")
            logger.debug("committed %d part files in %.2f s", len(files), time.monotonic() - started)
        self.ledger.durable(leases)

    def close_spider(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.held:
            logger.warning("%d requests were still being processed at close: their rows are not written (their "
                           "leases go back to the frontier)", len(self.held))
        self.commit()


def _resuming(jobdir: str | None) -> bool:
    return bool(jobdir) and Path(jobdir, "requests.queue").exists()
