"""What a running cluster crawl looks like from its Redis frontier, for people and for monitoring (``scrapy status``).

Everything is read, nothing written: the crawl id, the workers whose heartbeat is current, the shared counters the
workers add to (``SHARED_STATS`` in ``scheduler.py``), what is queued, leased and waiting for recovery, and the hosts
with the longest queues with what holds each back (its slots are all in use, or its delay has not passed).
"""

from __future__ import annotations

from crawler.frontier.store import Frontier

HOST_SCAN_LIMIT = 100_000  # host queues looked at for the "top hosts" (a sample beyond that, said so)


async def crawl_status(frontier: Frontier, top: int = 10) -> dict:
    server, keys = frontier.server, frontier.keys
    seconds, micros = await server.time()
    now_ms = seconds * 1000 + micros // 1000
    async with server.pipeline(transaction=False) as pipe:
        pipe.get(keys.crawl_id)
        pipe.zrangebyscore(keys.workers, now_ms, "+inf")
        pipe.zrangebyscore(keys.workers, "-inf", now_ms - 1)
        pipe.get(keys.queued)
        pipe.get(keys.leased)
        pipe.llen(keys.recover)
        pipe.hgetall(keys.stats)
        pipe.get(keys.started)
        pipe.hgetall(keys.dropped)
        crawl, alive, expired, queued, leased, recover, stats, started, dropped = await pipe.execute()
    counters = {k: int(v) for k, v in stats.items()}
    elapsed = (now_ms - int(started)) / 1000 if started else None
    done = counters.get("pages/crawled", 0) + counters.get("checks/done", 0)
    rate = counters.get("pages/crawled", 0) / elapsed if elapsed else None
    request_rate = done / elapsed if elapsed else None
    queued = int(queued or 0)
    hosts, sampled = await _top_hosts(frontier, now_ms, top)
    return {
        "crawl": crawl,
        "workers_alive": sorted(alive),
        "workers_expired": sorted(expired),  # their leases go back at the next claim of any worker
        "pages": counters.get("pages/crawled", 0),
        "checks": counters.get("checks/done", 0),
        "broken": counters.get("checks/broken", 0),
        "links": counters.get("links/found", 0),
        "queued": queued,
        "leased": int(leased or 0),
        "commits_to_recover": int(recover),
        "dropped": {k: int(v) for k, v in dropped.items()},
        "elapsed_s": round(elapsed, 1) if elapsed is not None else None,
        "pages_per_s": round(rate, 2) if rate is not None else None,
        # What is queued now, at the average request rate so far: the pages still to come add links and checks.
        "eta_s": round(queued / request_rate) if request_rate else None,
        "hosts_queued": hosts["count"],
        "hosts_sampled": sampled,
        "top_hosts": hosts["top"],
    }


async def _top_hosts(frontier: Frontier, now_ms: int, top: int) -> tuple[dict, bool]:
    server, keys = frontier.server, frontier.keys
    prefix = len(keys.queue(""))
    names, sampled = [], False
    async for key in server.scan_iter(keys.queue("*"), count=1000):
        names.append(key[prefix:])
        if len(names) >= HOST_SCAN_LIMIT:
            sampled = True
            break
    async with server.pipeline(transaction=False) as pipe:
        for host in names:
            pipe.llen(keys.queue(host))
        lengths = await pipe.execute()
    ranked = sorted(zip(names, lengths), key=lambda x: -x[1])[:top]
    async with server.pipeline(transaction=False) as pipe:
        for host, _ in ranked:
            pipe.hget(keys.host(host), "active")
            pipe.zscore(keys.ready, host)
            pipe.hget(keys.robots, host)
        details = await pipe.execute()
    out = []
    for i, (host, length) in enumerate(ranked):
        active, ready_at, robots = details[3 * i: 3 * i + 3]
        if ready_at is None:
            waiting = "all its slots in use"
        elif ready_at > now_ms:
            waiting = f"delay: ready in {(ready_at - now_ms) / 1000:.1f} s"
        else:
            waiting = "ready"
        out.append({"host": host, "queued": length, "active": int(active or 0), "waiting": waiting,
                    "crawl_delay_s": int(robots) / 1000 if robots not in (None, "-1") and int(robots) > 0 else None})
    return {"count": sum(1 for n in lengths if n), "top": out}, sampled
