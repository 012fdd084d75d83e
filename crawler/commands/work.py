"""``scrapy work <spider> [-a NAME=VALUE] [-s NAME=VALUE]``: a cluster worker that outlives crawls.

A ``scrapy crawl`` worker exits once the cluster has been idle for ``MAX_IDLE_TIME_BEFORE_CLOSE``, and it decides
the crawl id it writes under when it starts. Restarted in a loop by a container runtime, it would sit idle holding
the old crawl's id when ``scrapy schedule`` starts the next crawl, and write that crawl's rows under the old id.
This command waits instead: once the frontier has work (requests queued or leased, input files to take, commits of
dead workers to complete), it runs ``scrapy crawl <spider>`` with the same ``-a``/``-s`` options as a child
process, waits for it to finish, and waits for work again. Waiting is a subscription to the frontier's "work
appeared" channel (``crawler/frontier/keys.py``), so no Redis polling.

Signals: SIGTERM or Ctrl-C while waiting exits 0 at once; while a crawl runs, each one is passed to the crawl
(the first drains it: ``crawler/shutdown.py``) and the command exits with the crawl's code. A crawl that fails
(non-zero exit) ends the command with its code, so the container runtime's restart policy sees it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.schedule import say
from crawler.frontier.keys import Keys

RECHECK_SECONDS = 60  # besides the "work appeared" message, look again this often (a message lost in a reconnect)


def has_work(server, keys: Keys) -> bool:
    with server.pipeline(transaction=False) as pipe:
        pipe.get(keys.queued).get(keys.leased).llen(keys.input).llen(keys.recover)
        queued, leased, waiting, recover = pipe.execute()
    return any(int(v or 0) > 0 for v in (queued, leased, waiting, recover))


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "<spider> [-a NAME=VALUE] [-s NAME=VALUE]"

    def short_desc(self) -> str:
        return "Run cluster crawls of a spider one after another, each once the frontier has work"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="spider argument, passed to every crawl")

    def run(self, args: list[str], opts) -> None:
        if len(args) != 1:
            raise UsageError("give a spider name")
        if not self.settings.get("REDIS_URL"):
            raise UsageError("REDIS_URL is not set (environment or -s REDIS_URL=redis://host:6379/0)")
        name = self.crawler_process.spider_loader.load(args[0]).name
        command = [sys.executable, "-m", "scrapy", "crawl", name]
        for value in opts.spargs:
            command += ["-a", value]
        for value in opts.set or []:
            command += ["-s", value]
        if not self.settings.get("WORKER_ID"):
            # This process's id rather than each crawl's: in a container it is 1, so a restarted container (same
            # hostname) works under its old id and first gives back what its past self held (README, "Cluster
            # guarantees"); on one machine two of these still differ.
            command += ["-s", f"WORKER_ID={socket.gethostname()}-{os.getpid()}"]
        stop = threading.Event()
        child: list[subprocess.Popen] = []

        def on_signal(signum, frame) -> None:
            stop.set()
            if child and child[0].poll() is None:
                child[0].send_signal(signum)  # one signal each: the first drains, a second exits at once

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
        while True:
            if not self.wait_for_work(name, stop):
                say(name, "worker stopped while waiting")
                return
            say(name, "work queued: starting a crawl")
            child[:] = [subprocess.Popen(command)]
            while (code := child[0].poll()) is None:
                time.sleep(0.2)  # wait() would hold off the signal handler's forwarding until the child exits
            say(name, f"crawl worker exited with code {code}")
            if code != 0 or stop.is_set():
                self.exitcode = code
                return

    def wait_for_work(self, spider: str, stop: threading.Event) -> bool:
        """Block until the frontier has work (True) or a signal came (False)."""
        import redis

        keys = Keys(spider)
        options = {"socket_connect_timeout": 5, "health_check_interval": 30, **self.settings.getdict("REDIS_PARAMS")}
        announced = False
        while not stop.is_set():
            try:
                with redis.Redis.from_url(self.settings.get("REDIS_URL"), **options) as server, server.pubsub() as sub:
                    sub.subscribe(keys.wake)  # first subscribe, then look: work queued in between is not missed
                    checked = 0.0
                    while not stop.is_set():
                        if time.monotonic() - checked > RECHECK_SECONDS:
                            if has_work(server, keys):
                                return True
                            checked = time.monotonic()
                            if not announced:
                                say(spider, "waiting for a crawl to be seeded")
                                announced = True
                        if sub.get_message(ignore_subscribe_messages=True, timeout=1.0) is not None:
                            checked = 0.0  # look now
            except redis.RedisError as exc:
                say(spider, f"Redis unreachable ({exc}): retrying in 5 s")
                stop.wait(5)
        return False
