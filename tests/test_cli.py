"""The `linkprospector` command from outside the repository: bad input is one line and exit 2, `check` exits 1 on
broken links, settings come from a TOML file, the environment and -s in that order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.urls import normalize_url

CLI = str(Path(sys.executable).parent / "linkprospector")


def cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def web_settings(web) -> list[str]:
    overrides = ",".join(f"{h}={ip}" for h, ip in web.dns_overrides.items())
    return ["-s", f"DNS_OVERRIDES={overrides}", "-s", "DNS_OVERRIDES_STRICT=True", "-s", "CHECK_TIMEOUT=2",
            "-s", "CHECK_BACKOFF=0.2", "-s", "CHECK_RETRY_AFTER_MAX=3", "-s", "DOWNLOAD_TIMEOUT=5"]


def test_bad_input_is_one_line_naming_it_and_exit_2(tmp_path):
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    (tmp_path / "mailto.txt").write_text("mailto:me@example.com\n")
    (tmp_path / "bad.csv").write_text("url,anchor\nhttp://a.com/,x\n")
    cases = [
        (["crawl", "prospects", "-a", "seeds=missing.txt"], "-a seeds=missing.txt: no seed file"),
        (["crawl", "prospects", "-a", "seeds=empty.txt"], "-a seeds=empty.txt: no usable entry"),
        (["crawl", "prospects", "-a", "seeds=mailto.txt"], "unsupported scheme 'mailto'"),
        (["crawl", "prospects", "-a", "seeds=a.com", "-a", "max_depth=abc"], "-a max_depth='abc': expected a whole number"),
        (["crawl", "prospects", "-a", "seeds=a.com", "-a", "max_pages_per_site=-1"], "max_pages_per_site='-1'"),
        (["crawl", "backlinks", "-a", "input=bad.csv"], "-a input=bad.csv:"),
        (["crawl", "warc", "-a", "paths=nothing/*.warc.gz"], "-a paths=nothing/*.warc.gz:"),
        (["crawl", "nope"], "no spider 'nope'"),
        (["check", "mailto:me@example.com"], "URL 'mailto:me@example.com'"),
        (["prospects", str(tmp_path / "no-lake")], "no checks table"),
        (["export", str(tmp_path / "no-lake"), "html", "-o", "r.html"], "no links table"),
        (["export", str(tmp_path), "pdf", "-o", "r.pdf"], "one of: broken-links"),
    ]
    for args, message in cases:
        done = cli(*args, cwd=tmp_path)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1 and message in lines[0], (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr + done.stdout


def test_check_lists_broken_links_and_fails_on_them(web, tmp_path):
    web.reset_counters()
    web.version = 1
    site = web.seeds[0]
    done = cli("check", site, "--depth", "1", *web_settings(web), cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[-1].endswith("unknown (could not tell: check again)") and " broken links, " in lines[-1]
    broken = [line for line in lines if "] BROKEN " in line]
    assert broken and all(line.startswith("[") for line in broken)
    as_json = cli("check", site, "--depth", "1", "--format", "json", "--fail-on", "none", *web_settings(web),
                  cwd=tmp_path)
    assert as_json.returncode == 0
    rows = json.loads(as_json.stdout)
    assert len([r for r in rows if r["verdict"] == "broken"]) == len(broken)
    expected = {u for u, (v, _) in web.expected_checks.items() if v == "broken"}
    assert {r["target_url"] for r in rows if r["verdict"] == "broken" and r["external"]} <= expected
    clean = cli("check", normalize_url(web.url("ok-resource.com", "/")), *web_settings(web), cwd=tmp_path)
    assert clean.returncode == 0 and " 0 broken links, " in clean.stdout, clean.stderr[-2000:]
    gone = cli("check", "http://no-such-host.com/", *web_settings(web), cwd=tmp_path)
    assert gone.returncode == 1 and "no page fetched" in gone.stderr


def test_settings_come_from_toml_then_environment_then_the_command_line(tmp_path):
    (tmp_path / "linkprospector.toml").write_text('[settings]\nOUTPUT_URI = "from-toml"\nCONCURRENT_REQUESTS = 3\n')

    def get(name: str, *extra: str, env: dict | None = None) -> str:
        done = cli("settings", "--get", name, *extra, cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert get("OUTPUT_URI") == "from-toml" and get("CONCURRENT_REQUESTS") == "3"
    assert get("OUTPUT_URI", env={"LINKPROSPECTOR_OUTPUT_URI": "from-env"}) == "from-env"
    assert get("OUTPUT_URI", "-s", "OUTPUT_URI=from-flag", env={"LINKPROSPECTOR_OUTPUT_URI": "from-env"}) == "from-flag"
    (tmp_path / "other.toml").write_text("[settings]\nOUTPUT_URI = 'other'\n")
    assert get("OUTPUT_URI", "--config", "other.toml") == "other"
    broken = cli("settings", "--get", "X", "--config", "missing.toml", cwd=tmp_path)
    assert broken.returncode == 1 and len(broken.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["crawl", "export", "status", "compact", "seed", "check"])
def test_every_command_has_help_outside_the_repository(command, tmp_path):
    done = cli(command, "-h", cwd=tmp_path)
    assert done.returncode == 0 and "Usage" in done.stdout
    if command == "crawl":
        assert "-a max_depth=" in done.stdout and "-a paths=" in done.stdout
