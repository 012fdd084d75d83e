"""Compaction: rewrite one crawl's partition of a table as few large files, sorted, each key once.

A crawl leaves many small parts (every worker commits every ``PARQUET_COMMIT_INTERVAL`` seconds). Compaction reads
them through DuckDB (which streams, sorts and spills to disk as needed), keeps one row per key (``schemas.KEYS``:
the rare row that a redone commit wrote twice goes), and writes files of ``PARQUET_ROWS_PER_FILE`` rows sorted by
the table's sort key, with the table's exact schema.

Switching to the new files: on a local lake both sets sit in sibling folders and are swapped in one atomic
``renameat2(RENAME_EXCHANGE)``, so a reader sees the old set or the new one, never both or neither. Object stores
have no such step: the new files are published first, then the old ones deleted, so a reader listing meanwhile
may see both (each key twice, which the reports count once) but never neither. A compaction killed half-way
leaves at most that state; running it again finishes it (duplicates go, by key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.lake import Lake, LakeError, LocalLake
from crawler.reports.lake import connect
from schemas import KEYS, SORT_KEYS, schema_for

STAGING = "_compacting"  # lake folder (never globbed by readers) where a local compaction builds its new folder


@dataclass
class Compaction:
    table: str
    crawl: str
    files_before: int
    files_after: int
    rows_before: int
    rows_after: int
    atomic: bool


def compact(lake: Lake, table: str, crawl: str, *, rows_per_file: int, row_group_size: int,
            compression: str = "zstd") -> Compaction:
    folder = f"{table}/crawl={crawl}"
    old = lake.list(folder, "*.parquet")
    if not old:
        raise LakeError(f"no {folder} files under {lake.uri}")
    if lake.list(folder, "_*.tmp"):
        raise LakeError(f"{lake.location(folder)} holds temporary files: a crawl is still writing it (or a crashed "
                        f"worker's commit waits to be completed); compact once the crawl is finished")
    schema = schema_for(table)
    con = connect(lake)
    files = [lake.location(f"{folder}/{name}") for name in old]
    rows_before = con.sql("SELECT count(*) FROM read_parquet($files, hive_partitioning = false)",
                          params={"files": files}).fetchall()[0][0]
    key = KEYS.get(table)
    once = f"QUALIFY row_number() OVER (PARTITION BY {', '.join(key)}) = 1" if key else ""
    query = (f"SELECT * FROM read_parquet($files, hive_partitioning = false, union_by_name = true) {once} "
             f"ORDER BY {SORT_KEYS[table]}")
    batches = con.sql(query, params={"files": files}).to_arrow_reader(min(row_group_size, 65_536))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    staged = isinstance(lake, LocalLake)  # built in a sibling folder, then swapped in
    target = f"{STAGING}/{table}/crawl={crawl}" if staged else folder
    written: list[tuple[str, str]] = []
    rows_after = 0
    pending = _Rows(batches, schema)
    while not pending.exhausted():
        name = f"part-compacted-{stamp}-{len(written):05d}.parquet"
        counted = [0]

        def fill(f, counted=counted):
            with pq.ParquetWriter(f, schema, compression=compression) as out:
                while counted[0] < rows_per_file and (batch := pending.take(min(row_group_size, rows_per_file - counted[0]))):
                    out.write_batch(batch, row_group_size=row_group_size)
                    counted[0] += batch.num_rows

        tmp = f"{target}/{name}" if staged else f"{target}/_{name}.tmp"
        lake.write(tmp, fill)
        written.append((tmp, f"{folder}/{name}"))
        rows_after += counted[0]
    atomic = staged and bool(written) and lake.exchange(folder, target)
    if atomic:  # the new files are in place and the old ones in the staging folder, swapped in one step
        for name in old:
            lake.delete(f"{target}/{name}")
    else:  # new files published first, then the old ones go: a reader may see both meanwhile, never neither
        for tmp, final in written:
            lake.publish(tmp, final)
        for name in old:
            lake.delete(f"{folder}/{name}")
    lake.remove_folder(STAGING)
    return Compaction(table, crawl, len(old), len(written), rows_before, rows_after, atomic)


class _Rows:
    """DuckDB's record batches, conformed to the table's schema and cut to the sizes the writer asks for."""

    def __init__(self, reader: pa.RecordBatchReader, schema: pa.Schema):
        self.reader = reader
        self.schema = schema
        self.head: pa.RecordBatch | None = None
        self.done = False

    def _fill(self) -> None:
        while (self.head is None or self.head.num_rows == 0) and not self.done:
            try:
                self.head = _conform(self.reader.read_next_batch(), self.schema)
            except StopIteration:
                self.done = True
                self.head = None

    def exhausted(self) -> bool:
        self._fill()
        return self.head is None

    def take(self, n: int) -> pa.RecordBatch | None:
        self._fill()
        if self.head is None or n <= 0:
            return None
        batch, self.head = self.head.slice(0, n), self.head.slice(n)
        return batch


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Columns in the schema's order and types (DuckDB's own types may differ), nulls for a column older files lack."""
    columns = [batch.column(f.name).cast(f.type) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
               for f in schema]
    return pa.RecordBatch.from_arrays(columns, schema=schema)
