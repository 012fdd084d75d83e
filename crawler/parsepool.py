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
with the parsing modules imported, never a fork of the running reactor). A pool whose process died is replaced and
the page parsed here, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import select
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from crawler.extract.record import Fetched, PageResult, build_page, timed_out_page
from crawler.failpoints import failpoint

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


class ParseTimeout(TimeoutError):
    """A task outlasted ``PARSE_TIMEOUT`` twice, in two pools."""


class ParsePool:
    def __init__(self, workers: int, timeout: float = 0):
        self.workers = workers
        self.timeout = timeout or None  # PARSE_TIMEOUT; 0: wait for ever
        self.slots = asyncio.Semaphore(2 * workers)
        self.executor: ProcessPoolExecutor | None = None
        self.timeouts = 0  # tasks that outlasted PARSE_TIMEOUT (each attempt)

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.parsepool", "crawler.extract.placement", "pipelines.placement",
                                        "crawler.checks.checker"])
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_exit_with, initargs=(os.getpid(),))

    def _replace(self, executor: ProcessPoolExecutor, why: str) -> None:
        """Drop ``executor`` (once, whichever of its tasks sees it first) and kill its processes: the next task
        starts a new pool. Its other tasks fail at once with BrokenProcessPool and are run here."""
        if self.executor is not executor:
            return
        logger.error("%s: starting new parse processes", why)
        self.executor = None
        # ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14 (kill_workers): its
        # process table is private, read defensively (tested on CPython 3.11 to 3.13).
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            with contextlib.suppress(Exception):
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn, *args):
        """``fn(*args)`` in a pool process (``fn`` and its arguments picklable, a module-level function).

        A task that outlasts ``PARSE_TIMEOUT`` kills the pool: either the pool hangs (a worker killed while the
        call queue is being written never reports, CPython gh-94777) or the page is pathological. It is tried once
        more in a new pool, which settles the first case; a second timeout raises ``ParseTimeout``. A task is never
        retried on the event loop after a timeout: a page that holds a pool process would hold the crawl."""
        async with self.slots:
            for attempt in (1, 2):
                if self.executor is None:
                    self.executor = self._start()
                executor = self.executor
                try:
                    future = asyncio.wrap_future(executor.submit(_in_pool, fn, *args))
                    return await asyncio.wait_for(future, self.timeout)
                except BrokenProcessPool:  # every task in that pool fails at once: each is run here, once
                    logger.error("a parse process died (out of memory?): %s runs here", _what(args))
                    self._replace(executor, "a parse process died")
                    return fn(*args)
                except TimeoutError:
                    self.timeouts += 1
                    self._replace(executor, f"{_what(args)} took over {self.timeout:g} s in the parse pool")
                    if attempt == 2:
                        raise ParseTimeout(f"{_what(args)}: over {self.timeout:g} s, twice") from None

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
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def _what(args) -> str:
    """The page or check a task is about, for the log."""
    first = args[0] if args else None
    return str(getattr(first, "url", first))[:300]
