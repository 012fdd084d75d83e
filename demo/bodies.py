"""Targets of the test web (``demo/web.py``) that answer 200 and are judged by their body alone: parking and
for-sale templates in other languages, redirects to parking hosts by script, meta refresh or a registrar's
for-sale path, server default "404 Not Found" pages served with 200, soft-404s in other languages, and the pages
that must stay ``ok`` although they use the same words (an article about 404 errors, a guide to buying domains,
a search page that found nothing, a shop whose button script goes to a marketplace).

Each template follows what the public services serve (Sedo, Dan, GoDaddy, Bodis landers; nginx, Apache httpd,
IIS and ASP.NET error pages) closely enough to carry the words a checker must read, without copying them whole.

``BODY_TARGETS`` is the ground truth, ``(host, path and query) -> (verdict, reason)``; ``answer`` gives ``(status, headers,
body)`` for a host and path, or ``None`` when the host is not one of these. All links are on
``homebrew-corner.net``'s ``/suppliers.html`` (broken ones) and ``/reading.html`` (the ``ok`` ones).
"""

from __future__ import annotations

from collections.abc import Callable

_LONG = (  # a paragraph of ordinary article prose, repeated to make an article longer than a parking template
    "<p>Most of what matters happens before anyone types an address into a browser: the name is chosen, checked "
    "against trademarks, registered for a year or ten, and then renewed or forgotten. Forgotten names are the ones "
    "that come back on the market, and a surprising number of them still have links pointing at them from old "
    "articles, forums and directories that nobody maintains any more.</p>\n"
)


def _doc(title: str, body: str, lang: str = "en", head: str = "") -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>\n'
            f"<body>\n{body}\n</body></html>\n").encode()


def _parked(u: Callable[..., str]) -> dict[tuple[str, str], tuple[int, tuple, bytes]]:
    ok = ()
    return {
        ("hopfen-shop.com", "/"): (200, ok, _doc(  # Sedo's German lander: the title names the domain
            "hopfen-shop.com steht zum Verkauf", (
                "<h1>Diese Domain steht zum Verkauf!</h1>\n<p>hopfen-shop.com kann jetzt gekauft werden.</p>\n"
                '<p>Preis: 1.490 € – <a href="#kaufen">Jetzt kaufen</a> oder <a href="#angebot">Preisvorschlag '
                "senden</a>.</p>\n<p>Sichere Zahlungsabwicklung, schnelle Übertragung.</p>"), "de")),
        ("brasserie-artisanale.net", "/"): (200, ok, _doc(  # French; the title is the bare domain
            "brasserie-artisanale.net", (
                "<h1>Ce nom de domaine est à vendre</h1>\n<p>Faites une offre dès aujourd'hui : transfert rapide "
                "et paiement sécurisé.</p>"), "fr")),
        ("cerveza-casera.org", "/"): (200, ok, _doc(
            "cerveza-casera.org", (
                "<h1>cerveza-casera.org</h1>\n<p>¡Este dominio está a la venta!</p>\n<p>Haga una oferta o "
                '<a href="#comprar">compre ahora</a>. Transferencia segura.</p>'), "es")),
        ("bierbrouwen.net", "/"): (200, ok, _doc(
            "bierbrouwen.net", "<h1>bierbrouwen.net</h1>\n<p>Dit domein is te koop. Doe een bod!</p>", "nl")),
        ("birra-artigianale.com", "/"): (200, ok, _doc(
            "birra-artigianale.com", (
                "<h1>Questo dominio è in vendita</h1>\n<p>Fai un'offerta per birra-artigianale.com.</p>"), "it")),
        ("cerveja-caseira.com", "/"): (200, ok, _doc(
            "cerveja-caseira.com", (
                "<h1>Este domínio está à venda</h1>\n<p>Faça uma oferta por cerveja-caseira.com.</p>"), "pt")),
        ("jibiru.com", "/"): (200, ok, _doc(
            "jibiru.com", "<h1>jibiru.com</h1>\n<p>このドメインは販売中です。お問い合わせください。</p>", "ja")),
        ("malt-direct.com", "/"): (200, ok, _doc(  # pay-per-click parking: ad links and the ad disclaimer
            "malt-direct.com", (
                '<div class="related"><h2>Related Searches</h2><ul><li><a href="#1">Malt Extract</a></li>'
                '<li><a href="#2">Home Brewing Kits</a></li><li><a href="#3">Craft Beer Supplies</a></li></ul></div>\n'
                '<p class="disclaimer">The Sponsored Listings displayed above are served automatically by a third '
                "party. Neither the service provider nor the domain owner maintain any relationship with the "
                "advertisers.</p>"))),
        ("brewing-forum.org", "/"): (200, ok, _doc(  # a registrar's page for a lapsed name
            "brewing-forum.org", (
                "<h2>brewing-forum.org</h2>\n<p>This domain name expired on 2026-10-01 and is pending renewal or "
                "deletion.</p>\n<p>Are you the owner? Renew it now.</p>"))),
        ("yeast-labs.com", "/"): (200, ok, _doc(  # a parking redirector: a script, and next to no text
            "yeast-labs.com", "<noscript>Please enable JavaScript.</noscript>",
            head='<script>window.location.href = "https://sedo.com/search/details/?partnerid=1&domain=yeast-labs.com'
                 '&origin=sales_lander_1";</script>')),
        ("hop-garden.net", "/"): (200, ok, _doc(
            "hop-garden.net", "<p>Loading...</p>\n<script>location.replace('https://dan.com/buy-domain/hop-garden.net')"
            "</script>")),
        ("kegging-supplies.com", "/"): (200, ok, _doc(
            "kegging-supplies.com", "<p>Redirecting...</p>",
            head='<meta http-equiv="refresh" content="0;url=http://www.sedoparking.com/kegging-supplies.com">')),
        # a lapsed name sent to the registrar's for-sale landing path (godaddy.com has ordinary pages too)
        ("old-homebrew-shop.com", "/"): (302, (("Location", u("www.godaddy.com", "/forsale/old-homebrew-shop.com")),),
                                         b'<a href="/">Moved</a>\n'),
    }


_NGINX_404 = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1>"
              b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_APACHE_404 = (b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n'
               b"</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n<hr>\n"
               b"<address>Apache/2.4.62 (Debian) Server at grain-mill.net Port 80</address>\n</body></html>\n")
_IIS_404 = (b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
            b'\n<html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; '
            b'charset=iso-8859-1"/>\n<title>404 - File or directory not found.</title>\n</head><body>\n'
            b'<div id="header"><h1>Server Error</h1></div>\n<div id="content"><div class="content-container"><fieldset>'
            b"\n<h2>404 - File or directory not found.</h2>\n<h3>The resource you are looking for might have been "
            b"removed, had its name changed, or is temporarily unavailable.</h3>\n</fieldset></div></div>\n"
            b"</body></html>\n")
_ASPNET_404 = (b"<!DOCTYPE html>\n<html><head><title>The resource cannot be found.</title></head>\n<body>\n"
               b"<span><h1>Server Error in '/' Application.<hr width=100% size=1 color=silver></h1>\n"
               b"<h2> <i>The resource cannot be found.</i> </h2></span>\n<b> Description: </b>HTTP 404. The resource "
               b"you are looking for (or one of its dependencies) could have been removed, had its name changed, or "
               b"is temporarily unavailable.\n</body></html>\n")


def _soft_404s() -> dict[tuple[str, str], tuple[int, tuple, bytes]]:
    ok = ()
    return {
        ("brew-kits.com", "/kits/starter-kit.html"): (200, ok, _NGINX_404),
        ("grain-mill.net", "/mills/2019-model.html"): (200, ok, _APACHE_404),
        ("fermenter-store.com", "/products/conical-30l.aspx"): (200, ok, _IIS_404),
        ("bottle-caps.net", "/caps/crown-29mm.aspx"): (200, ok, _ASPNET_404),
        ("brauerei-mueller.com", "/biere/maerzen.html"): (200, ok, _doc(
            "Seite nicht gefunden – Brauerei Müller", (
                "<header><a href=\"/\">Brauerei Müller</a></header>\n<h1>Fehler 404: Diese Seite existiert leider "
                "nicht</h1>\n<p>Zurück zur <a href=\"/\">Startseite</a>.</p>"), "de")),
        ("brasserie-du-nord.com", "/bieres/triple.html"): (200, ok, _doc(
            "Erreur 404 - Brasserie du Nord", (
                "<h1>Oups ! Cette page est introuvable.</h1>\n<p>Retour à <a href=\"/\">l'accueil</a>.</p>"), "fr")),
        ("cerveceria-sur.com", "/cervezas/ipa.html"): (200, ok, _doc(
            "Página no encontrada | Cervecería Sur", (
                "<h1>¡Vaya! No hemos podido encontrar esta página</h1>\n<p>Vuelva al <a href=\"/\">inicio</a>.</p>"),
            "es")),
        ("cervejaria-lisboa.com", "/cervejas/stout.html"): (200, ok, _doc(
            "Página não encontrada - Cervejaria Lisboa", "<h1>Erro 404</h1>\n<p>A página que procura não existe.</p>",
            "pt")),
        ("brouwerij-de-gans.com", "/bieren/tripel.html"): (200, ok, _doc(
            "Pagina niet gevonden | Brouwerij De Gans", "<h1>Helaas, deze pagina bestaat niet (meer)</h1>", "nl")),
        ("ji-biru-kobo.com", "/beer/pale-ale.html"): (200, ok, _doc(
            "ページが見つかりません | 地ビール工房", "<h1>お探しのページは見つかりませんでした</h1>\n<p>トップページへ</p>",
            "ja")),
    }


def _articles() -> dict[tuple[str, str], tuple[int, tuple, bytes]]:
    """Pages that say "404", "not found" or "for sale" and are fine: each must stay ``ok``."""
    ok = ()
    notes = "Webmaster Notes"
    return {
        ("webmaster-notes.com", "/what-a-404-error-means"): (200, ok, _doc(
            f"What a 404 error means (and how to fix it) | {notes}", (
                "<h1>What a 404 error means (and how to fix it)</h1>\n<p>A 404 Not Found answer says the server has "
                "nothing at that address. Visitors see a page titled “Page not found”; crawlers see the status.</p>"
                + _LONG * 3))),
        ("webmaster-notes.com", "/404-page-not-found-explained"): (200, ok, _doc(
            f"404 Page Not Found - What It Means | {notes}", (
                "<h1>404 Page Not Found - What It Means</h1>\n<p>The page you are looking for does not exist: that is "
                "all a 404 says.</p>" + _LONG * 2))),
        ("webmaster-notes.com", "/seite-nicht-gefunden"): (200, ok, _doc(
            f"Seite nicht gefunden? So beheben Sie 404-Fehler | {notes}", (
                "<h1>Seite nicht gefunden? So beheben Sie 404-Fehler</h1>\n<p>Ein 404-Fehler bedeutet, dass die "
                "Seite nicht gefunden wurde.</p>" + _LONG), "de")),
        ("domain-investing.net", "/domains-for-sale-guide"): (200, ok, _doc(
            "Domains for sale: a guide", (
                "<h1>Domains for sale: a guide</h1>\n<p>Parked names greet you with “This domain is for sale!” and a "
                "button that says “Buy this domain” or “Make an offer on this domain”. Here is what to do next.</p>"
                + _LONG * 8))),
        ("hop-exchange.com", "/listings"): (200, ok, _doc(  # a shop whose button script goes to a marketplace
            "Hop Exchange – our brewing domains", (
                "<h1>Brewing names we are selling</h1>\n<button onclick=\"buy()\">Buy on Dan</button>\n"
                "<script>function buy() { window.location.href = 'https://dan.com/buy-domain/hop-exchange.com'; }"
                "</script>\n" + _LONG * 8))),
        ("brew-search.com", "/search?q=kveik"): (200, ok, _doc(  # a search that found nothing is not a missing page
            "Search results for “kveik” | Brew Search", (
                "<h1>Search results</h1>\n<p>No results found for “kveik”. Pages about “kviek” were not found "
                "either; check the spelling or try a broader term.</p>"))),
        ("www.godaddy.com", "/help/renew-a-domain"): (200, ok, _doc(  # the registrar's own pages are not parked
            "Renew a domain | GoDaddy Help", "<h1>Renew a domain</h1>\n<p>Renew from your account's domain list.</p>"
            + _LONG)),
        ("www.godaddy.com", "/forsale/old-homebrew-shop.com"): (200, ok, _doc(  # never fetched by the checker
            "old-homebrew-shop.com", "<h1>Get this domain</h1>\n<p>old-homebrew-shop.com</p>")),
    }


BODY_TARGETS: dict[tuple[str, str], tuple[str, str]] = {
    **{key: ("broken", "parked") for key in _parked(lambda host, path="/": "")},
    **{key: ("broken", "soft_404") for key in _soft_404s()},
    **{key: ("ok", "ok") for key in _articles() if key != ("www.godaddy.com", "/forsale/old-homebrew-shop.com")},
}
BODY_HOSTS = tuple(dict.fromkeys(host for host, _ in BODY_TARGETS))


def answer(u: Callable[..., str], host: str, path: str) -> tuple[int, tuple, bytes] | None:
    """``(status, headers, body)`` of ``host`` + ``path`` (no query), a 404 for other paths of these hosts, or
    ``None`` when ``host`` is not one of them."""
    if host not in BODY_HOSTS:
        return None
    table = {(h, p.split("?", 1)[0]): reply for (h, p), reply in {**_parked(u), **_soft_404s(), **_articles()}.items()}
    if (host, path) in table:
        return table[(host, path)]
    if path.startswith("/forsale/") and host == "www.godaddy.com":
        return table[("www.godaddy.com", "/forsale/old-homebrew-shop.com")]
    return 404, (), _doc("404 Not Found", "<h1>Not Found</h1>")


def links(u: Callable[..., str]) -> tuple[str, str]:
    """The ``<li>`` links of ``/suppliers.html`` (broken targets) and ``/reading.html`` (``ok`` ones)."""
    suppliers, reading = [], []
    for (host, path), (verdict, _) in BODY_TARGETS.items():
        url = u(host, path)
        (reading if verdict == "ok" else suppliers).append(f'<li><a href="{url}">{host}</a></li>')
    return "\n".join(suppliers), "\n".join(reading)
