"""Where the data lake lives: a local folder (the default) or a bucket prefix on S3 or an S3-compatible store.

Writers need little of it: write a file whole under a temporary name, give it its final name so that it appears
complete or not at all, look for a name, list a folder. Paths are relative to the lake root and use ``/``, so
they mean the same on every worker, however each mounts the lake (commit records in Redis store them).

- Locally, a write is fsynced before it counts and a final name is a ``rename(2)`` (atomic on POSIX).
- On S3 an object becomes visible only when its upload completes: a writer killed mid-upload leaves no object
  (only an incomplete multipart upload, invisible to readers; a bucket lifecycle rule such as
  ``AbortIncompleteMultipartUpload`` clears it). There is no rename: the final name is a server-side copy of the
  temporary object, then the temporary one is deleted; the copy appears whole or not at all.

Connection: ``OUTPUT_URI=s3://bucket/prefix``; the endpoint of an S3-compatible store in ``S3_ENDPOINT_URL``
(``http://127.0.0.1:8333``; the AWS CLI's ``AWS_ENDPOINT_URL`` environment variable is its default), the region in
``S3_REGION`` or the usual ``AWS_REGION``; credentials the AWS way (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE`` and ``~/.aws``, or the machine's role), read by pyarrow's AWS SDK.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import pyarrow.fs as pafs


class LakeError(ValueError):
    """An OUTPUT_URI that names no lake this project can write (one line, for the user)."""


class Lake:
    """A lake root and the few operations writers and readers need (see the module docstring)."""

    uri: str

    def write(self, rel: str, fill: Callable[[BinaryIO], None]) -> None:
        """Create ``rel`` from what ``fill(file)`` writes; it exists only if ``fill`` returned."""
        raise NotImplementedError

    def upload(self, local: Path, rel: str) -> None:
        """Copy a finished local file into the lake under ``rel`` (appears whole)."""
        with open(local, "rb") as src:
            self.write(rel, lambda dst: shutil.copyfileobj(src, dst, 1 << 20))

    def publish(self, tmp: str, final: str) -> None:
        """Give a written temporary file its final name."""
        raise NotImplementedError

    def exists(self, rel: str) -> bool:
        raise NotImplementedError

    def delete(self, rel: str) -> None:
        """Remove ``rel`` if it is there."""
        raise NotImplementedError

    def list(self, folder: str, pattern: str = "*") -> list[str]:
        """Names (not paths) of the files directly in ``folder`` matching ``pattern``, sorted; [] if no folder."""
        raise NotImplementedError

    def folders(self, folder: str) -> list[str]:
        """Names of the folders directly in ``folder``, sorted."""
        raise NotImplementedError

    def modified(self, rel: str) -> float:
        """When ``rel`` was last written (seconds since the epoch, the store's clock); 0 if it is not there."""
        raise NotImplementedError

    def read_range(self, rel: str, offset: int, length: int) -> bytes:
        """``length`` bytes of ``rel`` from ``offset`` (one WARC record: a ranged read, not the whole file)."""
        raise NotImplementedError

    def download(self, rel: str, local: Path) -> None:
        """Copy ``rel`` whole into the local file ``local``."""
        raise NotImplementedError

    def newest(self, folder: str, pattern: str = "*") -> float:
        """When the most recent file directly in ``folder`` matching ``pattern`` was written; 0 if none."""
        return max((self.modified(f"{folder}/{name}") for name in self.list(folder, pattern)), default=0.0)

    def location(self, rel: str = "") -> str:
        """Where ``rel`` is, for people and for DuckDB (see :meth:`attach`)."""
        raise NotImplementedError

    def exchange(self, a: str, b: str) -> bool:
        """Swap two folders in one atomic step if this store can (readers see one or the other, never neither);
        False if it cannot."""
        return False

    def remove_folder(self, rel: str) -> None:
        """Remove a folder tree that holds no file any more (object stores have no folders)."""

    def attach(self, con) -> None:
        """Let a DuckDB connection read :meth:`location` paths."""


class LocalLake(Lake):
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.uri = str(root)

    def _path(self, rel: str) -> Path:
        return self.root / rel

    def write(self, rel: str, fill) -> None:
        path = self._path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "wb") as f:
                fill(f)
                f.flush()
                os.fsync(f.fileno())  # on disk before anything (a commit record) promises it
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def publish(self, tmp: str, final: str) -> None:
        os.replace(self._path(tmp), self._path(final))

    def exists(self, rel: str) -> bool:
        return self._path(rel).exists()

    def delete(self, rel: str) -> None:
        self._path(rel).unlink(missing_ok=True)

    def list(self, folder: str, pattern: str = "*") -> list[str]:
        path = self._path(folder)
        return sorted(p.name for p in path.glob(pattern) if p.is_file()) if path.is_dir() else []

    def folders(self, folder: str) -> list[str]:
        path = self._path(folder)
        return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []

    def read_range(self, rel: str, offset: int, length: int) -> bytes:
        with open(self._path(rel), "rb") as f:
            f.seek(offset)
            return f.read(length)

    def modified(self, rel: str) -> float:
        try:
            return self._path(rel).stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def location(self, rel: str = "") -> str:
        return str(self._path(rel)) if rel else str(self.root)

    def download(self, rel: str, local: Path) -> None:
        shutil.copyfile(self._path(rel), local)

    def remove_folder(self, rel: str) -> None:
        path = self._path(rel)
        if path.is_dir():
            for folder in sorted((p for p in path.rglob("*") if p.is_dir()), reverse=True) + [path]:
                try:
                    folder.rmdir()
                except OSError:  # holds a file: kept
                    pass

    def exchange(self, a: str, b: str) -> bool:
        """Linux ``renameat2(RENAME_EXCHANGE)`` (since 3.15; most local filesystems): both names keep existing."""
        libc = _libc()
        if libc is None or not hasattr(libc, "renameat2"):
            return False
        at_fdcwd, rename_exchange = -100, 2
        done = libc.renameat2(at_fdcwd, os.fsencode(self._path(a)), at_fdcwd, os.fsencode(self._path(b)),
                              rename_exchange)
        return done == 0


class ObjectLake(Lake):
    """A bucket prefix, through pyarrow's S3 filesystem (pyarrow is a dependency already; no boto3)."""

    SCHEME = "lake"  # the protocol under which DuckDB sees this lake (attach)

    def __init__(self, uri: str, endpoint: str = "", region: str = ""):
        parts = urlsplit(uri)
        if not parts.netloc:
            raise LakeError(f"OUTPUT_URI {uri!r} names no bucket: expected s3://bucket/prefix")
        self.uri = uri
        self.base = f"{parts.netloc}/{parts.path.strip('/')}".rstrip("/")
        options: dict = {"region": region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                         or "us-east-1"}
        if endpoint:
            ep = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
            options.update(endpoint_override=ep.netloc, scheme=ep.scheme or "https")
        self.fs = pafs.S3FileSystem(**options)

    def _path(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def write(self, rel: str, fill) -> None:
        # The object exists once close() completes the upload; an exception aborts it (nothing visible). No
        # compression: pyarrow would otherwise gzip a ".gz" name a second time.
        with self.fs.open_output_stream(self._path(rel), compression=None) as f:
            fill(f)

    def publish(self, tmp: str, final: str) -> None:
        self.fs.copy_file(self._path(tmp), self._path(final))
        self.fs.delete_file(self._path(tmp))

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self._path(rel)).type != pafs.FileType.NotFound

    def delete(self, rel: str) -> None:
        try:
            self.fs.delete_file(self._path(rel))
        except FileNotFoundError:
            pass

    def _entries(self, folder: str) -> list[pafs.FileInfo]:
        return self.fs.get_file_info(pafs.FileSelector(self._path(folder), allow_not_found=True))

    def list(self, folder: str, pattern: str = "*") -> list[str]:
        return sorted(i.base_name for i in self._entries(folder)
                      if i.type == pafs.FileType.File and fnmatch.fnmatchcase(i.base_name, pattern))

    def folders(self, folder: str) -> list[str]:
        return sorted(i.base_name for i in self._entries(folder) if i.type == pafs.FileType.Directory)

    def read_range(self, rel: str, offset: int, length: int) -> bytes:
        with self.fs.open_input_file(self._path(rel)) as f:  # a ranged GET
            return f.read_at(length, offset)

    def modified(self, rel: str) -> float:
        info = self.fs.get_file_info(self._path(rel))
        return info.mtime.timestamp() if info.type != pafs.FileType.NotFound and info.mtime else 0.0

    def newest(self, folder: str, pattern: str = "*") -> float:
        # the listing carries the times: one request per folder, not one per file
        return max((i.mtime.timestamp() for i in self._entries(folder) if i.type == pafs.FileType.File and i.mtime
                    and fnmatch.fnmatchcase(i.base_name, pattern)), default=0.0)

    def location(self, rel: str = "") -> str:
        return f"{self.SCHEME}://{self._path(rel)}"

    def download(self, rel: str, local: Path) -> None:
        with self.fs.open_input_stream(self._path(rel), compression=None) as src, open(local, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)

    def attach(self, con) -> None:
        con.register_filesystem(_duckdb_filesystem(self.fs))


def _libc():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def _duckdb_filesystem(fs: pafs.FileSystem):
    """pyarrow's S3 filesystem as an fsspec one, which DuckDB can read through (DuckDB's own S3 support is its
    httpfs extension, which must be downloaded at run time)."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class LakeFileSystem(ArrowFSWrapper):
        protocol = ObjectLake.SCHEME

        @classmethod
        def _strip_protocol(cls, path):
            prefix = f"{ObjectLake.SCHEME}://"
            return (path[len(prefix):] if path.startswith(prefix) else path).rstrip("/")

    return LakeFileSystem(fs)


def open_lake(uri: str, settings=None) -> Lake:
    """The lake an ``OUTPUT_URI`` names: ``s3://bucket/prefix``, or a local folder (a path or ``file://``)."""
    uri = uri or "./data"
    scheme = urlsplit(uri).scheme.lower() if "://" in uri else ""
    if scheme in ("s3", "s3a"):
        if settings is None:  # a report called as a function: the environment, as the AWS CLI reads it
            return ObjectLake(uri, endpoint=os.environ.get("AWS_ENDPOINT_URL", ""))
        return ObjectLake(uri, endpoint=settings.get("S3_ENDPOINT_URL", ""), region=settings.get("S3_REGION", ""))
    if scheme == "file":
        return LocalLake(urlsplit(uri).path)
    if scheme:
        raise LakeError(f"OUTPUT_URI {uri!r}: only local folders and s3://bucket/prefix are supported")
    return LocalLake(uri)
