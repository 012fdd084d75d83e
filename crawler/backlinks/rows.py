"""Rows of the ``backlinks`` table (one per input row) and the item that carries a source page's rows to the
Parquet pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.backlinks.decide import Decision, SourcePage
from crawler.backlinks.formats import OURS
from crawler.backlinks.risk import PageSignals, Risk


@dataclass
class BacklinksItem:
    """Every row of one source page: the page is fetched once for all the expectations on it."""

    rows: list[dict]

    def rows_by_table(self) -> dict[str, list[dict]]:
        return {"backlinks": self.rows}


def backlink_row(expectation: dict, page: SourcePage, decision: Decision, checked_at: datetime,
                 signals: PageSignals | None = None, risk: Risk | None = None) -> dict:
    link = decision.link or {}
    risk = risk or Risk()
    return {
        "source_url": page.url,
        "target": expectation["target"],
        "input_line": expectation["line"],
        "link_state": decision.state,
        "reason": decision.reason,
        "flags": list(decision.flags),
        "matches": decision.matches,
        "found_url": link.get("target_url"),
        "anchor_text": link.get("anchor_text"),
        "rel": link.get("rel"),
        "link_type": link.get("link_type"),
        "region": link.get("region"),
        "in_main_content": link.get("in_main_content"),
        "text_before": link.get("text_before"),
        "text_after": link.get("text_after"),
        "xpath": link.get("xpath"),
        "expected_anchor": expectation.get("expected_anchor"),
        "expected_rel": expectation.get("expected_rel"),
        "http_status": page.http_status,
        "final_url": page.final_url,
        "redirect_chain": list(page.redirect_chain),
        "canonical_url": page.canonical_url,
        "meta_robots": page.meta_robots,
        "x_robots_tag": ", ".join(page.x_robots_tags) or None,
        "error": page.error,
        "checked_at": checked_at,
        "input_format": expectation.get("input_format") or OURS,
        "vendor_columns": expectation.get("vendor_columns") or {},
        "outbound_links": signals.outbound_links if signals else None,
        "linked_domains": signals.linked_domains if signals else None,
        "sponsored_links": signals.sponsored_links if signals else None,
        "page_language": signals.language if signals else None,
        "template_hash": signals.template_hash if signals else None,
        "risk_reasons": list(risk.reasons),
        "risk_evidence": dict(risk.evidence),
    }
