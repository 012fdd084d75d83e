"""``scrapy status [SPIDER] [--json]``: how a cluster crawl is doing, read from its Redis frontier (REDIS_URL)."""

from __future__ import annotations

import asyncio
import json

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.frontier.cluster import frontier_for
from crawler.frontier.status import crawl_status


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[SPIDER] [--json] [--top N]"

    def short_desc(self) -> str:
        return "Show a running cluster crawl: workers, progress, queue, leases, the hosts holding it back"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="one JSON object, for monitoring")
        parser.add_argument("--top", type=int, default=10, help="hosts with the longest queues to show (10)")

    def run(self, args: list[str], opts) -> None:
        if len(args) > 1:
            raise UsageError("give at most one spider name (default: prospects)")
        if not self.settings.get("REDIS_URL"):
            raise UsageError("REDIS_URL is not set (environment or -s REDIS_URL=redis://host:6379/0)")
        spider = args[0] if args else "prospects"
        if spider not in self.crawler_process.spider_loader.list():
            raise UsageError(f"no spider {spider!r}; spiders: {', '.join(self.crawler_process.spider_loader.list())}")
        status = asyncio.run(_status(self.settings, spider, opts.top))
        if opts.json:
            print(json.dumps(status, indent=1))
        else:
            print(render(spider, status))


async def _status(settings, spider: str, top: int) -> dict:
    frontier = frontier_for(settings, spider, "status")
    try:
        return await crawl_status(frontier, top)
    finally:
        await frontier.server.aclose()


def render(spider: str, s: dict) -> str:
    if not s["crawl"]:
        return f"no {spider} crawl in this Redis (start one with: scrapy seed {spider} SEEDS)"
    rate = f"{s['pages_per_s']:.1f} pages/s on average" if s["pages_per_s"] is not None else "no page yet"
    eta = f", ETA of what is queued ~{_duration(s['eta_s'])}" if s["eta_s"] is not None and s["queued"] else ""
    lines = [
        f"crawl {s['crawl']} ({spider}), running {_duration(s['elapsed_s'])}" if s["elapsed_s"] is not None
        else f"crawl {s['crawl']} ({spider}), not started",
        f"workers: {len(s['workers_alive'])} alive ({', '.join(s['workers_alive']) or '-'})"
        + (f", {len(s['workers_expired'])} expired ({', '.join(s['workers_expired'])})" if s["workers_expired"] else ""),
        f"done: {s['pages']} pages ({rate}), {s['checks']} checks, {s['broken']} broken, {s['links']} links",
        f"frontier: {s['queued']} queued on {s['hosts_queued']} hosts{' (sampled)' if s['hosts_sampled'] else ''}, "
        f"{s['leased']} leased, {s['commits_to_recover']} commits to recover{eta}",
    ]
    if s["dropped"]:
        lines.append("dropped: " + ", ".join(f"{n} {reason}" for reason, n in sorted(s["dropped"].items())))
    if s["top_hosts"]:
        lines.append("longest host queues:")
        for h in s["top_hosts"]:
            delay = f", Crawl-delay {h['crawl_delay_s']:g} s" if h["crawl_delay_s"] else ""
            lines.append(f"  {h['queued']:>8}  {h['host']}  ({h['active']} in flight, {h['waiting']}{delay})")
    return "\n".join(lines)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
