"""A Scrapy downloader whose per-host concurrency limit really holds.

Since Scrapy 2.14, with the asyncio reactor and no download delay, ``CONCURRENT_REQUESTS_PER_DOMAIN`` is not
enforced (docs/pitfalls.md §2): ``Downloader._process_queue`` schedules each download as a task and the task marks the
request as *transferring* only when it first runs, so the loop that fills the free slots sees them all free and
drains the whole queue at once (a server saw 19-22 concurrent requests with a limit of 2). Hammering a niche site
is the fastest way to get a crawler banned, so we claim the slot before scheduling, which is what the loop assumes.
Slots also keep a host's robots.txt ``Crawl-delay`` (``crawl_delays``, filled by ``crawler/politeness.py``) when
Scrapy drops an idle slot and creates it again.
``tests/test_politeness.py`` checks the limit against a server that counts concurrent requests.

``gates`` see each request as it leaves its slot's queue and each outcome before the slot's next request leaves:
``refuse(request)`` may return an exception instead of sending it (the exception reaches the errback),
``answered(request, response)`` and ``failed(request, exc)`` learn from the outcome. The memory of dead hosts
(``crawler/checks/hostmemory.py``) is such a gate: learning in the errback would be too late, the next queued
request of the same host is already on its way by then.
"""

from __future__ import annotations

from time import monotonic

from scrapy import signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PoliteDownloader(Downloader):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.crawl_delays: dict[str, float] = {}
        self.gates: list = []  # objects with refuse(request), answered(request, response), failed(request, exc)

    def _get_slot(self, request, spider=None):
        key, slot = super()._get_slot(request)
        delay = self.crawl_delays.get(key)
        if delay and slot.delay < delay:
            slot.delay = delay
        return key, slot

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # claim the slot now; _download() adds it again and frees it when done
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break

    async def _download(self, slot: Slot, request):
        for gate in self.gates:
            if (refusal := gate.refuse(request)) is not None:
                slot.transferring.discard(request)  # claimed in _process_queue
                self._process_queue(slot)
                self.signals.send_catch_log(signal=signals.request_left_downloader, request=request,
                                            spider=self.crawler.spider)
                raise refusal
        try:
            response = await super()._download(slot, request)
        except Exception as exc:  # the slot's next request is scheduled, not yet sent: the gates learn first
            for gate in self.gates:
                gate.failed(request, exc)
            raise
        for gate in self.gates:
            gate.answered(request, response)
        return response
