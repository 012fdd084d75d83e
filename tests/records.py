"""Rows for unit tests that need only a few of a record's fields: the rest are filled with plain values of their
type, so a test says what it is about and still passes a real record (``schemas/records.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.records import UNPLACED, CheckRow, LinkRow

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def link_row(**fields) -> LinkRow:
    """A links row of https://a.com/ to https://b.com/, unplaced, with ``fields`` over it."""
    base = dict(source_url="https://a.com/", source_site="a.com", target_url="https://b.com/", target_host="b.com",
                target_site="b.com", external=True, tag="a", anchor_text="", image_alt=None, link_type="text", rel=[],
                nofollow=False, sponsored=False, ugc=False, ordinal=0, xpath="/html/body/a", fetched_at=WHEN,
                **UNPLACED)
    return LinkRow(**{**base, **fields})


def check_row(**fields) -> CheckRow:
    """A checks row of a fresh ``ok`` answer to ``url``, with ``fields`` over it."""
    url = fields.get("url", "http://a.com/")
    base = dict(url=url, url_host_name="a.com", url_host_registered_domain="a.com", verdict="ok", reason="ok",
                http_status=200, final_url=url, redirect_chain=[], method="HEAD", attempts=1, error=None,
                checked_at=WHEN, elapsed_ms=1, reused=False, first_seen_broken=None, broken_crawls=0)
    return CheckRow(**{**base, **fields})
