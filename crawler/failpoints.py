"""Failpoints: named places where a test can make this process die as ``kill -9`` would, to check that a crash in
that exact moment loses nothing and duplicates nothing (the technique of FreeBSD's fail(9) and TiKV's fail-rs).

Off unless the environment variable ``LINKPROSPECTOR_FAILPOINT`` is ``<name>`` or ``<name>@<n>`` (die at the
n-th time the point is reached, default the first). Only the tests set it; reading one variable costs nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "LINKPROSPECTOR_FAILPOINT"
_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    wanted, _, nth = spec.partition("@")
    if wanted != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
