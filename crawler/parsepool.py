"""Pages parsed off the reactor: decoding, parsing, link extraction and placement in a pool of processes.

One Scrapy process runs on one core, and turning a page into rows (``crawler/extract/record.py`` then
``crawler/extract/placement/``, trafilatura included) is CPU work of several milliseconds a page: done on the
event loop it leaves the other cores idle and delays every download behind it. With ``PARSE_WORKERS`` > 0 (default:
the machine's cores) the spider hands each response's bytes to a process of this pool and awaits the rows, already
placed; the event loop only does I/O and scheduling. ``PARSE_WORKERS = 0`` keeps the in-process path (the
placement pipeline then places the links), and both give the same rows (``tests/test_parsepool.py``).

Back-pressure: at most ``2 x PARSE_WORKERS`` pages are in the pool at once; a callback waits for a free place, and
while callbacks wait with their responses Scrapy's scraper stops taking new responses (``SCRAPER_SLOT_MAX_ACTIVE_SIZE``),
so downloads slow down instead of piling up in memory. The processes are started by a fork server (a clean process
with the parsing modules imported, never a fork of the running reactor). A process that died is replaced and its
pages parsed here, once.

Why not ``concurrent.futures.ProcessPoolExecutor`` (used until December): it runs two threads in the crawl process
(a manager thread, woken through a pipe on every ``submit``, and a queue feeder thread). With the cores busy
parsing, the reactor thread then waits for the GIL held by a thread the kernel has put aside: under pyinstrument
about 16% of the reactor's wall time was spent in the wakeup ``write`` of ``submit`` (docs/performance.md). And a
process that hangs while the call queue is written hangs the whole executor (CPython gh-94777), so a timeout had
to kill every process. Here each process has a socket of its own; the event loop writes the tasks and reads the
answers itself, and a task that outlasts ``PARSE_TIMEOUT`` kills exactly the process that runs it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import io
import logging
import multiprocessing
import os
import pickle
import select
import socket
import struct
import threading
import time
import traceback
from dataclasses import dataclass

from crawler.extract.record import Fetched, PageResult, build_page, timed_out_page
from crawler.failpoints import failpoint
from schemas.records import Row

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Placement:
    """What placing links needs, as plain data a pool process can receive: the rules as their JSON spec."""

    rules_spec: str | None
    main_content: str | None  # PLACEMENT_MAIN_CONTENT, read (maincontent.main_content_mode)
    model: bool  # PLACEMENT_MODEL


_compiled: dict[str | None, tuple] = {}


def _rules(spec: str | None):
    if spec not in _compiled:
        import json

        from crawler.extract.placement import compile_rules

        _compiled[spec] = compile_rules(json.loads(spec) if spec else None)
    return _compiled[spec]


def page_rows(fetched: Fetched, max_links: int, placement: Placement | None) -> tuple[PageResult, str | None]:
    """Bytes to rows: the page's row and its links' rows, placed when ``placement`` is given. The tree is dropped
    (it never crosses processes). Returns the result and, when placement failed, the error (the links stay unplaced,
    as the placement pipeline does)."""
    result = build_page(fetched, max_links)
    item = result.item
    error = None
    if placement is not None and item.links and item.root is not None:
        from pipelines.placement import place_item

        try:
            place_item(item, _rules(placement.rules_spec), placement.main_content, placement.model)
        except Exception:
            error = traceback.format_exc(limit=5)
    item.root, item.anchors = None, []
    return result, error


def _exit_with(crawl_pid: int) -> None:
    """Pool process initializer: exit when the crawl process is gone. A pool process waits on its call queue, whose
    write end it holds itself, and holds the fork server's liveness pipe: after a ``kill -9`` of the crawl nothing
    else would ever end them or the fork server (three orphans of ~120 MB per killed crawl, seen in our tests)."""
    def watch() -> None:
        _wait_for_exit(crawl_pid)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-crawl", daemon=True).start()


def _wait_for_exit(pid: int) -> None:
    """Return once process ``pid`` has exited: a pidfd (Linux 5.3+) turns readable when that one process exits;
    elsewhere the pid is polled."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfd here
        while True:
            time.sleep(2)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:  # alive, someone else's
                pass
    else:
        select.select([handle], [], [])


def _in_pool(fn, *args):
    failpoint("parse:pool")  # tests kill a pool process here
    return fn(*args)


_FRAME = struct.Struct("!I")  # every message on a pool socket: its length, then a pickle (below)


class ParseTaskError(RuntimeError):
    """A task raised in its pool process: its exception's type, message and traceback, as text."""


# What the crawl process accepts in an answer. Only its own processes hold the other end of a pool socket, and
# nothing read from the network or Redis is ever unpickled (a page's bytes travel inside a task as a bytes value).
# But a pool process is where hostile pages are parsed: should one ever be subverted, its answers still cannot name
# a callable, only these types (the rows, the page result, datetimes), and exceptions come back as text.
_ANSWER_TYPES = {("crawler.extract.record", "PageResult"), ("crawler.items", "PageItem"),
                 ("datetime", "datetime"), ("datetime", "timezone"), ("datetime", "timedelta")}


_ROW_TYPES = {row.__name__ for row in Row.__subclasses__()}  # schemas/records.py: one record class per table


class _AnswerUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ANSWER_TYPES or (module == "schemas.records" and name in _ROW_TYPES):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a parse process answered with {module}.{name}, which is not a row type")


def _read_answer(data: bytes):
    return _AnswerUnpickler(io.BytesIO(data)).load()


def _serve(sock: socket.socket, crawl_pid: int) -> None:
    """A pool process: answer the tasks read from ``sock`` one at a time, in order, until the socket closes. Tasks
    come from the crawl process that started this one (the function to run and its arguments)."""
    _exit_with(crawl_pid)
    while True:
        header = sock.recv(_FRAME.size, socket.MSG_WAITALL)
        if len(header) < _FRAME.size:
            return  # the crawl closed the pool (or died)
        (size,) = _FRAME.unpack(header)
        fn, args = pickle.loads(sock.recv(size, socket.MSG_WAITALL))
        try:
            answer = (True, _in_pool(fn, *args))
        except Exception as exc:  # raised again in the crawl process as ParseTaskError
            answer = (False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            data = pickle.dumps((False, f"{_what(args)}: its answer cannot be pickled: {exc!r}"))
        sock.sendall(_FRAME.pack(len(data)) + data)


class WorkerGone(Exception):
    """A pool process ended with tasks in flight: it died, or the pool killed it (``killed``) over another task."""

    def __init__(self, killed: bool):
        super().__init__("the parse process was killed" if killed else "the parse process died")
        self.killed = killed


def _spawn(context, crawl_pid: int):
    """A new pool process and the crawl's end of its socket. Blocks: the first one waits for the fork server to
    import the parsing modules (~0.4 s)."""
    mine, theirs = socket.socketpair()
    process = context.Process(target=_serve, args=(theirs, crawl_pid), name="linkprospector-parse", daemon=True)
    process.start()
    theirs.close()
    mine.setblocking(False)
    return process, mine


class _Worker:
    """One pool process and the crawl's end of its socket. Tasks go out in order and answers come back in the same
    order, so the futures of the tasks in flight are a queue. Both directions run on the event loop: no thread."""

    def __init__(self, process, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.in_flight: collections.deque[asyncio.Future] = collections.deque()
        self.sending = asyncio.Lock()  # one frame at a time: a partial write must not interleave with the next
        self.killed = False
        self.gone = False
        self.reader = asyncio.get_running_loop().create_task(self._read_answers())

    async def submit(self, payload: bytes) -> asyncio.Future:
        """Send one task; the future of its answer."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        async with self.sending:
            if self.gone:
                raise WorkerGone(self.killed)
            self.in_flight.append(future)
            try:
                await loop.sock_sendall(self.sock, _FRAME.pack(len(payload)) + payload)
            except OSError:
                raise WorkerGone(self.killed) from None
        return future

    async def _read_answers(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                (size,) = _FRAME.unpack(await _receive(loop, self.sock, _FRAME.size))
                data = await _receive(loop, self.sock, size)
                future = self.in_flight.popleft()
                try:
                    ok, value = _read_answer(data)
                except pickle.UnpicklingError as exc:
                    ok, value = False, str(exc)
                if not future.done():  # a task given up (timeout) is answered into the void
                    future.set_result(value) if ok else future.set_exception(ParseTaskError(value))
        except (OSError, EOFError):
            pass
        finally:
            self.gone = True
            self.sock.close()  # the process is reaped by the next start (multiprocessing's own cleanup)
            while self.in_flight:
                future = self.in_flight.popleft()
                if not future.done():
                    future.set_exception(WorkerGone(self.killed))

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(Exception):
            self.process.kill()

    def close(self, wait: float) -> None:
        """Close the socket (the process then exits after its task), wait for it up to ``wait`` s, then kill it."""
        self.reader.cancel()
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
        self.sock.close()
        self.process.join(wait)
        if self.process.is_alive():
            self.kill()
            self.process.join(1)


async def _receive(loop, sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes from ``sock``; EOFError if it closes first."""
    data = bytearray()
    while len(data) < size:
        chunk = await loop.sock_recv(sock, min(size - len(data), 1 << 20))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


class ParseTimeout(TimeoutError):
    """A task outlasted ``PARSE_TIMEOUT`` twice, in two processes."""


class ParsePool:
    def __init__(self, workers: int, timeout: float = 0):
        self.size = workers
        self.timeout = timeout or None  # PARSE_TIMEOUT; 0: wait for ever
        self.slots = asyncio.Semaphore(2 * workers)
        self.workers: list[_Worker] = []
        self.timeouts = 0  # tasks that outlasted PARSE_TIMEOUT (each attempt)
        self.starting: asyncio.Future | None = None
        self._context = None

    def start(self) -> None:
        """Start the processes in a thread, so that the fork server's imports (~0.4 s) overlap the crawl's first
        requests instead of holding the event loop at the first page (called at ``engine_started``)."""
        if self.starting is None and not self.workers:
            self.starting = asyncio.ensure_future(self._start_all())

    async def _start_all(self) -> None:
        context, pid = self._forkserver(), os.getpid()
        try:
            spawned = await asyncio.to_thread(lambda: [_spawn(context, pid) for _ in range(self.size)])
        except Exception:  # started on demand instead, where the error reaches a page
            logger.exception("could not start the parse processes ahead of the first page")
            return
        self.workers.extend(_Worker(process, sock) for process, sock in spawned)

    def _forkserver(self):
        if self._context is None:
            self._context = multiprocessing.get_context("forkserver")
            self._context.set_forkserver_preload(["crawler.parsepool", "crawler.extract.placement",
                                                  "pipelines.placement", "crawler.checks.checker"])
        return self._context

    def pids(self) -> list[int]:
        """The pool's live processes (for tests and logs)."""
        return [w.process.pid for w in self.workers if not w.gone]

    def _least_busy(self) -> _Worker:
        """The live process with the fewest tasks in flight, after starting any that are missing."""
        self.workers = [w for w in self.workers if not w.gone and not w.killed]
        while len(self.workers) < self.size:
            self.workers.append(_Worker(*_spawn(self._forkserver(), os.getpid())))
        return min(self.workers, key=lambda w: len(w.in_flight))

    async def run(self, fn, *args):
        """``fn(*args)`` in a pool process (``fn`` and its arguments picklable, a module-level function).

        A task that outlasts ``PARSE_TIMEOUT`` kills the process running it (the page is pathological, or the
        process stopped answering) and is tried once more in another; a second timeout raises ``ParseTimeout``.
        A task is never retried on the event loop after a timeout: a page that holds a pool process would hold the
        crawl. A process that dies by itself (out of memory) costs its tasks in flight one run here each; tasks
        that shared a process killed over another task's timeout are sent again."""
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        if self.starting is not None and not self.starting.done():
            await asyncio.shield(self.starting)
        async with self.slots:
            attempt = 1
            while True:
                worker = self._least_busy()
                try:
                    future = await worker.submit(payload)
                    return await asyncio.wait_for(future, self.timeout)
                except WorkerGone as gone:
                    if gone.killed:
                        continue
                    logger.error("a parse process died (out of memory?): %s runs here", _what(args))
                    return fn(*args)
                except TimeoutError:
                    self.timeouts += 1
                    logger.error("%s took over %g s in the parse pool: starting a new parse process", _what(args),
                                 self.timeout)
                    worker.kill()
                    if attempt == 2:
                        raise ParseTimeout(f"{_what(args)}: over {self.timeout:g} s, twice") from None
                    attempt += 1

    async def page_rows(self, fetched: Fetched, max_links: int, placement: Placement | None):
        try:
            return await self.run(page_rows, fetched, max_links, placement)
        except ParseTimeout:
            return timed_out_page(fetched, self.timeout), None

    async def judge_body(self, *args):
        """A link check's body judged in the pool (``crawler/checks/checker.py``, ``judge_body``). A body that
        cannot be judged in time is taken at its status' word (as an unparseable one is)."""
        from crawler.checks import verdict
        from crawler.checks.checker import judge_body

        try:
            return await self.run(judge_body, *args)
        except ParseTimeout:
            return verdict.OK, "ok", None

    def close(self) -> None:
        """End the processes: each finishes the task it runs (up to 5 s), then exits."""
        if self.starting is not None and not self.starting.done():
            self.starting.cancel()  # its processes, if any, exit with the crawl (_exit_with)
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.close(wait=5)


def _what(args) -> str:
    """The page or check a task is about, for the log."""
    first = args[0] if args else None
    return str(getattr(first, "url", first))[:300]
