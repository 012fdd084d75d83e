"""Rolling gzip WARC 1.1 writer: every fetched HTTP exchange becomes a request + response record pair.

Rows in our tables point back into these files with Common Crawl's ``(warc_filename, warc_record_offset,
warc_record_length)`` triple (docs/pitfalls.md §6), so ``write_exchange`` returns where the response record landed: read
``length`` bytes at ``offset`` of ``filename`` and gunzip them to get exactly that record.

Crash safety: a file is written under ``<final name>.open`` and renamed to its final name only once it is complete
(after an fsync), so a killed process leaves an ``.open`` file behind, never a truncated file under a final name.
Globs such as ``*.warc.gz`` do not match ``.open`` files, so readers never pick up a file still being written.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

OPEN_SUFFIX = ".open"

# Headers that describe how the body travelled on the wire, not the bytes we store. The stored payload is the
# decoded body (see ``write_exchange``), so keeping them would make every WARC tool mis-read it (gunzip plain HTML,
# cut it at a stale length). Like Common Crawl, the originals are kept under an ``X-Crawler-`` prefix.
_WIRE_CODING_HEADERS = ("content-encoding", "transfer-encoding")


def _software() -> str:
    try:
        return f"linkprospector/{version('linkprospector')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "linkprospector/unknown"


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where a record lives: ``filename`` relative to the writer's directory, ``offset`` and ``length`` in the
    compressed file (cc-index ``warc_record_offset`` / ``warc_record_length``)."""

    filename: str
    offset: int
    length: int


class RollingWarcWriter:
    """Append HTTP exchanges to ``<prefix>-<YYYYmmddHHMMSS>-<seq:05d>.warc.gz`` files in ``directory``.

    A new file is started once the current one reaches ``max_size`` bytes (checked after each exchange, so a file
    exceeds it by at most one exchange; a request/response pair is never split). Each file begins with a
    ``warcinfo`` record holding the software name, the WARC format, and the ``warcinfo`` fields given (crawl id,
    settings). Files are opened lazily: a writer that never writes creates no file.
    """

    def __init__(self, directory: str | os.PathLike, *, prefix: str, max_size: int = 1_000_000_000,
                 warcinfo: dict, on_complete: Callable[[Path], None] | None = None) -> None:
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.on_complete = on_complete  # called with each finished file's path (an upload to object storage)
        self.warcinfo = {
            "software": _software(),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            **warcinfo,
        }
        self._buffer = io.BytesIO()
        self._warc = WARCWriter(self._buffer, gzip=True, warc_version="1.1")
        self._seq = 0
        self._file: io.FileIO | None = None
        self._name = ""
        self._size = 0
        self._warcinfo_id = ""

    def write_exchange(self, url: str, *, request_method: str, request_headers: list[tuple[str, str]],
                       request_body: bytes = b"", status: int, reason: str,
                       response_headers: list[tuple[str, str]], body: bytes, ip_address: str | None = None,
                       fetch_time: datetime) -> WarcLocation:
        """Write a ``request`` and a ``response`` record (linked by ``WARC-Concurrent-To``) and return the
        response record's location.

        ``body`` is the decoded payload (no transfer or content coding), as the crawler's parser sees it: the
        response record stores it under ``Content-Length: len(body)`` with the server's ``Content-Encoding`` /
        ``Transfer-Encoding`` (and a ``Content-Length`` that does not match) renamed to ``X-Crawler-*``, the
        Common Crawl convention, so warcio, pywb and cc-pyspark read the payload as it is. ``fetch_time`` must be
        timezone-aware.
        """
        if fetch_time.tzinfo is None:
            raise ValueError("fetch_time must be timezone-aware (WARC-Date is UTC)")
        self._ensure_open()
        warc_date = datetime_to_iso_date(fetch_time.astimezone(UTC).replace(tzinfo=None), use_micros=True)
        request_id = StatusAndHeadersParser.make_warc_id()
        shared = {"WARC-Date": warc_date, "WARC-Warcinfo-ID": self._warcinfo_id}
        if ip_address:
            shared["WARC-IP-Address"] = ip_address

        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not any(name.lower() == "host" for name, _ in request_headers):
            request_headers = [("Host", parts.netloc), *request_headers]
        request = self._warc.create_warc_record(
            url, "request",
            payload=io.BytesIO(request_body), length=len(request_body),
            http_headers=StatusAndHeaders(f"{target} HTTP/1.1", list(request_headers), protocol=request_method),
            warc_headers_dict={"WARC-Type": "request", "WARC-Record-ID": request_id, **shared},
        )
        response = self._warc.create_warc_record(
            url, "response",
            payload=io.BytesIO(body), length=len(body),
            http_headers=StatusAndHeaders(f"{status} {reason}".rstrip(), _stored_headers(response_headers, len(body)),
                                          protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Type": "response", "WARC-Record-ID": StatusAndHeadersParser.make_warc_id(),
                               "WARC-Concurrent-To": request_id, **shared},
        )
        _, response_offset, end = self._append(request, response)
        location = WarcLocation(self._name, response_offset, end - response_offset)
        if self._size >= self.max_size:
            self.close()
        return location

    def close(self) -> None:
        """Finish the current file: fsync it, then rename it to its final name. Safe to call twice."""
        if self._file is None:
            return
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        os.rename(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        _fsync_directory(self.directory)
        if self.on_complete is not None:
            self.on_complete(self.directory / self._name)

    def __enter__(self) -> RollingWarcWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_open(self) -> None:
        if self._file is not None:
            return
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        while True:  # skip names taken by an earlier run of the same worker within the same second
            name = f"{self.prefix}-{stamp}-{self._seq:05d}.warc.gz"
            self._seq += 1
            if (self.directory / name).exists():
                continue
            try:
                self._file = open(self.directory / (name + OPEN_SUFFIX), "xb", buffering=0)
            except FileExistsError:
                continue
            break
        self._name = name
        self._size = 0
        fields = _warc_fields(self.warcinfo)
        warcinfo = self._warc.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(fields), length=len(fields),
            warc_headers_dict={"WARC-Type": "warcinfo", "WARC-Filename": name},
        )
        self._warcinfo_id = warcinfo.rec_headers.get_header("WARC-Record-ID")
        self._append(warcinfo)

    def _append(self, *records) -> list[int]:
        """Append records, each its own gzip member, with one system call; return the offset of each record and
        the new end of file. On failure (disk full) the file is cut back to its last complete record, so it never
        holds half a record followed by good ones."""
        self._buffer.seek(0)
        self._buffer.truncate()
        offsets = []
        for record in records:
            offsets.append(self._size + self._buffer.tell())
            self._warc.write_record(record)
        data = memoryview(self._buffer.getvalue())
        try:
            written = 0
            while written < len(data):
                written += self._file.write(data[written:])
        except OSError:
            self._file.truncate(self._size)
            self._file.seek(self._size)
            raise
        self._size += written
        return [*offsets, self._size]


def _stored_headers(headers: list[tuple[str, str]], body_length: int) -> list[tuple[str, str]]:
    """The response headers as stored next to the decoded body (see ``write_exchange``)."""
    stored = []
    has_length = False
    for name, value in headers:
        lowered = name.lower()
        if lowered in _WIRE_CODING_HEADERS or (lowered == "content-length" and value.strip() != str(body_length)):
            stored.append((f"X-Crawler-{name}", value))
        else:
            has_length = has_length or lowered == "content-length"
            stored.append((name, value))
    if not has_length:
        stored.append(("Content-Length", str(body_length)))
    return stored


def _warc_fields(fields: dict) -> bytes:
    """``application/warc-fields`` body. Unlike warcio's warcinfo builder this keeps false values (a setting that
    is off is still worth recording) and folds line breaks so a value cannot inject extra fields."""
    lines = (f"{name}: {' '.join(str(value).splitlines())}\r\n" for name, value in fields.items())
    return "".join(lines).encode("utf-8")


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable: on POSIX a rename is only on disk once its directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
