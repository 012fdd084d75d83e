"""Cluster crawls that lose nothing: killed workers, signals, a Redis restart, poisoned queue entries, and
politeness that holds for all workers together. Real redis-server, real loopback web (``gridweb.py``), real
``scrapy crawl`` processes.

Every crawl here is compared with a single-node crawl of the same web: the union of the rows committed by the
workers must equal it as sets, with no key twice, and no temporary file may be left where the lake is.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import free_port
from tests.crawling import REPO, Crawl, run_crawl, start_worker
from tests.gridweb import GridWeb, Site

PAGE_KEY = ("url", "final_url", "http_status", "parse_status", "title", "site", "links_count")
LINK_KEY = ("source_url", "target_url", "anchor_text", "ordinal", "external", "nofollow", "xpath")
CHECK_KEY = ("url", "verdict", "reason", "http_status", "final_url")
# Every crawl here, the reference included, asks a timed-out check once more: the tests compare verdicts row by row,
# and with 2 s check timeouts a loaded machine (seen: a test run beside other work) turns one ordinary target into
# unknown/timeout in one crawl and not in the other. The hang host times out both times, as before.
SAME_VERDICTS = {"CHECK_TIMEOUT_RETRIES": "1"}
# Short leases and commits so that a test sees a dead worker's work redone within seconds.
FAST = {"LEASE_TIMEOUT": "4", "PARQUET_COMMIT_INTERVAL": "1", "MAX_IDLE_TIME_BEFORE_CLOSE": "3", "LOG_LEVEL": "INFO",
        "CONCURRENT_REQUESTS": "8", **SAME_VERDICTS}


def keyset(crawl: Crawl, table: str, key) -> set:
    return {tuple(str(r[k]) for k in key) for r in crawl.table(table)}


def assert_no_duplicates(crawl: Crawl) -> None:
    for table, key in (("pages", ("url",)), ("checks", ("url",)), ("links", ("source_url", "ordinal"))):
        keys = [tuple(r[k] for k in key) for r in crawl.table(table)]
        dupes = [k for k, n in collections.Counter(keys).items() if n > 1]
        assert not dupes, f"{table}: {len(dupes)} keys twice, e.g. {dupes[:3]}"


def assert_same_as(crawl: Crawl, single: Crawl) -> None:
    assert keyset(crawl, "pages", PAGE_KEY) == keyset(single, "pages", PAGE_KEY)
    assert keyset(crawl, "checks", CHECK_KEY) == keyset(single, "checks", CHECK_KEY)
    assert keyset(crawl, "links", LINK_KEY) == keyset(single, "links", LINK_KEY)
    assert_no_duplicates(crawl)
    leftovers = [p for p in crawl.out.rglob("*") if p.name.endswith((".tmp", ".open"))]
    assert not leftovers, leftovers


def seed(redis_url: str, web, tmp_path: Path, crawl: str = "c") -> None:
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("\n".join(web.seeds) + "\n")
    done = subprocess.run([sys.executable, "-m", "scrapy", "seed", "prospects", str(seeds), "--crawl", crawl],
                          cwd=REPO, env={**os.environ, "REDIS_URL": redis_url}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def worker(out: Path, web, redis_url: str, name: str, logs: Path, env: dict | None = None, **settings) -> subprocess.Popen:
    return start_worker("prospects", out, web, {}, {**FAST, "WORKER_ID": name, **settings},
                        {"REDIS_URL": redis_url, **(env or {})}, logs / f"{name}.log")


def wait_pages(web: GridWeb, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(len(r.starts) for h, r in list(web.hosts.items()) if h.startswith("site")) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"the crawl did not reach {n} page requests")


def log_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def finish(procs, logs: Path, timeout: float = 240) -> list[int]:
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            p.kill()
            tails = "".join(f.read_text()[-3000:] for f in logs.glob("*.log"))
            raise AssertionError("a worker did not finish:\n" + tails) from None
    return codes


@pytest.fixture(scope="module")
def grid():
    with GridWeb([Site(f"site{k}.com", 100) for k in range(4)], hang=0) as web:
        yield web


def single_node(web, tmp_path_factory, name: str) -> Crawl:
    """The reference: the same web crawled by one process, no Redis."""
    result = run_crawl("prospects", tmp_path_factory.mktemp(name), web, {"seeds": ",".join(web.seeds)},
                       {"CRAWL_ID": "single", **SAME_VERDICTS})
    assert result.returncode == 0, result.log[-3000:]
    return result


@pytest.fixture(scope="module")
def grid_single(grid, tmp_path_factory):
    result = single_node(grid, tmp_path_factory, "grid-single")
    assert len(result.table("pages")) >= 400 and len(result.table("checks")) == 120
    return result


@pytest.mark.parametrize("kill_at", [80, 250])
def test_kill_9_of_a_worker_loses_nothing_and_writes_nothing_twice(grid, grid_single, redis_url, tmp_path, kill_at):
    seed(redis_url, grid, tmp_path)
    grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    procs = [worker(out, grid, redis_url, f"w{i}", logs) for i in (1, 2)]
    wait_pages(grid, kill_at)
    procs[0].send_signal(signal.SIGKILL)
    assert procs[0].wait(10) == -signal.SIGKILL
    assert finish(procs[1:], logs) == [0]
    assert_same_as(Crawl(0, "", {}, out), grid_single)
    log = (logs / "w2.log").read_text()
    assert "took back" in log  # the survivor redid the dead worker's leases
    server = redis.Redis.from_url(redis_url)
    assert int(server.get("prospects:queued")) == 0 and int(server.get("prospects:leased")) == 0


@pytest.mark.parametrize("point, taken_over_by", [("commit:staged@3", "another worker"),
                                                  ("commit:sealed@3", "another worker"), ("commit:renamed@4", "itself")])
def test_a_worker_killed_inside_a_commit_has_it_completed_not_redone(grid, grid_single, redis_url, tmp_path, point,
                                                                     taken_over_by):
    """Killed between the seal and the renames (crawler/failpoints.py: a real SIGKILL at that exact moment), the
    commit is finished by whoever takes over, from the temporary files it left: its rows appear once. Killed before
    the seal, its requests are redone and the files it staged are removed."""
    seed(redis_url, grid, tmp_path)
    grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    doomed = worker(out, grid, redis_url, "w1", logs, env={"LINKPROSPECTOR_FAILPOINT": point})
    if taken_over_by == "another worker":
        procs = [worker(out, grid, redis_url, "w2", logs)]
        assert doomed.wait(120) == -signal.SIGKILL
        log = logs / "w2.log"
    else:
        assert doomed.wait(120) == -signal.SIGKILL
        os.rename(logs / "w1.log", logs / "w1-killed.log")
        procs = [worker(out, grid, redis_url, "w1", logs)]
        log = logs / "w1.log"
    assert finish(procs, logs) == [0]
    if point.startswith("commit:staged"):
        assert "temporary files that stopped worker w1 never committed" in log.read_text()
    else:
        assert "completed commit w1-" in log.read_text()
    assert_same_as(Crawl(0, "", {}, out), grid_single)


def test_a_killed_worker_restarted_under_its_own_name_finishes_the_crawl(grid, grid_single, redis_url, tmp_path):
    """A pod that comes back with the same WORKER_ID (StatefulSet, indexed Job) must not trip over its past self."""
    seed(redis_url, grid, tmp_path)
    grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    first = worker(out, grid, redis_url, "w1", logs)
    wait_pages(grid, 150)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    (logs / "w1.log").rename(logs / "w1-killed.log")
    assert finish([worker(out, grid, redis_url, "w1", logs)], logs) == [0]
    assert_same_as(Crawl(0, "", {}, out), grid_single)


def test_redis_restart_mid_crawl_loses_nothing_with_auth_on(grid, grid_single, tmp_path):
    port = free_port()
    data = tmp_path / "redis"
    data.mkdir()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--appendonly", "yes",
            "--save", "", "--requirepass", "s3cret"]  # AUTH on: the URL carries the password
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    try:
        _wait_redis(url)
        seed(url, grid, tmp_path)
        grid.reset()
        out, logs = tmp_path / "lake", tmp_path
        procs = [worker(out, grid, url, f"w{i}", logs, LEASE_TIMEOUT="30") for i in (1, 2)]
        wait_pages(grid, 120)
        redis.Redis.from_url(url).shutdown()  # persists the AOF, like a restart by an operator or a crash-restart
        server.wait(10)
        time.sleep(6)
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        assert finish(procs, logs) == [0, 0]
        assert_same_as(Crawl(0, "", {}, out), grid_single)
        text = "".join((logs / f"w{i}.log").read_text() for i in (1, 2))
        assert "Redis unreachable" in text and "Redis reachable again" in text
    finally:
        server.terminate()
        server.wait(10)


def _wait_redis(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def hang_grid():
    """A web whose home pages link to a host that answers after 60 s: a check in flight that never ends."""
    with GridWeb([Site(f"site{k}.com", 40) for k in range(2)], hang=60) as web:
        yield web


@pytest.fixture(scope="module")
def hang_single(hang_grid, tmp_path_factory):
    return single_node(hang_grid, tmp_path_factory, "hang-single")


def test_one_sigterm_drains_within_the_grace_period_and_exits_0(hang_grid, hang_single, redis_url, tmp_path):
    seed(redis_url, hang_grid, tmp_path)
    hang_grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    # Real check timeouts (15 s, 2 retries): the check of hang.org alone would hold the worker for a minute.
    first = worker(out, hang_grid, redis_url, "w1", logs, CHECK_TIMEOUT="15", CHECK_TIMEOUT_RETRIES="2",
                   PARQUET_COMMIT_INTERVAL="30", LEASE_TIMEOUT="120")
    deadline = time.monotonic() + 60
    while not hang_grid.hosts["hang.org"].starts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hang_grid.hosts["hang.org"].starts, "the check of the hanging host never started"
    time.sleep(0.5)
    started = time.monotonic()
    first.send_signal(signal.SIGTERM)
    code = first.wait(40)
    took = time.monotonic() - started
    assert code == 0 and took < 30, (code, took)
    server = redis.Redis.from_url(redis_url)
    assert int(server.get("prospects:leased")) == 0  # every lease acknowledged or given back
    assert not server.keys("prospects:leases:*")
    (logs / "w1.log").rename(logs / "w1-drained.log")
    # Another worker finishes the crawl: nothing was lost, nothing written twice.
    assert finish([worker(out, hang_grid, redis_url, "w2", logs)], logs) == [0]
    assert_same_as(Crawl(0, "", {}, out), hang_single)


def test_a_second_sigint_exits_at_once_with_a_nonzero_code_and_nothing_half_written(hang_grid, hang_single,
                                                                                       redis_url, tmp_path):
    seed(redis_url, hang_grid, tmp_path)
    hang_grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    first = worker(out, hang_grid, redis_url, "w1", logs, CHECK_TIMEOUT="15")
    deadline = time.monotonic() + 60
    while not hang_grid.hosts["hang.org"].starts and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # a commit or two happened (PARQUET_COMMIT_INTERVAL=1)
    first.send_signal(signal.SIGINT)
    time.sleep(0.5)  # draining: waiting for the check that hangs
    started = time.monotonic()
    first.send_signal(signal.SIGINT)
    code = first.wait(10)
    assert code == 128 + signal.SIGINT and time.monotonic() - started < 3
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp") and not p.name.startswith("_part-w1")]
    (logs / "w1.log").rename(logs / "w1-killed.log")
    # Its leases expire (LEASE_TIMEOUT=4) and another worker redoes them.
    assert finish([worker(out, hang_grid, redis_url, "w2", logs)], logs) == [0]
    assert_same_as(Crawl(0, "", {}, out), hang_single)


def test_poisoned_queue_entries_are_dropped_counted_and_never_stall(grid, grid_single, redis_url, tmp_path):
    seed(redis_url, grid, tmp_path)
    server = redis.Redis.from_url(redis_url)
    host = grid.seeds[0].split("/")[2]
    poison = [
        "not json", "{}", '{"url": "http://site0.com/", "_class": "os.system", "callback": "os.system"}',
        '[1, "os.system", 0, 0, "/"]', '[2, "page", 0, 0, "/"]', '[1, "page", -1, 0, "/"]', '[1, "page", 0, 0, "x"]',
        '[1, "page", 0, 0, "/", "DELETE"]', '[1, "page", 0, 0, "/", "GET", 0, [1]]', "[" * 5000,
    ] * 2
    server.rpush(f"prospects:q:{host}", *poison)
    server.rpush("prospects:q:evil host", "[1, \"page\", 0, 0, \"/\"]")
    server.zadd("prospects:ready", {"evil host": 0})
    server.incrby("prospects:queued", len(poison) + 1)
    out, logs = tmp_path / "lake", tmp_path
    started = time.monotonic()
    assert finish([worker(out, grid, redis_url, "w1", logs)], logs) == [0]
    took = time.monotonic() - started
    import json

    stats = json.loads((out / "stats-w1.json").read_text())
    assert stats["frontier/malformed"] == len(poison) + 1
    assert int(server.hget("prospects:dropped", "malformed")) == len(poison) + 1
    assert took < 90  # 21 entries at 5 s each would be 105 s on their own
    assert_same_as(Crawl(0, "", {}, out), grid_single)
    assert "os" not in stats.get("spider_exceptions/count", "")


@pytest.fixture(scope="module")
def polite_grid():
    sites = [Site("site0.com", 6, crawl_delay=1), Site("site1.com", 50), Site("site2.com", 50)]
    with GridWeb(sites, externals=60, ext_hosts=2, latency=0.05) as web:
        yield web


def test_politeness_holds_across_three_workers(polite_grid, redis_url, tmp_path):
    """Per-host concurrency, DOWNLOAD_DELAY-free spacing and robots.txt Crawl-delay hold for the cluster as a
    whole, link checks included (60 distinct targets on each of two external hosts)."""
    seed(redis_url, polite_grid, tmp_path)
    polite_grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    procs = [worker(out, polite_grid, redis_url, f"w{i}", logs, CONCURRENT_REQUESTS_PER_DOMAIN="2") for i in (1, 2, 3)]
    assert finish(procs, logs) == [0, 0, 0]
    hosts = polite_grid.hosts
    assert len(hosts["ext0.org"].starts) >= 30 and len(hosts["site1.com"].starts) >= 50
    for host, record in hosts.items():
        assert record.max_in_flight <= 2, (host, record.max_in_flight)
    assert hosts["site0.com"].max_in_flight == 1
    gaps = polite_grid.gaps("site0.com")
    assert len(gaps) >= 6 and min(gaps) >= 0.95, gaps  # robots.txt fetches of every worker included
    writers = {p.name.split("-")[1] for p in out.glob("pages/*/part-*.parquet")}
    assert len(writers) >= 2  # the work really was shared


def status(redis_url: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "scrapy", "status", "--json"], cwd=REPO,
                          env={**os.environ, "REDIS_URL": redis_url}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_shows_a_running_crawl_and_the_lake_keeps_each_workers_figures(polite_grid, redis_url, tmp_path):
    seed(redis_url, polite_grid, tmp_path, crawl="polite")
    polite_grid.reset()
    out, logs = tmp_path / "lake", tmp_path
    procs = [worker(out, polite_grid, redis_url, f"w{i}", logs) for i in (1, 2)]
    def held_back(s: dict) -> list:  # the host its robots.txt Crawl-delay holds back, while it has pages queued
        return [h for h in s["top_hosts"] if h["host"].startswith("site0.com") and h["crawl_delay_s"] == 1]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = status(redis_url)
        if running["pages"] >= 5 and held_back(running):
            break
        time.sleep(0.2)
    assert running["crawl"] == "polite" and running["workers_alive"] == ["w1", "w2"]
    assert running["pages_per_s"] > 0 and running["queued"] + running["leased"] > 0
    assert held_back(running), running["top_hosts"]
    assert finish(procs, logs) == [0, 0]
    final = status(redis_url)
    lake = Crawl(0, "", {}, out)
    assert (final["queued"], final["leased"], final["workers_alive"]) == (0, 0, [])
    assert final["pages"] == len(lake.table("pages")) and final["checks"] == len(lake.table("checks"))
    runs = lake.table("crawl_stats")
    assert sorted(r["worker"] for r in runs) == ["w1", "w2"] and {r["crawl"] for r in runs} == {"polite"}
    assert sum(r["pages"] for r in runs) == final["pages"] and all(r["finished_at"] > r["started_at"] for r in runs)
    text = subprocess.run([sys.executable, "-m", "scrapy", "status"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "REDIS_URL": redis_url}, timeout=60).stdout
    assert text.startswith("crawl polite (prospects)") and f"done: {final['pages']} pages" in text


def test_embedded_crawl_honours_crawl_delay(polite_grid, tmp_path):
    polite_grid.reset()
    result = run_crawl("prospects", tmp_path, polite_grid, {"seeds": polite_grid.seeds[0]}, {})
    assert result.returncode == 0
    gaps = polite_grid.gaps("site0.com")
    assert len(gaps) >= 6 and min(gaps) >= 0.95, gaps


# --- one machine
def test_embedded_rerun_of_a_crawl_id_replaces_its_partition(grid, grid_single, tmp_path):
    args = {"seeds": ",".join(grid.seeds)}
    for _ in range(2):
        result = run_crawl("prospects", tmp_path, grid, args, {"CRAWL_ID": "same"})
        assert result.returncode == 0
    again = Crawl(0, "", {}, tmp_path)
    assert_same_as(again, grid_single)  # not doubled
    assert "replaced its partition" in result.log


def test_embedded_crawl_commits_periodically_so_a_kill_keeps_what_was_committed(grid, tmp_path):
    from tests.crawling import crawl_command

    grid.reset()
    proc = subprocess.Popen(crawl_command("prospects", tmp_path, grid, {"seeds": ",".join(grid.seeds)},
                                          {"CRAWL_ID": "k", "PARQUET_COMMIT_INTERVAL": "1"}),
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_pages(grid, 200)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    kept = Crawl(0, "", {}, tmp_path)
    assert len(kept.table("pages")) >= 100  # committed before the kill, readable
    assert not list(tmp_path.rglob("part-*.tmp")) and not [p for p in tmp_path.rglob("*.parquet") if p.name.startswith("_")]


def test_embedded_crawl_resumes_from_jobdir_after_sigterm(grid, grid_single, tmp_path):
    from tests.crawling import crawl_command

    grid.reset()
    cmd = crawl_command("prospects", tmp_path / "lake", grid, {"seeds": ",".join(grid.seeds)},
                        {"CRAWL_ID": "j", "JOBDIR": str(tmp_path / "job")})
    (tmp_path / "lake").mkdir()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=open(tmp_path / "first.log", "w"), stderr=subprocess.STDOUT)
    wait_pages(grid, 150)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(40) == 0
    first = Crawl(0, "", {}, tmp_path / "lake")
    assert 0 < len(first.table("pages")) < len(grid_single.table("pages"))
    resumed = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_same_as(Crawl(0, "", {}, tmp_path / "lake"), grid_single)


def test_the_launcher_turns_a_ctrl_c_into_one_sigterm_per_worker(grid, grid_single, redis_url, tmp_path):
    from tests.crawling import crawl_command

    seed(redis_url, grid, tmp_path)
    grid.reset()
    out = tmp_path / "lake"
    options = crawl_command("prospects", out, grid, {}, {**FAST, "LEASE_TIMEOUT": "120"})[5:]  # the -s pairs
    launcher = subprocess.Popen(["bash", "infra/run-workers.sh", "2", *options], cwd=REPO,
                                env={**os.environ, "REDIS_URL": redis_url, "LOG_DIR": str(tmp_path)},
                                start_new_session=True,  # a terminal's foreground job: Ctrl-C hits its whole group
                                # as a terminal starts it: SIGINT not ignored (a shell ignores it in the jobs it puts
                                # in the background, and a shell cannot trap a signal ignored on entry: a test run
                                # started with "&" would otherwise test nothing and fail)
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Ctrl-C while both workers crawl: each has opened its spider (its handler is in place from engine_started on),
    # and early enough that the 400 pages are far from done
    deadline = time.monotonic() + 120
    while not all("Spider opened" in log_text(tmp_path / f"worker-{i}.log") for i in (1, 2)):
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    wait_pages(grid, 40)
    os.killpg(launcher.pid, signal.SIGINT)
    assert launcher.wait(40) == 0
    logs = [(tmp_path / f"worker-{i}.log").read_text() for i in (1, 2)]
    for log in logs:
        assert "SIGTERM received: draining" in log and "second SIG" not in log
    server = redis.Redis.from_url(redis_url)
    assert int(server.get("prospects:leased")) == 0
    assert finish([worker(out, grid, redis_url, "w3", tmp_path)], tmp_path) == [0]
    assert_same_as(Crawl(0, "", {}, out), grid_single)
