"""One crawl summed up: the figures, the verdicts and their reasons, broken links per site, the top prospects with a
quotable context, the unknowns to check again, and the crawled sites' own broken pages.

``crawl_summary`` returns plain data (the JSON report); ``render_html`` turns it into one self-contained HTML file
(inline CSS and SVG, no script, nothing fetched at view time) whose key figures carry ``data-figure`` attributes,
so a test can read them back from the page a browser rendered.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path

from crawler.lake import Lake
from crawler.reports.exports import TARGETS, lake_params, latest_crawl
from crawler.reports.lake import LakeError, as_lake, connect
from crawler.reports.prospects import prospects

FIGURES = TARGETS + """
SELECT
    (SELECT count(*) FROM page_rows) AS pages,
    (SELECT count(*) FROM page_rows WHERE http_status >= 400) AS pages_broken,
    (SELECT count(*) FROM links) AS links,
    (SELECT count(*) FROM links WHERE external) AS external_links,
    (SELECT count(*) FROM check_rows) AS targets_checked,
    (SELECT count(*) FROM links WHERE verdict = 'broken') AS broken_links,
    (SELECT count(DISTINCT target_url) FILTER (WHERE verdict = 'broken') FROM links WHERE external) AS broken_targets"""

VERDICTS = TARGETS + """
SELECT verdict, reason, count(*) AS targets FROM check_rows GROUP BY ALL ORDER BY verdict, targets DESC, reason"""

BROKEN_BY_SITE = TARGETS + """
SELECT source_site AS site, count(*) AS broken_links, count(DISTINCT source_url) AS pages,
       count(DISTINCT target_url) AS targets
FROM links WHERE verdict = 'broken' GROUP BY ALL ORDER BY broken_links DESC, site"""

UNKNOWNS = TARGETS + """
SELECT target_url AS url, any_value(reason) AS reason, count(DISTINCT source_url) AS referring_pages
FROM links WHERE external AND verdict = 'unknown' GROUP BY ALL ORDER BY referring_pages DESC, url LIMIT $limit"""

OWN_BROKEN = TARGETS + """
SELECT target_url AS url, any_value(status) AS http_status, count(DISTINCT source_url) AS referring_pages,
       list(DISTINCT source_url ORDER BY source_url)[1:3] AS sample_sources
FROM links WHERE NOT external AND verdict = 'broken' GROUP BY ALL ORDER BY referring_pages DESC, url LIMIT $limit"""


def crawl_summary(root: str | Path | Lake, crawl: str | None = None, limit: int = 50) -> dict:
    lake = as_lake(root)
    crawl = crawl or latest_crawl(lake)
    if crawl is None:
        raise LakeError(f"no links table under {lake.uri}")
    params = lake_params(lake, crawl)
    con = connect(lake)

    def rows(sql: str, **extra) -> list[dict]:
        return con.sql(sql, params={**params, **extra}).to_arrow_table().to_pylist()

    _, top = prospects(lake, crawl, limit=limit)
    return {
        "crawl": crawl,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "lake": lake.uri,
        "figures": rows(FIGURES)[0],
        "verdicts": rows(VERDICTS),
        "broken_by_site": rows(BROKEN_BY_SITE),
        "prospects": [{k: r[k] for k in ("url", "reason", "http_status", "referring_domains", "referring_pages",
                                         "content_links", "sample_source", "sample_text_before", "sample_anchor",
                                         "sample_text_after")} for r in top.to_pylist()],
        "unknowns": rows(UNKNOWNS, limit=limit),
        "own_broken_pages": rows(OWN_BROKEN, limit=limit),
    }


def write_json(summary: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")


# --- HTML
CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#1d2430;
padding:0 1rem}h1{font-size:1.6rem;margin:0}h2{font-size:1.15rem;margin:2rem 0 .6rem;border-bottom:1px solid #dde3ea}
.meta{color:#5b6675}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin-top:1.2rem}.card{border:1px solid #dde3ea;
border-radius:.5rem;padding:.7rem 1rem;min-width:9rem}.card b{display:block;font-size:1.5rem}.card span{color:#5b6675}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.3rem .5rem;
border-bottom:1px solid #eef1f4;vertical-align:top}th{background:#f5f7fa}td.n{text-align:right;white-space:nowrap}
.url{word-break:break-all}q{color:#33415c}.bad{color:#b3261e}.ok{color:#1b7f3b}.unknown{color:#8a6d00}
"""
VERDICT_COLOURS = {"broken": "#d64545", "unknown": "#e0b000", "ok": "#3aa564"}


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def _bars(items: list[tuple[str, int, str]], width: int = 560) -> str:
    """A horizontal bar chart as inline SVG: (label, value, colour) per bar."""
    if not items:
        return "<p class=meta>nothing to show</p>"
    top = max(v for _, v, _ in items) or 1
    row = 22
    parts = [f'<svg role="img" width="{width + 260}" height="{row * len(items) + 4}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for i, (label, value, colour) in enumerate(items):
        y = i * row + 2
        w = max(2, int(width * value / top))
        parts.append(f'<text x="0" y="{y + 14}">{_e(label)[:34]}</text>'
                     f'<rect x="240" y="{y}" width="{w}" height="{row - 6}" fill="{colour}" rx="3"/>'
                     f'<text x="{246 + w}" y="{y + 14}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(rows: list[dict], columns: list[tuple[str, str]], cls: str = "") -> str:
    if not rows:
        return "<p class=meta>none</p>"
    head = "".join(f"<th>{_e(title)}</th>" for _, title in columns)
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            value = r.get(key)
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            cells.append(f'<td class="{"n" if numeric else ("url" if "url" in key or "source" in key else "")}">'
                         f"{_e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def render_html(summary: dict) -> str:
    f = summary["figures"]
    cards = [("pages", "pages crawled"), ("links", "links found"), ("targets_checked", "external targets checked"),
             ("broken_targets", "broken external targets"), ("broken_links", "links to broken targets"),
             ("pages_broken", "own pages answering an error")]
    verdict_totals: dict[str, int] = {}
    for v in summary["verdicts"]:
        verdict_totals[v["verdict"]] = verdict_totals.get(v["verdict"], 0) + v["targets"]
    prospects_rows = [{**p, "quote": f'{p["sample_text_before"] or ""} [{p["sample_anchor"] or ""}] '
                                    f'{p["sample_text_after"] or ""}'.strip()} for p in summary["prospects"]]
    sections = [
        f"<h1>Link report: crawl {_e(summary['crawl'])}</h1>",
        f"<p class=meta>{_e(summary['lake'])} · generated {_e(summary['generated_at'])}</p>",
        '<div class="cards">' + "".join(
            f'<div class="card"><b data-figure="{key}">{int(f[key] or 0)}</b><span>{_e(label)}</span></div>'
            for key, label in cards) + "</div>",
        "<h2>Verdicts of external targets</h2>",
        _bars([(v, n, VERDICT_COLOURS.get(v, "#888")) for v, n in sorted(verdict_totals.items())]),
        "<h2>Reasons</h2>",
        _bars([(f"{v['verdict']}: {v['reason']}", v["targets"], VERDICT_COLOURS.get(v["verdict"], "#888"))
               for v in summary["verdicts"] if v["verdict"] != "ok"]),
        "<h2>Broken links per site</h2>",
        _table(summary["broken_by_site"], [("site", "site"), ("broken_links", "links"), ("pages", "pages"),
                                           ("targets", "targets")], "by-site"),
        "<h2>Top prospects</h2><p class=meta>Broken targets that other sites still link to, editorial links first, "
        "with one link's context to quote.</p>",
        _table(prospects_rows, [("url", "target"), ("reason", "reason"), ("referring_domains", "domains"),
                                ("referring_pages", "pages"), ("sample_source", "quoted page"),
                                ("quote", "context")], "prospects"),
        "<h2>Unknown: check again</h2><p class=meta>Targets we could not see clearly (bot walls, timeouts, "
        "rate limits): never called broken.</p>",
        _table(summary["unknowns"], [("url", "target"), ("reason", "reason"), ("referring_pages", "pages")],
               "unknowns"),
        "<h2>The sites' own broken pages</h2>",
        _table(summary["own_broken_pages"], [("url", "page"), ("http_status", "status"),
                                             ("referring_pages", "linked from"), ("sample_sources", "e.g.")],
               "own-broken"),
    ]
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>Link report {_e(summary['crawl'])}</title><meta name=viewport content='width=device-width'>"
            f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>")


def write_html(summary: dict, path: str | Path) -> None:
    Path(path).write_text(render_html(summary), encoding="utf-8")
