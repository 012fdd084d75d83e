"""Pages parsed (and check bodies judged) in a pool of processes give the rows of the crawl process, and a pool
process that dies costs nothing: the test web crawled three ways."""

from __future__ import annotations

import pytest

from tests.crawling import run_crawl

VOLATILE = {"fetched_at", "checked_at", "crawl", "warc_filename", "warc_record_offset", "warc_record_length"}


def rows(crawl, table: str, key) -> dict:
    return {tuple(r[k] for k in key): {k: v for k, v in r.items() if k not in VOLATILE} for r in crawl.table(table)}


@pytest.fixture(scope="module")
def in_process(web, tmp_path_factory):
    web.reset_counters()
    web.version = 1
    result = run_crawl("prospects", tmp_path_factory.mktemp("inproc"), web, {"seeds": ",".join(web.seeds)},
                       {"CRAWL_ID": "p", "PARSE_WORKERS": "0"})
    assert result.returncode == 0, result.log[-2000:]
    return result


@pytest.mark.parametrize("env", [{}, {"LINKPROSPECTOR_FAILPOINT": "parse:pool@3"}], ids=["pool", "pool-process-killed"])
def test_the_pool_gives_the_rows_of_the_crawl_process(web, in_process, tmp_path, env):
    web.reset_counters()
    web.version = 1
    pooled = run_crawl("prospects", tmp_path, web, {"seeds": ",".join(web.seeds)},
                       {"CRAWL_ID": "p", "PARSE_WORKERS": "2"}, env=env)
    assert pooled.returncode == 0, pooled.log[-2000:]
    assert rows(pooled, "pages", ("url",)) == rows(in_process, "pages", ("url",))
    links = rows(pooled, "links", ("source_url", "ordinal"))
    assert links == rows(in_process, "links", ("source_url", "ordinal"))
    assert sum(1 for r in links.values() if r["region"] == "content" and r["in_main_content"]) > 10  # placed
    # Check bodies (soft-404, parked, meta refresh) are judged in the pool too: every verdict against the ground
    # truth (timeouts aside, which depend on the machine's load, not on where a body is judged).
    got = {c["url"]: (c["verdict"], c["reason"]) for c in pooled.table("checks")}
    for url, expected in web.expected_checks.items():
        if expected[1] != "timeout":
            assert got[url] == expected, url
    if env:
        assert "a parse process died" in pooled.log


# --- a task that never ends (a pathological page, or a pool hung as in CPython gh-94777) ---------------------------

def test_a_task_that_never_ends_costs_one_page_not_the_crawl(tmp_path):
    """Real pool processes: a hung task is given up after PARSE_TIMEOUT in two processes, each killed, and the
    pool answers the next task; a process that hung once is replaced and the task answered the second time."""
    import asyncio
    import os
    from datetime import UTC, datetime

    from crawler.extract.record import Fetched
    from crawler.parsepool import ParsePool, ParseTimeout
    from tests import poolwork

    async def scenario():
        pool = ParsePool(1, timeout=1.5)
        try:
            assert await pool.run(poolwork.double, 21) == 42
            first = pool.pids()
            with pytest.raises(ParseTimeout):
                await pool.run(poolwork.hang, "a page that never parses")
            assert pool.timeouts == 2 and len(first) == 1
            await asyncio.sleep(0.5)
            assert not os.path.exists(f"/proc/{first[0]}") or _zombie(first[0])  # killed, not left spinning
            assert await pool.run(poolwork.double, 4) == 8  # the crawl goes on
            assert await pool.run(poolwork.hang_once, str(tmp_path / "hung")) == "answered"  # retried in a new pool
            assert pool.timeouts == 3
            # a page: recorded with its status, without links, instead of holding the crawl
            fetched = Fetched(url="http://site.test/", status=200, headers={"content-type": "text/html"},
                              body=b"<html>", fetched_at=datetime.now(UTC), site="site.test")
            original = pool.run

            async def hung(fn, *args):  # the page's parse replaced by a task that never ends
                return await original(poolwork.hang, "page")

            pool.run = hung
            result, error = await pool.page_rows(fetched, 0, None)
            assert result.item.page.parse_status == "parse_timeout" and result.item.links == []
            assert "over 1.5 s" in result.unparseable and error is None
        finally:
            pool.close()

    asyncio.run(scenario())


def test_pool_processes_end_with_a_killed_crawl(tmp_path):
    """kill -9 of the crawl process: its parse processes and their fork server exit too (they used to wait for
    ever, ~120 MB each)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import asyncio, os, sys\n"
        "from crawler.parsepool import ParsePool\n"
        "from tests import poolwork\n"
        "async def main():\n"
        "    pool = ParsePool(2)\n"
        "    await asyncio.gather(*(pool.run(poolwork.double, i) for i in range(4)))\n"
        "    print(' '.join(str(p) for p in pool.pids()), flush=True)\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    crawl = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        workers = [int(pid) for pid in crawl.stdout.readline().split()]
        assert len(workers) == 2
        with open(f"/proc/{workers[0]}/stat") as stat:
            server = int(stat.read().rsplit(")", 1)[1].split()[1])  # the fork server, their parent
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(10)
        deadline = time.monotonic() + 15
        alive = workers + [server]
        while alive and time.monotonic() < deadline:
            time.sleep(0.2)
            alive = [pid for pid in alive if os.path.exists(f"/proc/{pid}") and not _zombie(pid)]
        assert not alive, f"still running after the crawl was killed: {alive}"
    finally:
        crawl.kill()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False


def test_the_processes_start_ahead_without_holding_the_event_loop():
    """``start`` (at engine_started) spawns the processes in a thread: the event loop keeps running meanwhile, and
    the first task finds them up."""
    import asyncio
    import time

    from crawler.parsepool import ParsePool
    from tests import poolwork

    async def scenario():
        pool = ParsePool(2)
        try:
            began = time.monotonic()
            pool.start()
            ticks = 0
            while not pool.starting.done():
                await asyncio.sleep(0.01)
                ticks += 1
            assert len(pool.pids()) == 2
            assert ticks >= 1 or time.monotonic() - began < 0.05  # the loop ran while the fork server started
            assert await pool.run(poolwork.double, 2) == 4 and len(pool.pids()) == 2
        finally:
            pool.close()

    asyncio.run(scenario())


def test_answers_load_only_row_types_and_errors_come_back_as_text():
    """A pool process parses hostile pages: the crawl process loads from its answers only the row types (never a
    callable it names), and a task's exception comes back as text, not as a pickled object."""
    import asyncio

    from crawler.parsepool import ParsePool, ParseTaskError
    from tests import poolwork

    async def scenario():
        pool = ParsePool(1)
        try:
            with pytest.raises(ParseTaskError, match="posix.getcwd, which is not a row type"):
                await pool.run(poolwork.answers_with_a_callable, "x")
            with pytest.raises(ParseTaskError, match="ValueError: bad page"):
                await pool.run(poolwork.fails, "bad page")
            assert await pool.run(poolwork.double, 5) == 10  # the same process answers on
        finally:
            pool.close()

    asyncio.run(scenario())
