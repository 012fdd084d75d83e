"""Outreach lists for the tools link builders send their emails from: every site that links to a dead resource,
with whom to write to there and what to say, as a CSV the tool imports.

- ``buzzstream``: one row per linking site (a BuzzStream *link partner*): ``Name``, ``Website``, ``Email``,
  ``Twitter``, ``Facebook``, ``LinkedIn``, ``Contact Form``, ``Notes``, ``Tags``.
- ``pitchbox``: one row per linking page (a Pitchbox *opportunity* is a page): ``URL``, ``Email``, ``First Name``,
  ``Last Name``, then ``Broken Link``, ``Anchor Text``, ``Quote``, ``Contact Form``, ``Twitter``, ``Notes``.

The column names follow the published import templates as best we know them (BuzzStream's "Import Link
Partners" CSV template, https://www.buzzstream.com/import-link-partners, and Pitchbox's CSV import of prospects
with a URL and an email, https://help.pitchbox.com/); both tools map the columns of an uploaded file at import, so
a name that differs from the template is matched by hand once, and the extra columns (``Broken Link``, ``Quote``)
become custom or personalization fields. Names of people are not known from a crawl: ``First Name`` and
``Last Name`` stay empty. Only links to *external* broken targets are listed: a site's links to its own missing
pages are its fixes, not an outreach pitch. Emails beyond the first go into ``Notes``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow as pa

BUZZSTREAM_COLUMNS = ["Name", "Website", "Email", "Twitter", "Facebook", "LinkedIn", "Contact Form", "Notes", "Tags"]
PITCHBOX_COLUMNS = ["URL", "Email", "First Name", "Last Name", "Broken Link", "Anchor Text", "Quote", "Contact Form",
                    "Twitter", "Notes"]
NOTE_LINKS = 5  # broken links spelled out in one site's Notes; the rest are counted
_ORIGIN = re.compile(r"^(https?://[^/?#]+)")


def _profile(profiles: list[str], host: str) -> str:
    return next((p for p in profiles if f"//{host}/" in p or f".{host}/" in p), "")


def _link_note(link: dict) -> str:
    status = f"{link['http_status']} " if link["http_status"] else ""
    anchor = f' "{link["anchor_text"]}"' if link["anchor_text"] else ""
    return f"{link['source_url']} links{anchor} to {link['target_url']} ({status}{link['reason']})"


def buzzstream_rows(links: list[dict]) -> list[list[str]]:
    """One link partner per linking site, the sites with the most broken links first."""
    sites: dict[str, list[dict]] = {}
    for link in links:
        if link["external"]:
            sites.setdefault(link["source_site"], []).append(link)
    rows = []
    for site, site_links in sorted(sites.items(), key=lambda item: (-len(item[1]), item[0])):
        first = site_links[0]
        emails = first["site_emails"] or []
        profiles = first["site_profiles"] or []
        notes = [_link_note(link) for link in site_links[:NOTE_LINKS]]
        if len(site_links) > NOTE_LINKS:
            notes.append(f"... and {len(site_links) - NOTE_LINKS} more broken links")
        if len(emails) > 1:
            notes.append("other emails: " + ", ".join(emails[1:]))
        website = _ORIGIN.match(first["source_url"])
        rows.append([site, f"{website.group(1)}/" if website else f"https://{site}/", emails[0] if emails else "",
                     _profile(profiles, "twitter.com"), _profile(profiles, "facebook.com"),
                     _profile(profiles, "linkedin.com"), first["site_contact_page"] or "", "\n".join(notes),
                     "broken-link-building"])
    return rows


def pitchbox_rows(links: list[dict]) -> list[list[str]]:
    """One opportunity per linking page: its first broken external link is the pitch, the others are noted."""
    pages: dict[str, list[dict]] = {}
    for link in links:
        if link["external"]:
            pages.setdefault(link["source_url"], []).append(link)
    rows = []
    for url, page_links in pages.items():
        first = page_links[0]
        emails = first["site_emails"] or []
        quote = " ".join(part for part in (first["text_before"], first["anchor_text"], first["text_after"]) if part)
        notes = [_link_note(link) for link in page_links[1:NOTE_LINKS + 1]]
        if len(emails) > 1:
            notes.append("other emails: " + ", ".join(emails[1:]))
        rows.append([url, emails[0] if emails else "", "", "", first["target_url"], first["anchor_text"] or "",
                     quote, first["site_contact_page"] or "", _profile(first["site_profiles"] or [], "twitter.com"),
                     "\n".join(notes)])
    return rows


def write_outreach(kind: str, broken_links: pa.Table, out: str | Path) -> int:
    """Write the ``buzzstream`` or ``pitchbox`` list of a crawl's broken links (the ``broken-links`` export's rows)
    as CSV, UTF-8 with BOM; returns the number of rows."""
    header, to_rows = (BUZZSTREAM_COLUMNS, buzzstream_rows) if kind == "buzzstream" else (PITCHBOX_COLUMNS,
                                                                                       pitchbox_rows)
    rows = to_rows(broken_links.to_pylist())
    with open(out, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)
