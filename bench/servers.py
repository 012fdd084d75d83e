"""The servers of a benchmark run, all on 127.0.0.1 and all stopped at the end: nginx for the synthetic web's static
files, a small dynamic server for the targets whose answer depends on state or time, and a throwaway redis-server.

nginx runs in the foreground (``daemon off``) from a generated config in the run's temp dir: one ``server`` whose
root is ``<web root>/$host``, so every named site is a folder. Access logging is off and keep-alive is long: the
static server must never be what limits a crawl.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from bench.synthweb import SyntheticWeb

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server on port {port} exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {LOOPBACK}:{port} after {timeout} s") from None
            time.sleep(0.05)


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the benchmark dies, even by SIGKILL (Linux), so no server is
    left behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def stop_process(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class Nginx:
    """nginx serving ``root/<host>/<path>`` for every Host on ``127.0.0.1:port``."""

    def __init__(self, root: Path, port: int, workdir: Path, workers: int = 1):
        self.root, self.port, self.workdir, self.workers = root, port, workdir, workers
        self.proc: subprocess.Popen | None = None

    def config(self) -> str:
        w = self.workdir
        return f"""
daemon off;
master_process on;
worker_processes {self.workers};
pid {w}/nginx.pid;
error_log {w}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120;
    keepalive_requests 1000000;
    server_tokens off;
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    client_body_temp_path {w}/body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    server {{
        listen {LOOPBACK}:{self.port} reuseport;
        server_name _;
        root {self.root}/$host;
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
}}
"""

    def start(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            raise SystemExit("the bench serves its web with nginx, which is missing: install it (Debian: "
                             "sudo apt-get install nginx) and run the bench again")
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nginx.conf"
        conf.write_text(self.config())
        self.proc = subprocess.Popen([binary, "-p", str(self.workdir), "-c", str(conf), "-e", str(self.workdir / "nginx-error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        wait_for_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc)


class RedisServer:
    """A redis-server with no persistence on a free loopback port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        wait_for_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc)


def _response(status: int, reason: str, body: bytes, head: bool, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: text/html; charset=utf-8", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head else body)


def _page(title: str, text: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>{text}</p></body></html>\n").encode()


class DynamicTargets:
    """The targets whose answer is not a file: 410, redirect chains and loops, soft-404s, 429s, a host that never
    answers. An asyncio HTTP/1.1 server (keep-alive, GET and HEAD) on its own thread. ``hits`` counts requests per
    (host, path); :meth:`reset` forgets them, so "429 once" targets fail once again for the next tool."""

    def __init__(self, web: SyntheticWeb, port: int):
        self.port = port
        self.host_class = {}
        for t in web.targets.values():
            host = t.url.split("//", 1)[1].split(":", 1)[0]
            self.host_class[host] = t.cls.name
        self.hits: Counter[tuple[str, str]] = Counter()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()

    def reset(self) -> None:
        self.hits = Counter()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def answer(self, method: str, host: str, path: str) -> bytes | None:
        """The bytes to send, or ``None`` to never answer."""
        head = method == "HEAD"
        self.hits[(host, path)] += 1
        hit = self.hits[(host, path)]
        kind = self.host_class.get(host)
        name = path.rsplit("/", 1)[-1]
        if kind == "http_410":
            return _response(410, "Gone", _page("Gone", "This article was removed."), head)
        if kind == "redirect_ok":
            if path.startswith("/moved/"):
                return _response(200, "OK", _page(f"Moved article {name}", "The article lives here now."), head)
            if path.startswith("/step/"):
                return _response(302, "Found", b"", head, (("Location", self.url(host, f"/moved/{name}")),))
            return _response(301, "Moved Permanently", b"", head, (("Location", self.url(host, f"/step/{name}")),))
        if kind == "redirect_404":
            if path.startswith("/gone/"):
                return _response(404, "Not Found", _page("404 Not Found", "Nothing here."), head)
            if path.startswith("/step/"):
                return _response(301, "Moved Permanently", b"", head, (("Location", self.url(host, f"/gone/{name}")),))
            return _response(302, "Found", b"", head, (("Location", self.url(host, f"/step/{name}")),))
        if kind == "redirect_loop":
            other = path[len("/loop"):] if path.startswith("/loop/") else f"/loop{path}"
            return _response(302, "Found", b"", head, (("Location", self.url(host, other)),))
        if kind == "timeout":
            return None
        if kind == "soft_404":
            return _response(200, "OK", _page("Page not found", "Sorry, we could not find that page."), head)
        if kind == "rate_limited_once" and hit > 1:
            return _response(200, "OK", _page(f"API docs {name}", "Welcome back."), head)
        if kind in ("rate_limited_once", "rate_limited"):
            return _response(429, "Too Many Requests", _page("Too many requests", "Slow down."), head,
                             (("Retry-After", "1"),))
        return _response(404, "Not Found", _page("404 Not Found", "Unknown target."), head)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                parts = line.decode("latin-1").split()
                headers = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(min(length, 1 << 20))
                if len(parts) < 2:
                    break
                method, target = parts[0].upper(), parts[1]
                host = headers.get("host", "").rsplit(":", 1)[0].lower()
                data = self.answer(method, host, target.split("?", 1)[0])
                if data is None:
                    await self._stopping.wait()  # never answer; let go when the run ends
                    break
                writer.write(data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._serve, LOOPBACK, self.port, backlog=1024, reuse_address=True)
        self._ready.set()
        async with server:
            await self._stopping.wait()
            server.close()

    def start(self) -> DynamicTargets:
        def run() -> None:
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self._main())
            self.loop.close()

        self.thread = threading.Thread(target=run, name="dynamic-targets", daemon=True)
        self.thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("dynamic target server did not start")
        return self

    def stop(self) -> None:
        if self.loop is not None and self._stopping is not None and self.thread and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self._stopping.set)
            self.thread.join(10)
