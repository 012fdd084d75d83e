"""A loopback web of hostile and broken pages: each host answers from a table of routes; bodies may be generated
lazily (a 50 MB robots.txt is streamed, never built). Every request is recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Body = bytes | Callable[[], Iterable[bytes]]


class HostileWeb:
    def __init__(self, routes: dict[str, dict[str, tuple[int, dict, Body]]]):
        self.routes = routes  # host -> path -> (status, headers, body), or a function of the request headers to that
        self.requests: list[tuple[str, str, str]] = []  # (method, host, path)
        self.lock = threading.Lock()

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"

    @property
    def dns_overrides(self) -> dict[str, str]:
        return {host: "127.0.0.1" for host in self.routes}

    def hits(self, host: str, path: str | None = None) -> int:
        return sum(1 for _, h, p in self.requests if h == host and (path is None or p == path))

    def __enter__(self) -> HostileWeb:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, head_only: bool) -> None:
                host = (self.headers.get("Host") or "").split(":")[0]
                with web.lock:
                    web.requests.append((self.command, host, self.path))
                route = web.routes.get(host, {}).get(self.path, (404, {}, b"not here"))
                status, headers, body = route(self.headers) if callable(route) else route
                self.send_response(status)
                for name, value in {"Content-Type": "text/html", **headers}.items():
                    self.send_header(name, value)
                if callable(body):
                    self.send_header("Connection", "close")
                    self.end_headers()
                    if not head_only:
                        try:
                            for chunk in body():
                                self.wfile.write(chunk)
                        except (BrokenPipeError, ConnectionResetError):
                            pass
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head_only:
                    self.wfile.write(body)

            def do_GET(self):
                self._answer(False)

            def do_HEAD(self):
                self._answer(True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
