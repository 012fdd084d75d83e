"""``scrapy schedule <spider> <SEEDS> --cron EXPR``: start a new cluster crawl at every cron time (``--once``: now).

Each run does exactly what ``scrapy seed <spider> SEEDS`` does (``crawler/commands/seed.py``: read the input with
the spider's reader, clear the previous crawl, name the new one, queue its first requests) and prints one line.
``SEEDS`` is a file path, or an ``http(s)://`` URL fetched again at every run, so the list can change between
crawls without touching the scheduler; the file's suffix in the URL tells the reader its format (``.jsonl``
backlinks input).

A run is skipped, with a line saying why, while the previous crawl is not finished: requests queued or leased, or
input files not taken, in the frontier (``crawler/frontier/keys.py``, read only), or a worker of it still alive
(its heartbeat has not expired). Starting a crawl clears the frontier, so seeding over a running crawl would throw
its work away; and a worker decides its crawl id when it starts, so one still lingering in its idle time
(``MAX_IDLE_TIME_BEFORE_CLOSE``) would write the new crawl's rows under the old id. Workers that outlive crawls
should be run with ``scrapy work`` (``crawler/commands/work.py``), which starts a worker only once a crawl has
work.

Cron times are UTC (``crawler/cron.py``). ``--once`` runs at once and exits, for a Kubernetes CronJob (which is the
clock there): exit code 0 when the crawl was started or skipped, 1 when the seeds or Redis could not be read. The
long-running form exits 0 on SIGTERM or Ctrl-C, at once while waiting, after the current run otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.seed import seed
from crawler.cron import CronError, parse
from crawler.frontier.keys import Keys

MAX_SEEDS_BYTES = 256 * 1024 * 1024  # a seeds URL that serves more than this is refused, not filled into /tmp


def say(spider: str, message: str) -> None:
    """One timestamped line on stdout (what ``docker compose logs`` and ``kubectl logs`` show)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{now} schedule {spider}: {message}", flush=True)


@dataclass
class FrontierState:
    crawl: str | None
    queued: int
    leased: int
    input: int  # entries of a file-reading spider (warc) not yet taken
    workers: int  # workers whose heartbeat has not expired

    def busy(self) -> str | None:
        """Why a new crawl must not start now, or None."""
        parts = [f"{n} {what}" for n, what in ((self.queued, "queued"), (self.leased, "leased"),
                                              (self.input, "input entries waiting"), (self.workers, "workers alive")) if n]
        return f"crawl {self.crawl} still has {', '.join(parts)}" if parts else None


def frontier_state(settings, spider: str) -> FrontierState:
    """Read the frontier's counters (never writes). Raises ``redis.RedisError`` when Redis cannot be reached."""
    import redis

    options = {"socket_connect_timeout": 5, "socket_timeout": 10, **settings.getdict("REDIS_PARAMS")}
    keys = Keys(spider)
    with redis.Redis.from_url(settings.get("REDIS_URL"), decode_responses=True, **options) as server:
        seconds, micros = server.time()
        now_ms = seconds * 1000 + micros // 1000
        with server.pipeline(transaction=False) as pipe:
            pipe.get(keys.crawl_id).get(keys.queued).get(keys.leased).llen(keys.input)
            pipe.zcount(keys.workers, now_ms, "+inf")
            crawl, queued, leased, waiting, workers = pipe.execute()
    return FrontierState(crawl, int(queued or 0), int(leased or 0), int(waiting or 0), int(workers or 0))


def fetch(url: str, folder: str, user_agent: str, timeout: float = 60) -> str:
    """Download the seeds at ``url`` into ``folder``; returns the file's path (named with the URL's suffix)."""
    suffix = os.path.splitext(urlsplit(url).path)[1][:10]
    path = os.path.join(folder, "seeds" + suffix)
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(path, "wb") as out:
        copied = 0
        while chunk := response.read(1 << 20):
            copied += len(chunk)
            if copied > MAX_SEEDS_BYTES:
                raise ValueError(f"more than {MAX_SEEDS_BYTES} bytes")
            out.write(chunk)
    return path


def run_once(settings, spidercls, spec: str) -> bool:
    """One scheduled run: skip (busy), or start a new crawl from ``spec``. False when it failed (logged)."""
    import redis

    name = spidercls.name
    try:
        state = frontier_state(settings, name)
    except redis.RedisError as exc:
        say(name, f"run failed: Redis unreachable ({exc})")
        return False
    busy = state.busy()
    if busy:
        say(name, f"run skipped: {busy}")
        return True
    folder = tempfile.mkdtemp(prefix="linkprospector-seeds-")
    try:
        path = spec
        if spec.startswith(("http://", "https://")):
            try:
                path = fetch(spec, folder, settings.get("USER_AGENT"))
            except (OSError, ValueError) as exc:  # urllib's URLError and HTTPError are OSErrors
                say(name, f"run failed: cannot fetch {spec}: {exc}")
                return False
        try:
            done = seed(settings, spidercls, path)
        except (OSError, ValueError) as exc:
            say(name, f"run failed: cannot read {spec}: {exc}")
            return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for message in done.skipped[:20]:
        say(name, f"skipped: {message}")
    more = f" (+{len(done.skipped) - 20} more skipped)" if len(done.skipped) > 20 else ""
    say(name, f"crawl {done.crawl} started: {done.summary()}{more}")
    return True


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> <SEEDS> (--cron EXPR | --once)"

    def short_desc(self) -> str:
        return "Start a new cluster crawl at every cron time (UTC), or once now; seeds from a file or an http(s) URL"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--cron", help='when to start crawls, 5 fields in UTC, e.g. "0 3 * * 1" (Mondays 03:00)')
        parser.add_argument("--once", action="store_true", help="start one crawl now (unless one runs) and exit")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 2:
            raise UsageError("give a spider name and the seeds (a file path or an http(s) URL)")
        if not self.settings.get("REDIS_URL"):
            raise UsageError("REDIS_URL is not set (environment or -s REDIS_URL=redis://host:6379/0)")
        if bool(opts.cron) == bool(opts.once):
            raise UsageError("give either --cron EXPR or --once")
        spidercls = self.crawler_process.spider_loader.load(args[0])
        if opts.once:
            if not run_once(self.settings, spidercls, args[1]):
                self.exitcode = 1
            return
        try:
            cron = parse(opts.cron)
        except CronError as exc:
            raise UsageError(f"--cron: {exc}") from None
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        name = spidercls.name
        while not stop.is_set():
            due = cron.next_after(utcnow())
            say(name, f"next run at {due:%Y-%m-%dT%H:%M}Z (cron {opts.cron!r})")
            # Wake at least every minute and compare with the wall clock: a suspended or re-synced clock does not
            # make a run late by the length of the jump.
            while not stop.is_set() and (left := (due - utcnow()).total_seconds()) > 0:
                stop.wait(min(left, 60))
            if not stop.is_set():
                run_once(self.settings, spidercls, args[1])
        say(name, "stopped")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
