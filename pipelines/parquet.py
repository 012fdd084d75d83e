"""Write every item into the data lake as Parquet, one directory per table and crawl, committed at intervals.

Layout: ``<OUTPUT_URI>/<table>/crawl=<CRAWL_ID>/part-<WORKER_ID>-<seq>.parquet`` (Common Crawl's partitioning, so
DuckDB, Spark and ``pyarrow.dataset`` prune by crawl). Rows (each its table's record, ``schemas/records.py``) are
buffered as Arrow batches (~3x smaller than the records) and *committed* every ``PARQUET_COMMIT_INTERVAL`` seconds,
when a table holds ``PARQUET_ROWS_PER_FILE`` rows, when a cluster worker goes idle, and at the end: each commit
writes one new part per table, zstd-compressed and sorted by the table's key, as ``_part-...parquet.tmp``, then
renames it. A crash leaves at most a
``_``-prefixed temporary file, which no reader globbing ``*.parquet`` (nor ``pyarrow.dataset``) picks up, never a
half-written part; a kill loses at most the rows since the last commit.

In cluster mode the rows of a leased request are held apart until the request is fully processed
(``crawler/frontier/ledger.py``) and only then join the next commit. A commit is two-phase: every table's part is
written under its temporary name, then the frontier *seals* the commit (ends its leases and records its files, in
one step), then the files are renamed and the record forgotten. A worker killed before the seal has its requests
redone by another worker; one killed after it has its commit completed (renamed) by another worker that sees the
same lake (``crawler/frontier/scripts.py``). So no row is lost and none is written twice; with workers that do not
share one lake, a kill between the seal and the renames can still duplicate that commit's rows (reports
deduplicate by each table's key).

On one machine a run replaces the partition of its ``CRAWL_ID`` (the parts of an earlier run with the same id
are removed at start), unless it resumes a ``JOBDIR``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.failpoints import failpoint
from crawler.frontier.ledger import Ledger, current
from crawler.lake import Lake, open_lake
from crawler.runinfo import crawl_id, worker_id
from schemas import SORT_KEYS, schema_for
from schemas.records import RECORDS, CrawlStatsRow, Row

logger = logging.getLogger(__name__)

# What converting a row that does not fit its table raises: a value of the wrong type or range (Arrow), or a row
# that is not the table's record (AttributeError: a record whose field was deleted).
UNFIT = (pa.ArrowException, TypeError, ValueError, OverflowError, AttributeError)


class PartWriter:
    """The uncommitted rows of one table in one worker, and the part files they become."""

    BATCH = 5_000

    def __init__(self, table: str, lake: Lake, directory: str, worker: str, *, row_group_size: int, compression: str):
        self.table = table
        self.schema = schema_for(table)
        self.record = RECORDS[table]
        self.lake = lake
        self.directory = directory  # relative to the lake root
        self.worker = worker
        self.row_group_size = row_group_size
        self.compression = compression
        self.buffer: list[Row] = []
        self.batches: list[pa.RecordBatch] = []
        self.pending = 0  # rows not yet committed
        self.seq = 0
        self.files: list[str] = []
        self.rejected = 0  # rows that did not fit the schema (logged one by one)
        self.unsealed: str | None = None  # a temporary file no commit record names yet: garbage if we die now

    def add(self, rows: list[Row]) -> None:
        self.buffer.extend(rows)
        self.pending += len(rows)
        if len(self.buffer) >= self.BATCH:
            self._batch()

    def _batch(self) -> None:
        if not self.buffer:
            return
        try:
            batch = self._to_batch(self.buffer)
        except UNFIT:
            batch = self._salvage()
        self.batches.append(batch)
        self.buffer = []

    def _to_batch(self, rows: list[Row]) -> pa.RecordBatch:
        """The rows as one batch, read column by column from the table's record (``schemas/records.py``); what
        ``from_pylist`` would make of the same rows as dicts, without a dict per row."""
        if not rows:
            return pa.RecordBatch.from_pylist([], schema=self.schema)
        record = self.record
        for row in rows:
            if type(row) is not record:  # a dict, or another table's record: its fields are not this table's
                raise TypeError(f"a {type(row).__name__} is not a {record.__name__}")
        return pa.RecordBatch.from_arrays([list(column) for column in zip(*map(record.VALUES, rows))],
                                          schema=self.schema)

    def _salvage(self) -> pa.RecordBatch:
        """Some row does not fit the schema: keep every row that does, log and count each one that does not (one
        bad row must not cost the table its other rows)."""
        good = []
        for row in self.buffer:
            try:
                self._to_batch([row])
            except UNFIT as exc:
                self.rejected += 1
                self.pending -= 1
                logger.error("%s row dropped, it does not fit schema v%s (%s): %.300r", self.table,
                             self.schema.metadata.get(b"linkprospector.schema_version", b"?").decode(), exc, row)
            else:
                good.append(row)
        return self._to_batch(good)

    def _next_name(self) -> str:
        while True:
            name = f"part-{self.worker}-{self.seq:05d}.parquet"
            self.seq += 1
            if not self.lake.exists(f"{self.directory}/{name}") and not self.lake.exists(f"{self.directory}/_{name}.tmp"):
                return name  # neither a part nor a sealed commit's temporary file (scripts.py) has it

    def stage(self) -> Staged | None:
        """Write the pending rows as a complete temporary file in the lake; the rows stay pending until
        :meth:`publish`. Raises OSError (a full disk, an unreachable store) with nothing left behind."""
        self._batch()
        self.batches = [b for b in self.batches if b.num_rows]
        if not self.batches:
            return None
        table = pa.Table.from_batches(self.batches, schema=self.schema)
        key = SORT_KEYS.get(self.table)
        if key:
            table = table.sort_by([(key, "ascending")])
        name = self._next_name()
        staged = Staged(self, f"{self.directory}/_{name}.tmp", f"{self.directory}/{name}", len(self.batches),
                        table.num_rows)
        self.unsealed = staged.tmp
        self.lake.write(staged.tmp, lambda f: pq.write_table(table, f, compression=self.compression,
                                                               row_group_size=self.row_group_size))
        return staged

    def publish(self, staged: Staged) -> str:
        """Give the staged file its final name (the part appears complete or not at all)."""
        self.lake.publish(staged.tmp, staged.final)
        self.unsealed = None
        self.forget(staged)
        logger.debug("wrote %s (%d rows)", staged.final, staged.rows)
        return staged.final

    def forget(self, staged: Staged) -> None:
        """The staged rows are someone else's to publish now: drop them from the pending ones."""
        del self.batches[:staged.batches]
        self.pending -= staged.rows
        self.files.append(staged.final)

    def discard(self, staged: Staged) -> None:
        """The commit failed: remove its temporary file, keep its rows for the next commit."""
        self.lake.delete(staged.tmp)
        self.unsealed = None

    def commit(self) -> str | None:
        """Stage and publish at once (a writer used on its own, without a frontier)."""
        staged = self.stage()
        return self.publish(staged) if staged is not None else None


@dataclass
class Staged:
    writer: PartWriter
    tmp: str  # paths relative to the lake root
    final: str
    batches: int  # how many of the writer's batches it holds (more may have arrived since)
    rows: int


class ParquetPipeline:
    """Item pipeline: routes each item's rows to the writer of its table (``item.rows_by_table()``) and commits."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.writers: dict[str, PartWriter] = {}
        self.lake: Lake | None = None
        self.held: dict[str, list[tuple[str, list[Row]]]] = {}  # lease -> rows of a request being processed
        self.finished: list[str] = []  # leases whose rows are in the writers, ended by the next commit
        self.lock = asyncio.Lock()  # one commit at a time
        self.pending_commit: asyncio.Task | None = None
        self.task = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def open_spider(self) -> None:
        s = self.crawler.settings
        spider = self.crawler.spider
        self.lake = open_lake(s.get("OUTPUT_URI"), s)
        self.crawl = crawl_id(self.crawler)
        self.worker = worker_id(s)
        self.rows_per_file = s.getint("PARQUET_ROWS_PER_FILE")
        self.options = dict(row_group_size=s.getint("PARQUET_ROW_GROUP_SIZE"), compression=s.get("PARQUET_COMPRESSION"))
        self.ledger = Ledger.of(self.crawler)
        self.ledger.sink = self
        self._clear_partition(spider, s, keep=await self.ledger.recovery_files())
        interval = s.getfloat("PARQUET_COMMIT_INTERVAL")
        if interval > 0:
            from scrapy.utils.asyncio import create_looping_call

            self.task = create_looping_call(self.commit_soon)
            self.task.start(interval, now=False)
        logger.info("output: %s (crawl=%s, worker=%s, commit every %.0f s)", self.lake.location(), self.crawl,
                    self.worker, interval)

    def _clear_partition(self, spider, settings, keep: set[str]) -> None:
        """Remove our own leftovers of a crash (except the temporary files of sealed commits, which another worker
        or this one will still rename); on one machine, the parts of an earlier run of this crawl id."""
        replace = not settings.get("REDIS_URL") and not _resuming(settings.get("JOBDIR"))
        removed = 0
        for table in (*getattr(spider, "output_tables", ()), "crawl_stats"):
            directory = f"{table}/crawl={self.crawl}"
            for name in self.lake.list(directory, "_part-*.tmp"):
                if own_temporary(name, self.worker) and f"{directory}/{name}" not in keep:
                    self.lake.delete(f"{directory}/{name}")
            if replace:
                for name in [*self.lake.list(directory, "part-*.parquet"), *self.lake.list(directory, "_part-*.tmp")]:
                    self.lake.delete(f"{directory}/{name}")
                    removed += 1
        if removed:
            logger.warning("crawl %s ran before: replaced its partition (%d part files of the earlier run removed)",
                           self.crawl, removed)

    def writer(self, table: str) -> PartWriter:
        if table not in self.writers:
            self.writers[table] = PartWriter(table, self.lake, f"{table}/crawl={self.crawl}", self.worker, **self.options)
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
            self.commit_soon()

    def lease_finished(self, lease: str, ok: bool) -> None:
        rows = self.held.pop(lease, [])
        if ok:
            self.finished.append(lease)
            self._add(rows)

    def commit_soon(self) -> None:
        """Start a commit unless one is running (what arrives meanwhile goes into the next)."""
        if self.pending_commit is None or self.pending_commit.done():
            self.pending_commit = asyncio.ensure_future(self.commit())

    async def commit(self) -> None:
        """Make every pending row durable and end the leases whose rows they are, as one commit: stage every
        table's part under a temporary name, seal (``crawler/frontier/scripts.py``), rename, forget the record."""
        async with self.lock:
            try:
                await self._commit()
            except Exception:  # the rows stay pending (or sealed, for recovery): the next commit tries again
                logger.exception("commit failed")
                self.crawler.stats.inc_value("parquet/commit_errors")

    async def _commit(self) -> None:
        started = time.monotonic()
        leases, self.finished = self.finished, []
        staged: list[Staged] = []
        try:
            for writer in self.writers.values():
                if (part := writer.stage()) is not None:
                    staged.append(part)
        except OSError as exc:  # a full disk: nothing of this commit is kept, all of it is tried again later
            for part in staged:
                part.writer.discard(part)
            self.finished = leases + self.finished
            logger.error("commit failed, its rows are kept for the next attempt: %s", exc)
            self.crawler.stats.inc_value("parquet/commit_errors")
            return
        finally:
            for writer in self.writers.values():
                if writer.rejected:
                    self.crawler.stats.set_value(f"parquet/rejected_rows/{writer.table}", writer.rejected)
        if not staged and not leases:
            return
        failpoint("commit:staged")
        name = f"{self.worker}-{uuid.uuid4().hex[:12]}"
        try:
            await self.ledger.seal(name, [(p.tmp, p.final) for p in staged], leases)
        except BaseException:
            for part in staged:
                part.writer.discard(part)
            self.finished = leases + self.finished
            raise
        for part in staged:
            part.writer.unsealed = None  # the commit record names it now: whoever takes over renames it
        failpoint("commit:sealed")
        renamed = 0
        for part in staged:  # from here on the rows are the sealed commit's, whatever happens
            try:
                part.writer.publish(part)
                renamed += 1
                failpoint("commit:renamed")
            except OSError as exc:
                part.writer.forget(part)
                logger.error("could not rename %s (%s): sealed commit %s is completed by the next worker that "
                             "starts under this WORKER_ID or takes over its work", part.tmp, exc, name)
        if renamed == len(staged):
            await self.ledger.published(name)
        if staged:
            self.crawler.stats.inc_value("parquet/commits")
            logger.debug("committed %d part files in %.2f s", len(staged), time.monotonic() - started)

    def clear_leftovers(self, worker: str, keep: set[str], older_than: float) -> int:
        """Remove the temporary files a stopped worker left (written before ``older_than``, named by no sealed
        commit): staged rows nobody will rename, whose requests were redone. Returns how many went."""
        removed = 0
        for table in (*getattr(self.crawler.spider, "output_tables", ()), "crawl_stats"):
            directory = f"{table}/crawl={self.crawl}"
            for name in self.lake.list(directory, "_part-*.tmp"):
                rel = f"{directory}/{name}"
                if own_temporary(name, worker) and rel not in keep and 0 < self.lake.modified(rel) < older_than:
                    self.lake.delete(rel)
                    removed += 1
        return removed

    def unsealed_files(self) -> list[str]:
        """Temporary files being written or written but not yet sealed: nobody will ever rename them."""
        return [w.unsealed for w in self.writers.values() if w.unsealed]

    def roll_forward(self, files: list[tuple[str, str]]) -> bool:
        """Complete a stopped worker's sealed commit in this lake: publish each temporary file still there.
        False when some file is neither here nor published (a lake this worker does not see): then it must be
        redone, and nothing of it may be left to appear later."""
        lake = self.lake
        if not all(lake.exists(tmp) or lake.exists(final) for tmp, final in files):
            if any(lake.exists(final) for _, final in files):
                logger.error("sealed commit partly in this lake (%s): its rows may appear twice", files)
            for tmp, _ in files:
                lake.delete(tmp)
            return False
        for tmp, final in files:
            try:
                lake.publish(tmp, final)
            except OSError:  # published meanwhile (by its worker, or by another recovering worker)
                if lake.exists(tmp) or not lake.exists(final):
                    raise
        return True

    async def close_spider(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.held:
            logger.warning("%d requests were still being processed at close: their rows are not written (their "
                           "leases go back to the frontier)", len(self.held))
        self._add([("crawl_stats", [self._run_stats()])])
        await self.commit()

    def _run_stats(self) -> CrawlStatsRow:
        """This worker's run as one ``crawl_stats`` row, committed with its last rows (so a finished crawl's
        figures are in the lake, one row per worker run)."""
        stats = self.crawler.stats.get_stats()
        return CrawlStatsRow(worker=self.worker, spider=self.crawler.spider.name, started_at=stats.get("start_time"),
                             finished_at=datetime.now(UTC), pages=stats.get("pages/crawled", 0),
                             checks=stats.get("checks/done", 0), broken=stats.get("checks/broken", 0),
                             links=stats.get("links/found", 0), stats={k: str(v) for k, v in sorted(stats.items())})


def own_temporary(name: str, worker: str) -> bool:
    """Whether ``name`` is a temporary part file of exactly ``worker`` (not of "node1-a" when asked for "node1")."""
    return re.fullmatch(rf"_part-{re.escape(worker)}-\d{{5,}}\.parquet\.tmp", name) is not None


def _resuming(jobdir: str | None) -> bool:
    return bool(jobdir) and Path(jobdir, "requests.queue").exists()
