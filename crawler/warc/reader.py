"""Read HTTP responses back out of WARC and ARC files (ours or anyone's), so the same extraction can run over them.

Real archives are messy: files cut short by a crash or a download, records that are not responses, revisits that
carry no body, bodies compressed with codings some tools cannot decode (warcio 1.8.1's ``content_stream()`` raises
on brotli with brotli 1.2.x, docs/pitfalls.md §3). Nothing in a file is fatal: a bad record is skipped or ends that file,
and is counted in ``ReadStats`` and logged, so one broken file never stops a run over thousands.
"""

from __future__ import annotations

import glob
import gzip
import io
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import brotli
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.statusandheaders import StatusAndHeadersParserException
from warcio.timeutils import iso_date_to_datetime

try:
    from compression import zstd  # Python >= 3.14
except ImportError:
    from backports import zstd  # installed with Scrapy, which advertises zstd in Accept-Encoding

logger = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024


class UndecodableBody(ValueError):
    """The body does not decode under its Content-Encoding (corrupt, or a coding we do not know)."""


class BodyTooLarge(ValueError):
    """The body, stored or decoded, is larger than the cap."""


@dataclass(frozen=True, slots=True)
class ArchivedResponse:
    """One HTTP response as archived. ``body`` is decoded (no transfer or content coding); ``headers`` are as
    archived, in order, duplicates kept. ``record_type`` is ``"response"`` for a WARC record and ``"arc"`` for an
    ARC record (no request record, no digests: older, less complete captures)."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    content_type: str | None
    fetch_time: datetime
    ip_address: str | None
    warc_filename: str
    warc_record_offset: int
    warc_record_length: int
    record_type: str


@dataclass
class ReadStats:
    """What a read saw; pass one instance to several ``iter_warc_responses`` calls to total a whole run."""

    files: int = 0
    records: int = 0
    responses: int = 0  # yielded
    revisits: int = 0  # skipped: a revisit holds no body, only a pointer to an earlier capture
    other_records: int = 0  # skipped: warcinfo, request, metadata, resource, non-HTTP responses (dns:)
    oversized: int = 0  # skipped: body over max_body, stored or once decoded
    truncated: int = 0  # skipped: record shorter than its declared length (file cut short)
    corrupt: int = 0  # unreadable record: skipped, or the rest of its file when the framing itself is broken
    undecodable: int = 0  # yielded with the body as stored: its Content-Encoding did not decode


def expand_paths(spec: str) -> list[str]:
    """Expand a comma-separated list of paths and globs (``**`` allowed) into files: in the order given, each
    glob's matches sorted, duplicates dropped.

    Raises ``FileNotFoundError`` naming the part that matched nothing, so a typo never reads as "zero records".
    """
    paths: list[str] = []
    for part in (part.strip() for part in spec.split(",")):
        if not part:
            continue
        if any(char in part for char in "*?["):
            matches = sorted(path for path in glob.glob(part, recursive=True) if os.path.isfile(path))
        else:
            matches = [part] if os.path.isfile(part) else []
        if not matches:
            raise FileNotFoundError(f"no WARC/ARC file matches {part!r}")
        paths.extend(path for path in matches if path not in paths)
    if not paths:
        raise FileNotFoundError(f"no WARC/ARC path given in {spec!r}")
    return paths


def iter_warc_responses(path: str | os.PathLike, *, stats: ReadStats | None = None,
                        max_body: int = MAX_BODY) -> Iterator[ArchivedResponse]:
    """Yield every HTTP response record of a WARC or ARC file, gzip or not, with its cc-index location.

    ``warc_filename`` is ``path`` as given. Only a missing or unreadable file raises; everything inside the file
    is handled and counted in ``stats`` (see ``ReadStats``).
    """
    stats = stats if stats is not None else ReadStats()
    filename = os.fspath(path)
    record_type = "arc" if _is_arc(filename) else "response"
    stats.files += 1
    with open(filename, "rb") as stream:
        records = ArchiveIterator(stream, arc2warc=True)
        while True:
            try:
                record = next(records)
            except StopIteration:
                # warcio ends silently on a record cut inside its headers; records.offset is where the last
                # record it read ended
                if _has_data_after(stream, records.offset):
                    stats.truncated += 1
                    logger.warning("%s: file is truncated after offset %d", filename, records.offset)
                return
            except Exception as exc:
                stats.corrupt += 1
                logger.warning("%s: unreadable record after offset %d, rest of file skipped: %s", filename,
                               records.offset, str(exc).strip())
                return
            stats.records += 1
            try:
                response, outcome = _read_response(record, records, filename, record_type, max_body)
                records.read_to_end()  # so that the length check below sees the whole record
            except (StatusAndHeadersParserException, ValueError, TypeError, zlib.error) as exc:
                stats.corrupt += 1
                logger.warning("%s: corrupt record skipped: %s", filename, exc)
                continue
            if record.length is None or getattr(record.raw_stream, "limit", 0) > 0:
                stats.truncated += 1
                logger.warning("%s: record at offset %d is truncated (or has no Content-Length), skipped",
                               filename, records.get_record_offset())
                continue
            if outcome:
                setattr(stats, outcome, getattr(stats, outcome) + 1)
            if response is not None:
                stats.responses += 1
                yield response


def read_record(data: bytes, filename: str = "", offset: int = 0, max_body: int = MAX_BODY) -> ArchivedResponse | None:
    """The response held by one record's bytes (a gzip member of a ``.warc.gz`` is a record of its own), as read
    with a ranged read at the location a ``pages`` row gives; None if they hold no whole response record. Raises
    ``ValueError`` on a corrupt record."""
    records = ArchiveIterator(io.BytesIO(data), arc2warc=True)
    try:
        record = next(records)
        response, _ = _read_response(record, records, filename, "response", max_body)
        records.read_to_end()
    except StopIteration:
        return None
    except (StatusAndHeadersParserException, TypeError, zlib.error) as exc:
        raise ValueError(f"{filename} at {offset}: corrupt record: {exc}") from exc
    if response is None or record.length is None or getattr(record.raw_stream, "limit", 0) > 0:
        return None  # not a response, or cut short
    return replace(response, warc_record_offset=offset, warc_record_length=len(data))


def decode_content(body: bytes, content_encoding: str | None, max_size: int) -> bytes:
    """Undo the codings named in a ``Content-Encoding`` value (``gzip``, ``x-gzip``, ``deflate``, ``br``,
    ``zstd``; last applied first undone), never producing more than ``max_size`` bytes (decompression bombs).

    A truncated compressed body decodes to what it holds, as a browser would show it. Raises ``BodyTooLarge`` or
    ``UndecodableBody``.
    """
    codings = [coding.strip().lower() for coding in (content_encoding or "").split(",")]
    for coding in reversed([coding for coding in codings if coding and coding != "identity"]):
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise UndecodableBody(f"unsupported Content-Encoding {coding!r}")
        try:
            body = decoder(body, max_size + 1)
        except (zlib.error, brotli.error, zstd.ZstdError) as exc:
            raise UndecodableBody(f"{coding} body does not decode: {exc}") from exc
        if len(body) > max_size:
            raise BodyTooLarge(f"body decodes to more than {max_size} bytes")
    return body


def _read_response(record, records: ArchiveIterator, filename: str, record_type: str,
                   max_body: int) -> tuple[ArchivedResponse | None, str | None]:
    """The response in ``record`` (or None), and the ``ReadStats`` counter its outcome adds to, if any."""
    if record.rec_type == "revisit":
        return None, "revisits"
    if record.rec_type != "response" or record.http_headers is None:
        return None, "other_records"
    if record.payload_length > max_body:
        return None, "oversized"
    stored = record.raw_stream.read(max_body + 1)
    if len(stored) > max_body:
        return None, "oversized"
    url = record.rec_headers.get_header("WARC-Target-URI")
    http = record.http_headers
    status = int(http.get_statuscode())
    if "chunked" in (http.get_header("Transfer-Encoding") or "").lower():
        stored = ChunkedDataReader(io.BytesIO(stored)).read()  # falls back to the bytes as-is if not chunked
    outcome = None
    try:
        codings = ", ".join(value for name, value in http.headers if name.lower() == "content-encoding")
        body = decode_content(stored, codings, max_body)
    except BodyTooLarge:
        return None, "oversized"
    except UndecodableBody as exc:
        logger.info("%s: %s: %s; body kept as stored", filename, url, exc)
        body, outcome = stored, "undecodable"
    response = ArchivedResponse(
        url=url,
        status=status,
        headers=list(http.headers),
        body=body,
        content_type=http.get_header("Content-Type"),
        fetch_time=iso_date_to_datetime(record.rec_headers.get_header("WARC-Date") or "", tz_aware=True),
        ip_address=record.rec_headers.get_header("WARC-IP-Address"),
        warc_filename=filename,
        warc_record_offset=records.get_record_offset(),
        warc_record_length=records.get_record_length(),
        record_type=record_type,
    )
    return response, outcome


def _is_arc(path: str) -> bool:
    """ARC files start with their ``filedesc://`` header record; WARC files with ``WARC/``."""
    with open(path, "rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
        try:
            return stream.read(11) == b"filedesc://"
        except (OSError, EOFError, zlib.error):  # a broken first member: the iterator will report it
            return False


def _has_data_after(stream, end: int) -> bool:
    """True if the file holds more than blank lines (the record separator) after ``end``."""
    stream.seek(end)
    tail = stream.read(64 * 1024)
    if tail[:2] == b"\x1f\x8b":
        try:
            tail = gzip.decompress(tail)
        except (OSError, EOFError, zlib.error):
            return True
    return bool(tail.strip())


def _gunzip(data: bytes, limit: int) -> bytes:
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, limit)


def _inflate(data: bytes, limit: int) -> bytes:
    """``deflate`` should be zlib-wrapped, but many servers send raw deflate, as browsers accept both."""
    try:
        return zlib.decompressobj().decompress(data, limit)
    except zlib.error:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, limit)


def _unbrotli(data: bytes, limit: int) -> bytes:
    return brotli.Decompressor().process(data, output_buffer_limit=limit)


def _unzstd(data: bytes, limit: int) -> bytes:
    return zstd.ZstdDecompressor().decompress(data, max_length=limit)


_DECODERS = {"gzip": _gunzip, "x-gzip": _gunzip, "deflate": _inflate, "br": _unbrotli, "zstd": _unzstd}
