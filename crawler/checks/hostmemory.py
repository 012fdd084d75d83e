"""Memory of hosts that do not answer, so that their remaining targets are not waited out one by one.

A host that drops connections holds every check of it for the whole timeout, several times (HEAD, the GET
fallback, retries), and a niche site may link to dozens of its pages. After ``CHECK_HOST_FAILURES`` attempts in a
row that timed out or were refused (on any of its targets, with no answer from it in between), the host is
*remembered* for ``CHECK_HOST_MEMORY`` seconds: the checks of its other targets, and the further attempts of checks
in flight, end at once with the same verdict and reason the host earned (``unknown``/``timeout`` stays unknown,
never broken; ``broken``/``connection_refused`` is a fact of the host, not of one path), with ``attempts`` counting
only the requests really sent and ``error`` saying the answer came from memory. Any answer from the host (even
an error status) clears it, and a host that has answered once in this crawl is never remembered for timeouts (a
live host times out under load; a refusal still counts). After ``CHECK_HOST_MEMORY`` seconds the host is asked again.

:class:`HostMemory` is a plain object with the clock passed in, so it is tested without a reactor.
:class:`HostGate` ties it to the downloader (``crawler/downloader.py`` ``gates``): it learns from every attempt of a
check as the attempt leaves the downloader, before the slot's next queued request goes out, and refuses a remembered
host's requests as they leave the queue (a dead host's targets wait there, behind its checks in flight). Per
process: in cluster mode each worker learns a dead host by itself (one round of timeouts per worker, not one per
target).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

REMEMBERED_REASONS = ("timeout", "connection_refused")
# Hosts that answered in this crawl, remembered (the latest this many) so that their timeouts are not taken for a dead
# host: a live host times out under load, in a burst of checks at the end of a crawl (seen at 20,000 pages).
ANSWERED_KEPT = 100_000


def endpoint(url: str) -> str:
    """What a connection failure is a fact of: the host and port (a dead port 8443 says nothing of port 443)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{(parts.hostname or '').lower()}:{port or (443 if parts.scheme == 'https' else 80)}"


@dataclass
class Remembered:
    verdict: str
    reason: str
    failures: int  # attempts in a row that failed this way
    since: float  # monotonic time of the last of them
    example: str  # the URL whose attempt made the host remembered

    def error(self, now: float) -> str:
        return (f"not asked: the host failed {self.failures} attempts in a row ({self.reason}, last on "
                f"{self.example[:200]}, {now - self.since:.0f} s ago); answered from memory")


class HostRemembered(Exception):  # not an error: the sign that a check was answered from memory
    """Raised instead of sending a request to a remembered host; carries what the host earned."""

    def __init__(self, host: str, remembered: Remembered):
        super().__init__(host)
        self.host = host
        self.remembered = remembered


class HostMemory:
    def __init__(self, failures: int, memory: float):
        self.threshold = failures  # 0 turns the memory off
        self.memory = memory
        self._streak: dict[str, Remembered] = {}  # host -> its current run of failures
        self._answered: dict[str, None] = {}  # hosts that answered, oldest first (at most ANSWERED_KEPT)

    def failed(self, host: str, verdict: str, reason: str, url: str, now: float) -> bool:
        """An attempt on ``host`` failed with ``reason``; only timeouts and refusals count (other failures say
        nothing about the host). True when this failure makes the host remembered."""
        if reason not in REMEMBERED_REASONS or (reason == "timeout" and host in self._answered):
            return False  # a host that answered before is slow, not dead: its timeouts stay its targets' own
        streak = self._streak.get(host)
        if streak is None or streak.reason != reason:
            streak = self._streak[host] = Remembered(verdict, reason, 0, now, url)
        streak.failures += 1
        streak.since, streak.example = now, url
        return bool(self.threshold) and streak.failures == self.threshold

    def answered(self, host: str) -> None:
        self._streak.pop(host, None)
        answered = self._answered
        answered.pop(host, None)
        answered[host] = None
        if len(answered) > ANSWERED_KEPT:
            del answered[next(iter(answered))]

    def recall(self, host: str, now: float) -> Remembered | None:
        """What the host earned, when it is remembered now; None: ask it."""
        streak = self._streak.get(host)
        if streak is None or not self.threshold or streak.failures < self.threshold:
            return None
        if now - streak.since > self.memory:
            del self._streak[host]  # long enough: the host gets a fresh chance
            return None
        return streak

    def __len__(self) -> int:
        return sum(1 for s in self._streak.values() if self.threshold and s.failures >= self.threshold)



class HostGate:
    """The downloader's gate for link checks (requests with ``meta["link_check"]``): refuses those of remembered
    hosts, and tells the memory how each attempt ended."""

    def __init__(self, memory: HostMemory, count: Callable[[str], None] | None = None):
        self.memory = memory
        self.count = count or (lambda key: None)

    def refuse(self, request) -> HostRemembered | None:
        if not request.meta.get("link_check"):
            return None
        remembered = self.memory.recall(endpoint(request.url), time.monotonic())
        if remembered is None:
            return None
        return HostRemembered(urlsplit(request.url).hostname or "", remembered)

    def answered(self, request, response) -> None:
        if request.meta.get("link_check"):
            self.memory.answered(endpoint(request.url))

    def failed(self, request, exc: BaseException) -> None:
        if not request.meta.get("link_check"):
            return
        from crawler.checks.verdict import failure_reason

        host = urlsplit(request.url).hostname or ""
        verdict, reason, _ = failure_reason(exc, host)
        if self.memory.failed(endpoint(request.url), verdict, reason, request.url, time.monotonic()):
            self.count("checks/hosts_remembered")
            logger.info("%s: %d attempts in a row ended in %s: its other targets are answered from memory for %d s "
                        "(CHECK_HOST_FAILURES, CHECK_HOST_MEMORY)", endpoint(request.url), self.memory.threshold,
                        reason, self.memory.memory)
