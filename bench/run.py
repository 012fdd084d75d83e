"""Benchmark: the prospects crawl against bare Scrapy, stock scrapy-redis and the peer link checkers, in one run.

    .venv/bin/python bench/run.py [--quick] [--json FILE] [--only STAGE,...] [--profile]

Absolute figures drift on a shared 2-core machine, so every figure that matters is a ratio between two runs of the
same session on the same synthetic web (``bench/synthweb.py``, served by nginx and a small dynamic server on
127.0.0.1, ``bench/servers.py``). Stages:

1. ``bare``: a bare Scrapy link-following spider, in-memory scheduler (the baseline, ``bench/bare_spider.py``);
2. ``prospects``: the prospects crawl, embedded (one process, defaults): pages/s, checks/s, RSS as the crawl grows;
   then the same with ``PLACEMENT_ENABLED=False``, the framework's share apart from link placement;
3. ``redis``: the bare spider on stock scrapy-redis, and ``cluster``: the prospects crawl in cluster mode with 1 and
   2 workers: pages/s and the Redis memory of the seen-set per seen URL;
4. ``peers``: linkinator, lychee and LinkChecker checking the peer site, against our crawl of the same site: wall
   time to a complete verdict and agreement with the ground truth (``bench/peers.py``);
5. ``costs``: per-page cost of link extraction, placement and trafilatura; Parquet bytes per link row;
6. ``warc``: WARC ingest pages/s, when a ``warc`` spider exists;
   ``recrawl``: two crawls of the unchanged web into one lake (the first archiving WARC): the second one's
   requests, bytes received and wall time against the first's (conditional GET, reused checks);
7. ``lake``: a synthetic lake of ``--link-rows`` link rows and as many backlinks rows over 3 crawls
   (``bench/synthlake.py``, no web needed), then ``scrapy prospects`` and ``scrapy backlinks-diff`` over it, as a
   user runs them: wall time and peak RSS, on the parts as a crawl writes them and again after ``scrapy compact``;
8. ``profile`` (only with ``--profile`` or ``--only``): the embedded crawl under pyinstrument, folded into costs;
   ``grow`` (only with ``--only``): the embedded crawl alone, defaults, with pages/s for each tenth of the pages
   and RSS as the pages grow: the run to scale up with ``--pages`` (does the cost per page stay flat?).

pages/s is measured between the first and the last page fetched (from the Parquet ``pages`` rows, or the bare
spider's response times), so process start-up and the idle wait of cluster workers are left out on both sides.
Every server started is stopped at the end; all traffic stays on 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import costs, measure, profiling, synthlake  # noqa: E402
from bench import peers as peer_tools  # noqa: E402
from bench.servers import DynamicTargets, Nginx, RedisServer, free_port  # noqa: E402
from bench.synthweb import CLASSES, generate  # noqa: E402
from demo.commands import crawl_command  # noqa: E402

SIZES = {
    "quick": {"pages": 400, "sites": 4, "peer_pages": 30, "link_rows": 200_000},
    "full": {"pages": 5000, "sites": 10, "peer_pages": 200, "link_rows": 10_000_000},
}
CHECK_TIMEOUT = 3  # seconds, for our checker and every peer alike
PEER_CAP = {"quick": 20, "full": 600}  # seconds a peer may take before it is stopped (reported as "> cap")
CONCURRENCY = {"CONCURRENT_REQUESTS": "64", "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}  # the project's defaults
STAGES = ("bare", "prospects", "redis", "cluster", "peers", "costs", "warc", "recrawl", "lake", "profile", "grow")
ON_DEMAND = {"profile", "grow"}  # stages run only when asked for by name
WEBLESS = {"lake"}  # stages that need no synthetic web (nor its servers)
REPORT_REPEATS = 3  # runs of each report over the synthetic lake (the best and every run are recorded)
UNLIMITED = {"max_depth": "1000", "max_pages_per_site": "1000000"}  # crawl the whole synthetic web
ARG_MAX = 131072  # bytes of one command-line argument (Linux's MAX_ARG_STRLEN)


class Bench:
    def __init__(self, args):
        self.args = args
        self.size = dict(SIZES["quick" if args.quick else "full"])
        for key in ("pages", "sites", "peer_pages", "link_rows"):
            if getattr(args, key) is not None:
                self.size[key] = getattr(args, key)
        self.stages = set(args.only.split(",")) if args.only else set(STAGES) - ON_DEMAND
        if args.profile:
            self.stages.add("profile")
        self.started = time.monotonic()
        self.results: dict = {"stages": {}, "notes": []}
        self.tmp = Path(tempfile.mkdtemp(prefix="linkprospector-bench-"))
        self.tmp.chmod(0o755)  # nginx workers run as nobody and must read the web
        self.servers: list = []

    # --- plumbing ------------------------------------------------------------------------------------------------
    def log(self, msg: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s load {os.getloadavg()[0]:.2f}] {msg}", file=sys.stderr, flush=True)

    def setup(self) -> None:
        self.log(f"generating the synthetic web in {self.tmp} ...")
        nginx_port, dynamic_port = free_port(), free_port()
        web_size = {k: self.size[k] for k in ("pages", "sites", "peer_pages")}
        self.web = generate(self.tmp / "web", nginx_port=nginx_port, dynamic_port=dynamic_port, **web_size)
        self.web.root.chmod(0o755)
        self.log(f"web: {self.web.page_count} pages over {len(self.web.sites)} sites "
                 f"({self.web.bytes_written / self.web.page_count / 1024:.0f} KB/page), {len(self.web.targets)} "
                 f"external targets, peer site {self.web.peer_site.pages} pages")
        self.nginx = Nginx(self.web.root, nginx_port, self.tmp / "nginx").start()
        self.servers.append(self.nginx)
        self.dynamic = DynamicTargets(self.web, dynamic_port).start()
        self.servers.append(self.dynamic)
        self.seeds_file = self.tmp / "seeds.txt"
        self.seeds_file.write_text("\n".join(self.web.seeds) + "\n")
        self.dns = SimpleNamespace(dns_overrides=self.web.named_hosts)
        self.crawl_env: dict = {}
        if len(self.web.dns_overrides) > ARG_MAX // 2:
            # One argument may not exceed 128 KiB (Linux's MAX_ARG_STRLEN): a web of ~20,000 pages names more hosts
            # than that. Its names then reach the crawls through a settings module (the project's settings plus
            # DNS_OVERRIDES), which Scrapy loads from SCRAPY_SETTINGS_MODULE.
            module = self.tmp / "bench_settings"
            module.mkdir()
            (module / "linkprospector_bench_settings.py").write_text(
                f"from crawler.settings import *  # noqa: F403\n\nDNS_OVERRIDES = {self.web.named_hosts!r}\n")
            self.crawl_env = {"SCRAPY_SETTINGS_MODULE": "linkprospector_bench_settings",
                              "PYTHONPATH": os.pathsep.join([str(module), str(REPO)])}
            self.dns = SimpleNamespace(dns_overrides={})

    def redis(self) -> RedisServer:
        if not hasattr(self, "_redis"):
            self._redis = RedisServer().start()
            self.servers.append(self._redis)
        return self._redis

    def teardown(self) -> None:
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:  # keep stopping the others
                self.log(f"stopping {type(server).__name__}: {exc}")
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def record(self, name: str, data: dict) -> None:
        self.results["stages"][name] = data
        self.log(f"{name}: {json.dumps({k: v for k, v in data.items() if not isinstance(v, (list, dict))})}")

    # --- crawls --------------------------------------------------------------------------------------------------
    def crawl_timeout(self) -> float:
        """Seconds a crawl of the whole web may take: 30 minutes, more for a web of over 18,000 pages."""
        return max(1800.0, self.size["pages"] / 10)

    def prospects_cmd(self, out: Path, seeds: str | None, stats: Path, **settings) -> list[str]:
        merged = {**CONCURRENCY, "CHECK_TIMEOUT": str(CHECK_TIMEOUT), "LOG_LEVEL": "INFO", "STATS_FILE": str(stats),
                  **{k: str(v) for k, v in settings.items()}}
        args = {**UNLIMITED, **({"seeds": seeds} if seeds else {})}
        cmd = crawl_command("prospects", out, self.dns, args, merged)
        if self.crawl_env:  # the names come from the settings module: drop the empty override
            at = cmd.index("DNS_OVERRIDES=")
            del cmd[at - 1:at + 1]
        return cmd

    def prospects_figures(self, out: Path, runs: list[measure.Run], stats_files: list[Path]) -> dict:
        pages = measure.read_rows(out, "pages", ["url", "fetched_at", "parse_status"])
        checks = measure.read_rows(out, "checks", ["url", "verdict", "checked_at"])
        fetched = sorted(p["fetched_at"] for p in pages if p["fetched_at"] is not None)
        checked = sorted(c["checked_at"] for c in checks)
        judged = [(c["url"], c["verdict"]) for c in checks if self.web.truth_of(c["url"])]
        right = sum(1 for url, verdict in judged if self.web.truth_of(url)[0] == verdict)
        stats = [json.loads(p.read_text()) if p.exists() else {} for p in stats_files]
        first = fetched[0] if fetched else None
        return {
            "pages": len(pages),
            "pages_per_s": round(measure.rate(len(fetched), first, fetched[-1] if fetched else None), 1),
            "checks": len(checks),
            "checks_per_s": round(len(checks) / max(1e-9, (checked[-1] - first).total_seconds()), 1) if checked and first else 0.0,
            "verdict_accuracy": round(right / len(judged), 3) if judged else None,
            "wall_s": round(max(r.wall_s for r in runs), 1),
            "rss_peak_mb": round(max(r.rss_peak_mb for r in runs), 1),
            "rss_quarter_mb": round(max(r.rss_at(0.25) for r in runs), 1),
            "rss_by_pages": measure.rss_by_progress(runs[0], [f.timestamp() for f in fetched]),
            "pages_per_s_by_tenth": measure.rate_by_part(fetched),
            "memusage_max_mb": round(max(s.get("memusage/max", 0) for s in stats) / 2**20, 1),
            "returncodes": [r.returncode for r in runs],
            "load": [round(runs[0].load_before, 2), round(runs[0].load_after, 2)],
            "parquet_link_bytes": measure.parquet_bytes(out, "links"),
            "link_rows": sum(s.get("rows/links", 0) for s in stats),
            "cpu": measure.cpu_figures(runs, len(pages)),
        }

    def stage_bare(self, redis_url: str | None = None, polite: bool = False) -> dict:
        name = "bare_redis" if redis_url else "bare_polite" if polite else "bare"
        work = self.tmp / name
        work.mkdir()
        stats = work / "stats.json"
        cmd = [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"),
               "-a", f"seeds={self.seeds_file}", "-a", f"stats={stats}"]
        settings = {**CONCURRENCY, "TWISTED_DNS_RESOLVER": "crawler.dns.OverrideResolver",
                    "DNS_OVERRIDES": self.web.dns_overrides, "DNS_OVERRIDES_STRICT": "True", "LOG_LEVEL": "INFO",
                    "TELNETCONSOLE_ENABLED": "False", "REMOTE_CONTROL_ENABLED": "False"}
        if polite:  # our downloader: CONCURRENT_REQUESTS_PER_DOMAIN really holds (docs/pitfalls.md §2)
            settings["DOWNLOADER"] = "crawler.downloader.PoliteDownloader"
        if redis_url:  # stock scrapy-redis: its scheduler, dupefilter, priority queue and (pickle) serializer
            settings.update({"SCHEDULER": "scrapy_redis.scheduler.Scheduler", "REDIS_URL": redis_url,
                             "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter", "SCHEDULER_PERSIST": "True"})
            mem0 = self.redis_memory(redis_url, flush=True)
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        # Outside the project folder, so no project setting applies; PYTHONPATH only for the loopback resolver.
        run = measure.run(cmd, cwd=work, env={"PYTHONPATH": str(REPO)}, log=work / "crawl.log", timeout=1800)
        data = json.loads(stats.read_text()) if stats.exists() else {}
        pages = data.get("pages/crawled", 0)
        result = {
            "pages": pages,
            "pages_per_s": round(measure.rate(pages, data.get("bench/first_response"), data.get("bench/last_response")), 1),
            "wall_s": round(run.wall_s, 1), "rss_peak_mb": round(run.rss_peak_mb, 1),
            "returncodes": [run.returncode], "load": [round(run.load_before, 2), round(run.load_after, 2)],
            "cpu": measure.cpu_figures([run], pages),
        }
        if redis_url:
            result.update(self.redis_per_url(redis_url, mem0, "bare:dupefilter"))
        self.record(name, result)
        return result

    def redis_commands(self, url: str) -> int:
        """Round trips of the frontier so far: script calls (each protocol step is one script; the commands a
        script runs inside Redis are not round trips). Per-worker set-up calls (a handful) are left out."""
        import redis

        stats = redis.Redis.from_url(url).info("commandstats")
        return sum(int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval"))

    def redis_memory(self, url: str, flush: bool = False) -> int:
        import redis

        server = redis.Redis.from_url(url)
        if flush:
            server.flushall()
        return int(server.info("memory")["used_memory"])

    def redis_per_url(self, url: str, mem0: int, dupefilter_key: str) -> dict:
        """What the seen-set costs in Redis: a SET of fingerprints (scrapy-redis) or Bloom bitmap shards plus a
        ``:count`` key (crawler/frontier/bloom.py), found by name."""
        import redis

        server = redis.Redis.from_url(url)
        keys = [k for k in server.scan_iter(f"{dupefilter_key}*", count=1000)]
        key_bytes = sum(server.memory_usage(k, samples=0) or 0 for k in keys)
        if server.type(dupefilter_key) == b"set":
            seen = server.scard(dupefilter_key)
        else:
            seen = int(server.get(f"{dupefilter_key}:count") or 0)
        grown = self.redis_memory(url) - mem0  # everything the crawl left in Redis (allocator view)
        per = lambda n: round(n / seen, 1) if seen else None  # noqa: E731
        return {"seen_urls": seen, "dupefilter_keys": len(keys), "dupefilter_bytes": key_bytes,
                "redis_bytes_per_url": per(key_bytes), "used_memory_growth": grown, "used_memory_per_url": per(grown)}

    def stage_prospects(self, name: str = "prospects", **settings) -> dict:
        out = self.tmp / name
        out.mkdir()
        stats = out / "stats.json"
        self.dynamic.reset()
        run = measure.run(self.prospects_cmd(out, str(self.seeds_file), stats, **settings), cwd=REPO,
                          env=self.crawl_env, log=out / "crawl.log", timeout=self.crawl_timeout())
        result = self.prospects_figures(out, [run], [stats])
        self.record(name, result)
        return result

    def stage_cluster(self, workers: int, suffix: str = "", **settings) -> dict:
        name = f"cluster{workers}{suffix}"
        out = self.tmp / name
        out.mkdir()
        redis_url = f"{self.redis().url}/0"
        env = {"REDIS_URL": redis_url, **self.crawl_env}
        mem0 = self.redis_memory(redis_url, flush=True)
        # A Bloom dupefilter (crawler/frontier/bloom.py) is sized for DUPEFILTER_CAPACITY URLs when the crawl is
        # seeded and allocated at once: size it for this crawl (twice the URLs the embedded crawl saw), as its
        # docstring asks of users.
        embedded = self.results["stages"].get("prospects") or {}
        capacity = 2 * (embedded.get("pages", 0) + embedded.get("checks", 0)) or 4 * self.web.page_count
        seeded = subprocess.run([sys.executable, "-m", "scrapy", "seed", "prospects", str(self.seeds_file), "--crawl", name,
                                 "-s", f"DUPEFILTER_CAPACITY={capacity}"],
                                cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        if seeded.returncode != 0:
            raise RuntimeError(f"scrapy seed failed: {seeded.stderr[-1000:]}")
        self.dynamic.reset()
        stats = [out / f"stats-w{i}.json" for i in range(workers)]
        cmds = [self.prospects_cmd(out, None, stats[i], WORKER_ID=f"w{i}", MAX_IDLE_TIME_BEFORE_CLOSE=2, **settings)
                for i in range(workers)]
        redis0 = self.redis_commands(redis_url)
        runs = measure.run_all(cmds, cwd=REPO, env=env, logs=[out / f"w{i}.log" for i in range(workers)], timeout=1800)
        figures = self.prospects_figures(out, runs, stats)
        requests = figures.get("pages", 0) + figures.get("checks", 0)
        result = {**figures, **self.redis_per_url(redis_url, mem0, "prospects:dupefilter"),
                  "dupefilter_capacity": capacity,
                  "redis_calls_per_request": round((self.redis_commands(redis_url) - redis0) / max(requests, 1), 3)}
        self.record(name, result)
        return result

    # --- peers ---------------------------------------------------------------------------------------------------
    def stage_peers(self) -> dict:
        web = self.web
        truth = web.peer_truth()
        classes = {u: (web.targets[u].cls.name if u in web.targets else "site_page") for u in truth}
        results: dict = {"truth_targets": len(truth),
                         "truth_classes": {c.name: sum(1 for u in truth if web.targets.get(u) and web.targets[u].cls is c)
                                           for c in CLASSES}}
        work = self.tmp / "peers"
        work.mkdir()
        # Ours first: the prospects crawl of the peer site alone, defaults but the shared timeout.
        out = work / "prospects"
        out.mkdir()
        self.dynamic.reset()
        stats = out / "stats.json"
        run = measure.run(self.prospects_cmd(out, web.peer_seed, stats), cwd=REPO, env=self.crawl_env, log=out / "crawl.log",
                          timeout=900)
        rows = measure.read_rows(out, "checks", ["url", "verdict", "reason", "checked_at"])
        found = {r["url"]: r["verdict"] for r in rows}
        pages = len(measure.read_rows(out, "pages", ["url"]))
        # Our retries on a host that never answers (HEAD, GET, 2 backed-off retries: ~5x the timeout) end the run;
        # when every other verdict was in tells what the retry policy costs apart from the crawl.
        others = [r["checked_at"].timestamp() for r in rows if r["reason"] != "timeout"]
        results["prospects"] = {"wall_s": round(run.wall_s, 1), "pages": pages, "returncode": run.returncode,
                                "all_but_timeouts_s": round(max(others) - run.started_at, 1) if others else None,
                                **peer_tools.score(found, truth, classes)}
        self.log(f"peers: prospects {results['prospects']}")

        hosts, resolv = work / "hosts", work / "resolv.conf"
        hosts.write_text(web.hosts_file())
        resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        hosts.chmod(0o644)
        resolv.chmod(0o644)
        pages_file = work / "pages.txt"
        pages_file.write_text("\n".join(web.site_pages(web.peer_site)) + "\n")
        for name, peer in peer_tools.install(self.log).items():
            if peer.problem:
                results[name] = {"problem": peer.problem}
                self.log(f"peers: {name}: {peer.problem}")
                continue
            self.dynamic.reset()
            output, stdout = work / f"{name}.json", work / f"{name}.out"
            cmd = peer_tools.namespaced(peer_tools.command(peer, seed=web.peer_seed, pages_file=pages_file, output=output,
                                                           timeout_s=CHECK_TIMEOUT), hosts, resolv)
            cap = PEER_CAP["quick" if self.args.quick else "full"]
            run = measure.run(cmd, cwd=work, log=work / f"{name}.log", timeout=cap, stdout=stdout)
            if run.timed_out:
                results[name] = {"version": peer.version, "wall_s": round(run.wall_s, 1), "timed_out": True,
                                 "problem": f"no complete verdict within {cap} s (stopped)"}
                self.log(f"peers: {name} {results[name]}")
                continue
            try:
                found = peer_tools.verdicts(peer, stdout.read_text(errors="replace"), output)
            except (ValueError, OSError) as exc:
                results[name] = {"problem": f"could not read its output: {exc}", "wall_s": round(run.wall_s, 1)}
                continue
            results[name] = {"version": peer.version, "wall_s": round(run.wall_s, 1), "returncode": run.returncode,
                             "timed_out": run.timed_out, "urls_reported": len(found), **peer_tools.score(found, truth, classes)}
            self.log(f"peers: {name} {results[name]}")
        self.record("peers", results)
        return results

    # --- per-page costs and WARC ---------------------------------------------------------------------------------
    def stage_costs(self) -> dict:
        count = 60 if self.args.quick else 300
        pages = costs.sample_pages(self.web.root, [s.host for s in self.web.sites], self.web.nginx_port, count)
        result = costs.page_costs(pages)
        prospects = self.results["stages"].get("prospects") or {}
        if prospects.get("link_rows"):
            result["parquet_bytes_per_link_row"] = round(prospects["parquet_link_bytes"] / prospects["link_rows"], 1)
            result.update(costs.buffered_row_bytes(self.tmp / "prospects" / "links"))
        self.record("costs", result)
        return result

    def stage_warc(self) -> dict:
        """Archive one site's crawl as WARC (``WARC_ENABLED``), then ingest it with ``scrapy crawl warc``."""
        if not (REPO / "crawler" / "spiders" / "warc.py").exists():
            result = {"problem": "not available: no `warc` spider in this tree yet (scrapy crawl warc -a paths=...)"}
            self.record("warc", result)
            return result
        out = self.tmp / "warc"
        out.mkdir()
        self.dynamic.reset()
        archived = measure.run(self.prospects_cmd(out / "crawl", self.web.seeds[0], out / "crawl-stats.json", WARC_ENABLED="True"),
                               cwd=REPO, env=self.crawl_env, log=out / "crawl.log", timeout=self.crawl_timeout())
        warcs = sorted((out / "crawl" / "warc").rglob("*.warc.gz"))
        if archived.returncode != 0 or not warcs:
            result = {"problem": f"the archiving crawl wrote no WARC file (exit {archived.returncode})"}
            self.record("warc", result)
            return result
        stats = out / "ingest-stats.json"
        cmd = [sys.executable, "-m", "scrapy", "crawl", "warc", "-a", "paths=" + ",".join(map(str, warcs)),
               "-s", f"OUTPUT_URI={out / 'ingest'}", "-s", f"STATS_FILE={stats}", "-s", "LOG_LEVEL=INFO"]
        run = measure.run(cmd, cwd=REPO, log=out / "ingest.log", timeout=1800)
        data = json.loads(stats.read_text()) if stats.exists() else {}
        pages = measure.read_rows(out / "ingest", "pages", ["url"])
        result = {"pages": len(pages), "wall_s": round(run.wall_s, 1), "returncode": run.returncode,
                  "pages_per_s": data.get("pages/per_second"), "rss_peak_mb": round(run.rss_peak_mb, 1),
                  "warc_bytes": sum(p.stat().st_size for p in warcs)}
        self.record("warc", result)
        return result

    def stage_recrawl(self) -> dict:
        """Each crawl builds on the last (crawler/recrawl.py): crawl the web twice into one lake, unchanged, the
        first crawl archiving its pages (WARC_ENABLED, so that the second can ask them conditionally)."""
        out = self.tmp / "recrawl"
        out.mkdir()
        result: dict = {}
        for crawl in ("first", "second"):
            stats = out / f"{crawl}-stats.json"
            self.dynamic.reset()
            run = measure.run(self.prospects_cmd(out / "lake", str(self.seeds_file), stats, WARC_ENABLED="True",
                                                 CRAWL_ID=crawl), cwd=REPO, env=self.crawl_env, log=out / f"{crawl}.log",
                              timeout=self.crawl_timeout())
            data = json.loads(stats.read_text()) if stats.exists() else {}
            fetched = sorted(p["fetched_at"] for p in measure.read_rows(out / "lake", "pages", ["fetched_at", "crawl"])
                             if p["crawl"] == crawl and p["fetched_at"] is not None)
            result[crawl] = {
                "returncode": run.returncode, "wall_s": round(run.wall_s, 1),
                # first to last page: what the pages cost, apart from start-up and the slowest link checks
                "pages_span_s": round((fetched[-1] - fetched[0]).total_seconds(), 1) if fetched else None,
                "pages": data.get("pages/crawled", 0), "checks": data.get("checks/done", 0),
                "requests": data.get("downloader/request_count", 0),
                "response_bytes": data.get("downloader/response_bytes", 0),
                "answers_200": data.get("downloader/response_status_count/200", 0),
                "answers_304": data.get("downloader/response_status_count/304", 0),
                "pages_unchanged": data.get("pages/unchanged", 0), "checks_reused": data.get("checks/reused", 0),
                "earlier_load_s": data.get("recrawl/load_seconds"), "earlier_bytes": data.get("recrawl/earlier_bytes"),
                "rss_peak_mb": round(run.rss_peak_mb, 1),
            }
        first, second = result["first"], result["second"]
        for key in ("requests", "response_bytes", "wall_s", "pages_span_s"):
            result[f"{key}_second_vs_first"] = _ratio(second[key], first[key])
        self.record("recrawl", result)
        return result

    def stage_lake(self) -> dict:
        """The reports over a lake of ``link_rows`` link rows (``bench/synthlake.py``): each report, as a user runs
        it, ``REPORT_REPEATS`` times over the parts as the crawl wrote them, then again after ``scrapy compact``."""
        root = self.tmp / "lake"
        started, load = time.monotonic(), os.getloadavg()[0]
        lake = synthlake.generate_lake(root, link_rows=self.size["link_rows"], log=self.log)
        result: dict = {
            "link_rows": lake.link_rows, "pages": lake.pages, "sites": lake.sites, "checks": lake.checks,
            "broken_targets": lake.broken_targets, "backlink_rows": lake.backlink_rows, "crawls": len(lake.crawls),
            "generate_s": round(time.monotonic() - started, 1),
            "generate_load": [round(load, 2), round(os.getloadavg()[0], 2)],
            "files": lake.files, "mb": {t: round(b / 2**20, 1) for t, b in lake.bytes.items()},
            "bytes_per_link_row": round(lake.bytes["links"] / max(lake.link_rows, 1), 1),
        }
        self.log(f"lake: {json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)})}")
        result["as_crawled"] = self.time_reports(root, "crawled")
        compacted = []
        for crawl in lake.crawls:  # every crawl of every table, as a user who compacts after each crawl has them
            cmd = [sys.executable, "-m", "scrapy", "compact", str(root), "--crawl", crawl]
            compacted.append(measure.run(cmd, cwd=REPO, log=self.tmp / f"lake-compact-{crawl}.log", timeout=3600))
        result["compact"] = {"wall_s": round(sum(r.wall_s for r in compacted), 1),
                             "rss_peak_mb": round(max(r.rss_peak_mb for r in compacted), 1),
                             "returncodes": [r.returncode for r in compacted],
                             "load": [round(compacted[0].load_before, 2), round(compacted[-1].load_after, 2)],
                             "files": {t: len(list((root / t).rglob("*.parquet"))) for t in lake.files}}
        result["compacted"] = self.time_reports(root, "compacted")
        self.record("lake", result)
        return result

    def time_reports(self, root: Path, label: str) -> dict:
        """``scrapy prospects`` and ``scrapy backlinks-diff`` over ``root``, in a subprocess each, as typed."""
        work = self.tmp / f"lake-{label}"
        work.mkdir()
        out: dict = {}
        for name in ("prospects", "backlinks-diff"):
            cmd = [sys.executable, "-m", "scrapy", name, str(root)]
            runs = [measure.run(cmd, cwd=REPO, log=work / f"{name}-{i}.log", stdout=work / f"{name}-{i}.out",
                                timeout=1800) for i in range(REPORT_REPEATS)]
            summary = (work / f"{name}-0.out").read_text().split("\n", 1)[0]
            out[name] = {"wall_s": [round(r.wall_s, 2) for r in runs], "best_s": round(min(r.wall_s for r in runs), 2),
                         "rss_peak_mb": round(max(r.rss_peak_mb for r in runs), 1),
                         "returncodes": [r.returncode for r in runs],
                         "load": [round(r.load_before, 2) for r in runs], "summary": summary}
            self.log(f"lake ({label}): {name} {json.dumps(out[name])}")
        return out

    def stage_grow(self) -> dict:
        """The embedded crawl alone (defaults): with ``--pages 50000``, whether pages/s and RSS stay flat."""
        return self.stage_prospects("grow")

    def stage_profile(self) -> dict:
        """The embedded crawl again, under pyinstrument (installed into the venv by hand: it is not a dependency)."""
        if importlib.util.find_spec("pyinstrument") is None:
            result = {"problem": "not available: .venv/bin/pip install pyinstrument"}
            self.record("profile", result)
            return result
        out = self.tmp / "profile"
        out.mkdir()
        report = out / "profile.json"
        cmd = self.prospects_cmd(out, str(self.seeds_file), out / "stats.json")
        cmd = [cmd[0], "-m", "pyinstrument", "-r", "json", "-o", str(report), *cmd[1:]]
        self.dynamic.reset()
        run = measure.run(cmd, cwd=REPO, env=self.crawl_env, log=out / "crawl.log", timeout=max(3600, self.crawl_timeout()))
        if not report.exists():
            result = {"problem": f"pyinstrument wrote no profile (exit {run.returncode})"}
        else:
            result = profiling.summarize(report)
            if self.args.json:
                shutil.copy(report, self.args.json.with_suffix(".profile.json"))
        self.record("profile", result)
        return result

    # --- the whole run -------------------------------------------------------------------------------------------
    def run(self) -> dict:
        self.results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                                   "load_start": [round(x, 2) for x in os.getloadavg()]}
        self.results["size"] = {"mode": "quick" if self.args.quick else "full", **self.size,
                                "check_timeout_s": CHECK_TIMEOUT}
        if self.stages - WEBLESS:
            self.setup()
            self.results["size"].update(external_targets=len(self.web.targets),
                                        page_kb=round(self.web.bytes_written / self.web.page_count / 1024, 1))
        plan = [
            ("bare", lambda: (self.stage_bare(), self.stage_bare(polite=True))),
            ("prospects", lambda: (self.stage_prospects(),
                                   # pages parsed in the crawl process, then in one parse process: the pool's curve
                                   self.stage_prospects("prospects_parse0", PARSE_WORKERS="0"),
                                   self.stage_prospects("prospects_parse1", PARSE_WORKERS="1"),
                                   # the same crawl without link placement: the framework's share apart from it
                                   self.stage_prospects("prospects_noplacement", PLACEMENT_ENABLED="False"))),
            ("redis", lambda: self.stage_bare(f"{self.redis().url}/1")),
            ("cluster", lambda: (self.stage_cluster(1), self.stage_cluster(2),
                                 # one core per worker (pages parsed in the worker): how workers scale when one
                                 # worker does not already take every core with its parse pool
                                 self.stage_cluster(1, "_parse0", PARSE_WORKERS="0"),
                                 self.stage_cluster(2, "_parse0", PARSE_WORKERS="0"))),
            ("peers", self.stage_peers),
            ("costs", self.stage_costs),
            ("warc", self.stage_warc),
            ("recrawl", self.stage_recrawl),
            ("lake", self.stage_lake),
            ("profile", self.stage_profile),
            ("grow", self.stage_grow),
        ]
        for name, fn in plan:
            if name not in self.stages:
                continue
            try:
                fn()
            except Exception as exc:  # one broken stage must not lose the others' figures
                self.log(f"stage {name} failed: {exc}\n{traceback.format_exc()}")
                self.results["stages"].setdefault(name, {"problem": f"failed: {type(exc).__name__}: {exc}"[:300]})
        self.results["machine"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
        self.results["elapsed_s"] = round(time.monotonic() - self.started, 1)
        self.results["ratios"] = ratios(self.results["stages"])
        return self.results


def _ratio(a, b) -> float | None:
    return round(a / b, 2) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None


def ratios(stages: dict) -> dict:
    get = lambda stage, key: (stages.get(stage) or {}).get(key)  # noqa: E731
    out = {
        "prospects_vs_bare": _ratio(get("prospects", "pages_per_s"), get("bare", "pages_per_s")),
        "prospects_vs_bare_polite": _ratio(get("prospects", "pages_per_s"), get("bare_polite", "pages_per_s")),
        "parse2_vs_parse1": _ratio(get("prospects", "pages_per_s"), get("prospects_parse1", "pages_per_s")),
        "parse1_vs_parse0": _ratio(get("prospects_parse1", "pages_per_s"), get("prospects_parse0", "pages_per_s")),
        "prospects_noplacement_vs_bare": _ratio(get("prospects_noplacement", "pages_per_s"), get("bare", "pages_per_s")),
        "cluster1_vs_embedded": _ratio(get("cluster1", "pages_per_s"), get("prospects", "pages_per_s")),
        "cluster2_vs_cluster1": _ratio(get("cluster2", "pages_per_s"), get("cluster1", "pages_per_s")),
        "cluster2_vs_cluster1_parse0": _ratio(get("cluster2_parse0", "pages_per_s"), get("cluster1_parse0", "pages_per_s")),
        "scrapy_redis_vs_bare": _ratio(get("bare_redis", "pages_per_s"), get("bare", "pages_per_s")),
        "cluster1_vs_scrapy_redis": _ratio(get("cluster1", "pages_per_s"), get("bare_redis", "pages_per_s")),
    }
    peers = stages.get("peers") or {}
    ours = (peers.get("prospects") or {}).get("wall_s")
    for name in ("linkinator", "lychee", "linkchecker"):
        peer = peers.get(name) or {}
        out[f"{name}_wall_vs_prospects"] = _ratio(peer.get("wall_s"), ours)  # with "timed_out": a lower bound
    return out


def markdown(results: dict) -> str:
    s = results["stages"]
    size = results["size"]
    lines = [
        f"Benchmark ({size['mode']}): {size['pages']} pages over {size['sites']} sites, ~{size.get('page_kb', '?')} KB/page, "
        f"{size.get('external_targets', '?')} external targets; peer site {size['peer_pages']} pages; "
        f"{results['machine']['cpus']} CPUs, load {results['machine']['load_start'][0]} -> {results['machine']['load_end'][0]}; "
        f"run took {results['elapsed_s']} s.",
        "",
        "| run | pages | pages/s | checks/s | wall s | peak RSS MB | Redis B/URL | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    labels = {"bare": "bare Scrapy, in memory", "bare_polite": "bare Scrapy, our downloader (per-host limit holds)",
              "prospects": "prospects, embedded (PARSE_WORKERS = cores)",
              "prospects_parse0": "prospects, embedded, PARSE_WORKERS=0",
              "prospects_parse1": "prospects, embedded, PARSE_WORKERS=1",
              "prospects_noplacement": "prospects, embedded, placement off", "bare_redis": "bare Scrapy on scrapy-redis",
              "cluster1": "prospects, cluster, 1 worker", "cluster2": "prospects, cluster, 2 workers",
              "cluster1_parse0": "prospects, cluster, 1 worker, PARSE_WORKERS=0",
              "cluster2_parse0": "prospects, cluster, 2 workers, PARSE_WORKERS=0"}
    for key, label in labels.items():
        r = s.get(key)
        if r is None:
            continue
        if "problem" in r:
            lines.append(f"| {label} | | | | | | | {r['problem']} |")
            continue
        notes = []
        if r.get("verdict_accuracy") is not None:
            notes.append(f"verdicts right {r['verdict_accuracy']:.1%}")
        if r.get("used_memory_per_url") is not None:
            notes.append(f"Redis used_memory growth {r['used_memory_per_url']} B/URL")
        if r.get("redis_calls_per_request") is not None:
            notes.append(f"{r['redis_calls_per_request']} Redis round trips per request")
        if r.get("rss_quarter_mb"):
            notes.append(f"RSS at 1/4 time {r['rss_quarter_mb']} MB")
        if any(r.get("returncodes", [0])):
            notes.append(f"exit {r['returncodes']}")
        notes.append(f"load {r['load'][0]}->{r['load'][1]}")
        lines.append(f"| {label} | {r['pages']} | {r['pages_per_s']} | {r.get('checks_per_s', '')} | {r['wall_s']} | "
                     f"{r['rss_peak_mb']} | {r.get('redis_bytes_per_url') or ''} | {'; '.join(notes)} |")
    cpu_rows = [(labels[key], s[key]["cpu"]) for key in labels if (s.get(key) or {}).get("cpu")]
    if cpu_rows:
        lines += ["", "CPU per page, whole run (ms of CPU time; the machine's cores are the bound once none idle):", "",
                  "| run | crawl process | parse pool | rest of the machine (web servers, bench) | all | cores idle |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {label} | {c['crawl_ms']} | {c['pool_ms']} | {c['rest_ms']} | {c['machine_ms']} | "
                  f"{c['idle_share']:.0%} |" for label, c in cpu_rows]
    peers = s.get("peers")
    if peers:
        lines += ["", f"Peer site: {peers.get('truth_targets')} external targets with ground truth, same "
                      f"{results['size']['check_timeout_s']} s timeout for every tool.", "",
                  "| tool | wall s | agreement | broken/not agreement | false broken | missed broken | not reported | disagreements (class->verdict x n) |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for name in ("prospects", "linkinator", "lychee", "linkchecker"):
            r = peers.get(name) or {}
            if r.get("timed_out"):
                lines.append(f"| {name} {r.get('version') or ''} | > {r['wall_s']} | | | | | | {r['problem']} |")
            elif "problem" in r:
                lines.append(f"| {name} | | | | | | | {r['problem']} |")
            elif r:
                label = f"{name} {r.get('version') or ''}".strip()
                wrong = ", ".join(f"{k} x{v}" for k, v in (r.get("wrong") or {}).items()) or "none"
                lines.append(f"| {label} | {r['wall_s']} | {r['agreement']:.1%} | {r['broken_agreement']:.1%} | "
                             f"{r['false_broken']} | {r['missed_broken']} | {r['not_reported']} | {wrong} |")
    c = s.get("costs")
    if c:
        fmt = lambda v: f"{v:.2f} ms" if isinstance(v, float) else str(v)  # noqa: E731
        lines += ["", f"Per-page cost (median of {c.get('pages')} pages of ~{c.get('page_kb')} KB, "
                      f"{c.get('links_per_page')} links each): parse {fmt(c.get('parse_ms'))}, facts + links "
                      f"{fmt(c.get('links_ms'))}, placement {fmt(c.get('placement_ms'))}, placement with main content "
                      f"{fmt(c.get('placement_main_ms'))}, trafilatura {fmt(c.get('trafilatura_ms'))}; Parquet "
                      f"{c.get('parquet_bytes_per_link_row', '?')} bytes per link row on disk; a link row waiting in the writer's "
                      f"buffer takes {c.get('link_row_dict_bytes', '?')} bytes as a dict, "
                      f"{c.get('link_row_arrow_bytes', '?')} as Arrow columns."]
    w = s.get("warc")
    if w:
        lines += ["", "WARC ingest: " + (w["problem"] if "problem" in w else
                                        f"{w['pages']} pages, {w['pages_per_s']} pages/s (spider open to close), {w['wall_s']} s "
                                        f"with start-up, from {w['warc_bytes'] / 2**20:.1f} MiB of WARC")]
    lake = s.get("lake")
    if lake:
        lines += ["", lake_markdown(lake)]
    g = s.get("grow")
    if g:
        lines += ["", "Embedded crawl, defaults: " + (g["problem"] if "problem" in g else
                  f"{g['pages']} pages, {g['pages_per_s']} pages/s (by tenth of the pages: "
                  f"{', '.join(map(str, g.get('pages_per_s_by_tenth') or []))}), peak RSS {g['rss_peak_mb']} MB; "
                  f"RSS by pages done: {', '.join(f'{n}: {mb}' for n, mb in g.get('rss_by_pages') or [])}; "
                  f"load {g['load'][0]}->{g['load'][1]}")]
    p = s.get("profile")
    if p:
        lines += ["", p["problem"] if "problem" in p else profiling.markdown(p)]
    lines += ["", "Ratios: " + ", ".join(f"{k} {v}" for k, v in results["ratios"].items() if v is not None)]
    return "\n".join(lines)


def lake_markdown(lake: dict) -> str:
    if "problem" in lake:
        return f"Reports over a synthetic lake: {lake['problem']}"
    lines = [f"Reports over a synthetic lake: {lake['link_rows']:,} link rows ({lake['pages']:,} pages, {lake['sites']:,} "
             f"sites, {lake['checks']:,} checks, {lake['broken_targets']:,} broken), {lake['backlink_rows']:,} backlinks "
             f"rows over {lake['crawls']} crawls; {lake['mb'].get('links')} MB of links "
             f"({lake['bytes_per_link_row']} B/row), written in {lake['generate_s']} s.", "",
             "| lake | report | best s | every run s | peak RSS MB | load at start |", "|---|---|---:|---|---:|---|"]
    for label in ("as_crawled", "compacted"):
        for name, r in (lake.get(label) or {}).items():
            lines.append(f"| {label.replace('_', ' ')} | {name} | {r['best_s']} | {', '.join(map(str, r['wall_s']))} | "
                         f"{r['rss_peak_mb']} | {', '.join(map(str, r['load']))} |")
    c = lake.get("compact")
    if c:
        lines += ["", f"`scrapy compact` of every crawl: {c['wall_s']} s, peak RSS {c['rss_peak_mb']} MB, "
                      f"files after: {c['files']}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"small web ({SIZES['quick']['pages']} pages), under 3 minutes")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--only", help=f"comma-separated stages among {','.join(STAGES)}")
    parser.add_argument("--pages", type=int, help="pages of the throughput sites (overrides the mode's size)")
    parser.add_argument("--sites", type=int, help="throughput sites")
    parser.add_argument("--peer-pages", type=int, help="pages of the site the peers check")
    parser.add_argument("--link-rows", type=int, help="link rows of the synthetic lake (stage lake; default "
                        f"{SIZES['full']['link_rows']:,}, {SIZES['quick']['link_rows']:,} with --quick)")
    parser.add_argument("--profile", action="store_true", help="also profile the embedded crawl (needs pyinstrument)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (web, logs, outputs)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill still stops every server (finally below)
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        bench.teardown()
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
