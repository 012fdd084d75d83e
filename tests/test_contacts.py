"""Contact points from a page's links (crawler/extract/contacts.py): plain functions, no crawl."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.extract.contacts import emails_of, extract_contacts, page_kind, social_profile
from crawler.extract.record import Fetched, build_page
from tests.records import link_row


@pytest.mark.parametrize(("href", "expected"), [
    ("mailto:Editor@Gardening-Notes.com", ["editor@gardening-notes.com"]),
    ("mailto:a@example.com,%20b@example.org?subject=Hello&body=Hi", ["a@example.com", "b@example.org"]),
    ("MAILTO:<tips@example.com>", ["tips@example.com"]),
    ("mailto:", []),
    ("mailto:not-an-address", []),
    ("mailto:someone@localhost", []),
    ("https://example.com/", []),
])
def test_mailto_addresses(href, expected):
    assert emails_of(href) == expected


@pytest.mark.parametrize(("anchor", "url", "kind"), [
    ("Contact", "http://a.com/page-7", "contact_page"),
    ("Kontakt", "http://a.de/k", "contact_page"),
    ("Contactez-nous", "http://a.fr/x", "contact_page"),
    ("", "http://a.com/contact-us/", "contact_page"),
    ("Get in touch »", "http://a.com/hello", "contact_page"),
    ("Impressum", "http://a.de/i", "imprint_page"),
    ("", "http://a.fr/mentions-legales.html", "imprint_page"),
    ("Über uns", "http://a.de/u", "about_page"),
    ("Chi siamo", "http://a.it/c", "about_page"),
    ("", "http://a.com/en/about.php", "about_page"),
    ("Write for us", "http://a.com/w", "write_for_us_page"),
    ("Contact / Imprint", "http://a.com/ci", "contact_page"),  # the first kind wins
    ("About the soil we grow our tomatoes in", "http://a.com/blog/soil", None),  # prose, not a menu label
    ("", "http://a.com/blog/2019/about-tomatoes/", None),
    ("Read more", "http://a.com/blog/post", None),
])
def test_contact_pages_by_anchor_or_path(anchor, url, kind):
    assert page_kind(anchor, url) == kind


@pytest.mark.parametrize(("url", "expected"), [
    ("https://twitter.com/GardenNotes", ("twitter", "https://twitter.com/GardenNotes")),
    ("https://x.com/GardenNotes/", ("twitter", "https://twitter.com/GardenNotes")),
    ("https://www.facebook.com/gardening.notes", ("facebook", "https://www.facebook.com/gardening.notes")),
    ("https://de.linkedin.com/in/jane-doe", ("linkedin", "https://www.linkedin.com/in/jane-doe")),
    ("https://www.linkedin.com/company/trail-club/", ("linkedin", "https://www.linkedin.com/company/trail-club")),
    ("https://www.youtube.com/@homebrewcorner", ("youtube", "https://www.youtube.com/@homebrewcorner")),
    ("https://www.instagram.com/garden.notes/", ("instagram", "https://www.instagram.com/garden.notes")),
    ("https://twitter.com/intent/tweet?text=hi", None),
    ("https://twitter.com/GardenNotes/status/123", None),
    ("https://www.facebook.com/sharer/sharer.php?u=x", None),
    ("https://www.linkedin.com/shareArticle?url=x", None),
    ("https://www.youtube.com/watch?v=abc", None),
    ("https://www.instagram.com/p/Cx1/", None),
    ("https://example.com/GardenNotes", None),
])
def test_social_profiles_by_host_and_path(url, expected):
    assert social_profile(url) == expected


PAGE = b"""<!DOCTYPE html><html><head><title>Tomatoes</title></head><body>
<nav><a href="/">Home</a> <a href="/kontakt/">Kontakt</a> <a href="/impressum">Impressum</a>
<a href="https://blog.gardening-notes.com/about-us">About</a></nav>
<main><p>Ask <a href="mailto:Editor@gardening-notes.com?subject=Tomatoes">our editor</a> or
<a href="mailto:editor@gardening-notes.com">write</a>. See <a href="https://other-site.com/contact">their contact</a>.</p></main>
<footer><a href="https://twitter.com/gardennotes">Twitter</a> <a href="https://twitter.com/intent/tweet?u=x">Tweet</a>
<a href="https://www.facebook.com/gardeningnotes">Facebook</a> <a href="/kontakt/">Kontakt</a></footer>
</body></html>"""


def test_a_page_gives_its_contacts_once_each_through_build_page():
    when = datetime(2026, 1, 2, tzinfo=UTC)
    result = build_page(Fetched("https://gardening-notes.com/tomatoes", 200, {"content-type": "text/html"}, PAGE,
                                when, "gardening-notes.com"))
    got = {(r.kind, r.value, r.network) for r in result.item.contacts}
    assert got == {
        ("email", "editor@gardening-notes.com", None),
        ("contact_page", "https://gardening-notes.com/kontakt/", None),
        ("imprint_page", "https://gardening-notes.com/impressum", None),
        ("about_page", "https://blog.gardening-notes.com/about-us", None),  # a subdomain is the same site
        ("social", "https://twitter.com/gardennotes", "twitter"),
        ("social", "https://www.facebook.com/gardeningnotes", "facebook"),
    }  # another site's contact page and a share button are not this site's contacts
    row = result.item.contacts[0]
    assert (row.site, row.source_url, row.fetched_at, row.label) == (
        "gardening-notes.com", "https://gardening-notes.com/tomatoes", when, "our editor")
    assert result.item.rows_by_table()["contacts"] == result.item.contacts
    assert result.skipped["mailto"] == 2  # still no links rows: mailto is no crawl target


def test_contacts_per_page_are_capped():
    links = [link_row(target_url=f"https://x.com/user{i}", target_host="x.com", target_site="x.com") for i in range(500)]
    assert len(extract_contacts(None, links, "a.com", "https://a.com/", None)) == 50
