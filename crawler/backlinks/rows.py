"""Rows of the ``backlinks`` table (one per input row) and the item that carries a source page's rows to the
Parquet pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crawler.backlinks.decide import Decision, SourcePage
from crawler.backlinks.formats import OURS
from crawler.backlinks.risk import PageSignals, Risk
from schemas.records import BacklinkRow


@dataclass
class BacklinksItem:
    """Every row of one source page: the page is fetched once for all the expectations on it."""

    rows: list[BacklinkRow]

    def rows_by_table(self) -> dict[str, list[BacklinkRow]]:
        return {"backlinks": self.rows}


def backlink_row(expectation: dict, page: SourcePage, decision: Decision, checked_at: datetime,
                 signals: PageSignals | None = None, risk: Risk | None = None) -> BacklinkRow:
    """The row of one input row: the source page as fetched, the decision, and the best matching link's columns
    (``decision.link``, a ``links`` row; None when no link matched)."""
    link = decision.link
    risk = risk or Risk()
    return BacklinkRow(
        source_url=page.url,
        target=expectation["target"],
        input_line=expectation["line"],
        link_state=decision.state,
        reason=decision.reason,
        flags=list(decision.flags),
        matches=decision.matches,
        found_url=link.target_url if link else None,
        anchor_text=link.anchor_text if link else None,
        rel=link.rel if link else None,
        link_type=link.link_type if link else None,
        region=link.region if link else None,
        in_main_content=link.in_main_content if link else None,
        region_confidence=link.region_confidence if link else None,
        text_before=link.text_before if link else None,
        text_after=link.text_after if link else None,
        xpath=link.xpath if link else None,
        expected_anchor=expectation.get("expected_anchor"),
        expected_rel=expectation.get("expected_rel"),
        http_status=page.http_status,
        final_url=page.final_url,
        redirect_chain=list(page.redirect_chain),
        canonical_url=page.canonical_url,
        meta_robots=page.meta_robots,
        x_robots_tag=", ".join(page.x_robots_tags) or None,
        error=page.error,
        checked_at=checked_at,
        input_format=expectation.get("input_format") or OURS,
        vendor_columns=expectation.get("vendor_columns") or {},
        outbound_links=signals.outbound_links if signals else None,
        linked_domains=signals.linked_domains if signals else None,
        sponsored_links=signals.sponsored_links if signals else None,
        page_language=signals.language if signals else None,
        template_hash=signals.template_hash if signals else None,
        risk_reasons=list(risk.reasons),
        risk_evidence=dict(risk.evidence),
    )
