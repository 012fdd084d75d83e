"""Tasks for the parse pool's tests (module-level, so a pool process can import them by name)."""

from __future__ import annotations

import os
import time


def double(x: int) -> int:
    return 2 * x


def hang(_what: str) -> None:
    """A task that never ends: a pathological page, or a pool that stopped answering."""
    while True:
        time.sleep(1)


def hang_once(marker: str) -> str:
    """Hangs the first time (``marker`` not yet there), answers the next: a pool hung once, then replaced."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        hang(marker)
    return "answered"


def fails(message: str) -> None:
    raise ValueError(message)


def answers_with_a_callable(_what: str):
    """An answer naming a function (as a subverted pool process could): the crawl process must refuse to load it."""
    return os.getcwd
