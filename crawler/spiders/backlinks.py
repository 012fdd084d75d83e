"""Spider ``backlinks``: are the links you earned still there, still followed, in the content, on an indexable page?

``scrapy crawl backlinks -a input=PATH`` (CSV ``source_url,target[,expected_anchor,expected_rel]`` or JSONL, see
``crawler/backlinks/inputs.py``); in cluster mode ``scrapy seed backlinks PATH`` fills the shared input instead.

Each source page is fetched once, however many input rows name it, and every row becomes one ``backlinks`` row
with its state (``crawler/backlinks/decide.py``). The fetch is Scrapy's own: redirects are followed
(``redirect_urls`` is the chain), 5xx, 429 and timeouts are retried by RetryMiddleware before they count, 4xx/5xx
answers reach the callback, and robots.txt is obeyed (the refusal reaches the errback: ``robots_disallowed``)
through ``crawler.robotstxt``, because many pages of one host start at once and Scrapy 2.19's middleware lets all
but one of the requests waiting for a robots.txt through. Source requests are never deduplicated: a source that
redirects to another listed source must still get its own rows.

Placement (region, main content, text around the link) is computed here, with the placement pipeline's ``place()``, because
the decision needs it (the best of several matching links is the one in the content). It runs only on pages where
some row's target matched, and over all the page's anchors: the placement of one link depends on the others
(main-content links decide the page's wrappers and the position rule), so the columns mean what they mean in the
``links`` table. ``PLACEMENT_ENABLED``, ``PLACEMENT_MAIN_CONTENT``, ``PLACEMENT_MODEL`` and ``LINK_REGION_RULES`` apply as there.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import Response, TextResponse

from crawler.backlinks.decide import UNVERIFIED, Decision, SourcePage, decide, failure_decision, status_decision
from crawler.backlinks.disavow import DisavowError, DisavowList, read_disavow
from crawler.backlinks.inputs import read_input
from crawler.backlinks.risk import PageSignals, Risk, Thresholds, link_risk, page_signals
from crawler.backlinks.rows import BacklinksItem, backlink_row
from crawler.backlinks.targets import parse_target
from crawler.extract.record import Fetched, build_page, header_dict
from crawler.frontier.codec import FrontierRequest
from crawler.spiders.base import FrontierSpider, InputError
from crawler.urls import host_of, normalize_url, site_of
from pipelines.placement import PlacementPipeline

logger = logging.getLogger(__name__)

# Every final status reaches the callback; 3xx stay out so that RedirectMiddleware follows redirects.
SOURCE_STATUSES = [*range(400, 600), 999]


class BacklinksSpider(FrontierSpider):
    name = "backlinks"
    input_arg = "input"
    output_tables = ("backlinks",)
    request_kinds = {"source": "_source_from"}

    arguments = {
        "input": "the backlinks to verify: CSV or JSONL with source_url, target and optional expectations, or a "
                 "backlink export of Search Console, Ahrefs, Semrush, Majestic, Bing or Moz (recognized by its header)",
        "target": "the target of exports that name none (Search Console): domain:your-site.com, a URL or a prefix*",
        "exclude": "a disavow file (domain:example.com or URL lines): the linking pages it lists are skipped",
    }

    def __init__(self, input: str | None = None, target: str | None = None, exclude: str | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.input = input
        self.target = target
        self.exclude = exclude

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.thresholds = Thresholds.from_settings(crawler.settings)
        try:  # the placement settings, read the way the links table's pipeline reads them
            spider.placement = PlacementPipeline.from_crawler(crawler)
        except NotConfigured:  # PLACEMENT_ENABLED is off: rows keep empty placement columns
            spider.placement = None
        return spider

    # --- input
    @classmethod
    def read_input(cls, spec: str, target: str | None = None):
        return read_input(spec, target)

    @classmethod
    def input_for(cls, spec: str, args: dict):
        return cls.read_input(spec, args.get("target"))

    @classmethod
    def check_arguments(cls, args: dict, cluster: bool) -> list[dict]:
        """The input must be readable with the given ``target`` and hold an entry that ``exclude`` leaves."""
        excluded = None if cluster else cls._excluded(args.get("exclude"))
        entries = super().check_arguments(args, cluster)
        if excluded is not None and all(excluded.covers(e["source_url"]) for e in entries):
            spec = args.get(cls.input_arg)
            raise InputError(f"-a exclude={args['exclude']}: it lists every linking page of {spec}: nothing to verify")
        return entries

    @staticmethod
    def _excluded(path: str | None) -> DisavowList | None:
        if not path:
            return None
        try:
            return read_disavow(path)
        except DisavowError as exc:
            raise InputError(f"-a exclude={path}: {exc}") from None

    def local_entries(self) -> list[dict]:
        if not self.input:
            raise ValueError(f"give the input with -a {self.input_arg}=PATH (or set REDIS_URL and run "
                             f"`scrapy seed {self.name} PATH`)")
        entries, self.input_errors = read_input(self.input, self.target)
        for error in self.input_errors:
            logger.warning("malformed input: %s", error)
        excluded = self._excluded(self.exclude)
        if excluded is not None:
            kept = [e for e in entries if not excluded.covers(e["source_url"])]
            skipped = len(entries) - len(kept)
            self.excluded = skipped
            logger.info("-a exclude=%s: %d linking page(s) skipped (listed in the disavow file)", self.exclude, skipped)
            entries = kept
        return entries

    @classmethod
    def frontier_seeds(cls, entry: dict) -> list[FrontierRequest]:
        return [FrontierRequest("source", entry["source_url"], data=entry)]

    async def start(self):
        if getattr(self, "excluded", None) is not None:  # the stats exist once the crawl starts
            self.crawler.stats.set_value("input/excluded", self.excluded)
        async for request in super().start():
            yield request

    def _source_from(self, fr: FrontierRequest) -> scrapy.Request:
        return scrapy.Request(
            fr.url,
            callback=self.parse_source,
            errback=self.source_failed,
            dont_filter=True,
            meta={"entry": fr.data, "frontier_data": fr.data, "handle_httpstatus_list": SOURCE_STATUSES},
        )

    # --- answers
    def parse_source(self, response: Response):
        entry = response.meta["entry"]
        expectations = entry["expectations"]
        headers = header_dict(response.headers)
        page = SourcePage(
            url=entry["source_url"],
            final_url=normalize_url(response.url),
            http_status=response.status,
            redirect_chain=redirect_chain(response.request),
            x_robots_tags=tuple(v.decode("latin-1") for v in response.headers.getlist(b"X-Robots-Tag")),
        )
        judged = status_decision(response.status, headers)
        if judged is not None:
            return self.item(page, expectations, [judged] * len(expectations))
        text = response.text if isinstance(response, TextResponse) else None
        built = build_page(Fetched(url=page.final_url, status=response.status, headers=headers, body=response.body,
                                   fetched_at=datetime.now(UTC), site=site_of(page.final_url), text=text,
                                   encoding=getattr(response, "encoding", None)))
        facts = built.item.page
        if facts.parse_status != "parsed":  # not_html | unparseable
            return self.item(page, expectations, [Decision(UNVERIFIED, facts.parse_status)] * len(expectations))
        page = replace(page, canonical_url=facts.canonical_url, meta_robots=facts.meta_robots,
                       title=facts.title, h1=facts.h1)
        links = built.item.links
        matching = []
        for expectation in expectations:
            target = parse_target(expectation["target"])
            matching.append([row for row in links if target.matches(row.target_url)])
        if any(matching) and self.placement is not None:
            self.placement.place(built.item)  # rows are updated in place, so `matching` sees the placement
        decisions = [decide(expectation, page, rows) for expectation, rows in zip(expectations, matching)]
        signals = page_signals(built.item.root, links, headers)
        element_of = {id(row): element for row, element in zip(links, built.item.anchors)}
        risks = [link_risk(page.url, self.thresholds, signals,
                           link_element=element_of.get(id(d.link)) if d.link is not None else None,
                           meta_robots=page.meta_robots, x_robots_tags=page.x_robots_tags,
                           canonical_url=page.canonical_url, final_url=page.final_url) for d in decisions]
        return self.item(page, expectations, decisions, signals, risks)

    def source_failed(self, failure):
        request = failure.request
        entry = request.meta["entry"]
        page = SourcePage(
            url=entry["source_url"],
            final_url=normalize_url(request.url),
            redirect_chain=redirect_chain(request),
            error=f"{failure.type.__name__}: {failure.value}"[:500],
        )
        decision = failure_decision(failure.value, host_of(request.url))
        return self.item(page, entry["expectations"], [decision] * len(entry["expectations"]))

    def item(self, page: SourcePage, expectations: list[dict], decisions: list[Decision],
             signals: PageSignals | None = None, risks: list[Risk] | None = None) -> BacklinksItem:
        """One row per expectation on this source page, counted in the stats by state and reason. Without
        ``risks`` (the page was not read) a row carries only the reasons its URL shows."""
        checked_at = datetime.now(UTC)
        if risks is None:
            risks = [link_risk(page.url, self.thresholds)] * len(expectations)
        stats = self.crawler.stats
        stats.inc_value("backlinks/sources")
        for decision in decisions:
            stats.inc_value(f"backlinks/{decision.state}")
            if decision.reason:
                stats.inc_value(f"backlinks/reason/{decision.reason}")
        for risk in risks:
            for reason in risk.reasons:
                stats.inc_value(f"backlinks/risk/{reason}")
        return BacklinksItem([backlink_row(e, page, d, checked_at, signals, r)
                              for e, d, r in zip(expectations, decisions, risks)])


def redirect_chain(request: scrapy.Request) -> tuple[str, ...]:
    """Every URL after the first one asked, in order (empty without redirects)."""
    redirects = request.meta.get("redirect_urls") or []
    return tuple(normalize_url(u) for u in [*redirects[1:], request.url]) if redirects else ()
