"""What every linkprospector spider shares: where its input comes from, and how its requests travel as data.

On one machine the input is read from the ``-a`` argument (a file or a comma-separated list) and each bad line is
logged with its line number and counted in the stats (``input/malformed``); the rest still run. In cluster mode
(``REDIS_URL``), ``scrapy seed <spider> PATH`` has already parsed the input and queued its first requests in the
shared frontier (``crawler/frontier/``); workers take no input of their own.

Requests cross the frontier as plain data (``crawler/frontier/codec.py``): a spider names each kind of request
it makes (``meta["kind"]``) and maps every kind to the method that rebuilds such a request
(``request_kinds``), so nothing read from Redis can choose a callback or a class.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import scrapy

from crawler.frontier.codec import FrontierRequest
from crawler.frontier.ledger import Ledger

logger = logging.getLogger(__name__)


class InputError(ValueError):
    """A bad spider argument or input, refused before the crawl starts: its message names the argument, the value
    and what is expected (``scrapy crawl`` prints it as one line and exits 2)."""


class FrontierSpider(scrapy.Spider):
    input_arg = "seeds"  # the -a argument that names the input
    arguments: dict[str, str] = {}  # -a NAME -> what it is (listed by `scrapy crawl -h`)
    output_tables: tuple[str, ...] = ()  # the lake tables this spider writes (a re-run replaces their partition)
    request_kinds: dict[str, str] = {}  # kind -> name of the method rebuilding that request from a FrontierRequest
    input_is_files = False  # True: the input names files every worker can read (cluster: popped one at a time)

    # --- to implement
    @classmethod
    def read_input(cls, spec: str) -> tuple[list[dict], list[Any]]:
        """Parse the input named by ``spec``: (entries as JSON-able dicts, errors whose str names the line)."""
        raise NotImplementedError

    @classmethod
    def frontier_seeds(cls, entry: dict) -> list[FrontierRequest]:
        """The first requests of one input entry, as data (``scrapy seed`` queues them in cluster mode)."""
        raise NotImplementedError

    @classmethod
    def frontier_site(cls, request: FrontierRequest) -> str:
        """The site whose page cap this request counts against ("" for none)."""
        return ""

    @classmethod
    def check_arguments(cls, args: dict, cluster: bool) -> list[dict]:
        """Refuse bad arguments before anything starts (raise :class:`InputError`). On one machine the input must
        be readable and hold at least one usable entry (returned); a cluster worker takes no input of its own."""
        if cluster:
            return []
        spec = args.get(cls.input_arg)
        if not spec:
            raise InputError(f"-a {cls.input_arg}: missing; give -a {cls.input_arg}=PATH (or set REDIS_URL and run "
                             f"`scrapy seed {cls.name} PATH`)")
        try:
            entries, errors = cls.input_for(spec, args)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise InputError(f"-a {cls.input_arg}={spec}: {reason}") from None
        if not entries:
            detail = f"; first problem: {errors[0]}" if errors else ""
            raise InputError(f"-a {cls.input_arg}={spec}: no usable entry ({len(errors)} malformed){detail}")
        return entries

    @classmethod
    def input_for(cls, spec: str, args: dict):
        """The input as the crawl's arguments read it (a spider whose input depends on another argument overrides)."""
        return cls.read_input(spec)

    @classmethod
    def fetched_nothing(cls, stats: dict) -> bool:
        """Whether a finished run did nothing at all (then ``scrapy crawl`` says so and exits 1)."""
        return not stats.get("downloader/response_count")

    # --- shared machinery
    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.cluster = bool(crawler.settings.get("REDIS_URL"))
        # Read the local input now: a missing or unreadable input fails the crawl at once (exit code 1).
        spider.entries = [] if spider.cluster else spider.local_entries()
        return spider

    def local_entries(self) -> list[dict]:
        spec = getattr(self, self.input_arg, None)
        if not spec:
            raise ValueError(f"give the input with -a {self.input_arg}=PATH (or set REDIS_URL and run `scrapy seed {self.name} PATH`)")
        entries, self.input_errors = self.read_input(spec)
        for error in self.input_errors:
            logger.warning("malformed input: %s", error)
        return entries

    def requests_for(self, entry: dict) -> Iterable[scrapy.Request]:
        return [self.from_frontier(fr) for fr in self.frontier_seeds(entry)]

    async def start(self):
        if self.cluster:
            return  # the shared frontier feeds this worker
        self.crawler.stats.set_value("input/entries", len(self.entries))
        self.crawler.stats.set_value("input/malformed", len(self.input_errors))
        for entry in self.entries:
            for request in self.requests_for(entry):
                yield request

    def give_back(self, request: scrapy.Request) -> None:
        """Processing of ``request`` stopped half-way (shutdown): in cluster mode its lease goes back to the frontier
        instead of being acknowledged; on one machine it is scheduled again, so a ``JOBDIR`` keeps it for the resume."""
        if self.cluster:
            Ledger.of(self.crawler).abandon()
        else:
            self.crawler.engine.crawl(request.replace(dont_filter=True))

    # --- requests as data
    def to_frontier(self, request: scrapy.Request) -> FrontierRequest | None:
        kind = request.meta.get("kind")
        if kind not in self.request_kinds:
            return None
        return FrontierRequest(kind=kind, url=request.url, depth=int(request.meta.get("depth", 0)),
                               method=request.method, attempts=int(request.meta.get("attempts", 0)),
                               data=request.meta.get("frontier_data") or {})

    def from_frontier(self, fr: FrontierRequest) -> scrapy.Request:
        request = getattr(self, self.request_kinds[fr.kind])(fr)
        request.meta["kind"] = fr.kind
        if fr.attempts:
            request.meta["attempts"] = fr.attempts
        return request
