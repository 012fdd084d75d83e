"""Vocabulary of contact extraction: the words that name a contact, about, imprint or "write for us" page in several
languages, and the hosts and path shapes of social profiles. The logic is in ``crawler/extract/contacts.py``.

Pages are recognised by their link: the anchor text (a short one, as menus and footers have) or a segment of the
URL path. The words are the usual menu labels of Western European sites plus a few others; a site that calls its
contact page something else is missed, never mislabelled by a guess. German-language sites must name their
operator on an *Impressum* page (Digitale-Dienste-Gesetz § 5), the surest address of a site in those countries.
"""

from __future__ import annotations

import re

# Kinds of contacts rows, in the order a link is tried (a link labelled "Contact / Imprint" is a contact page).
EMAIL = "email"
CONTACT_PAGE = "contact_page"
WRITE_FOR_US_PAGE = "write_for_us_page"
IMPRINT_PAGE = "imprint_page"
ABOUT_PAGE = "about_page"
SOCIAL = "social"
PAGE_KINDS = (CONTACT_PAGE, WRITE_FOR_US_PAGE, IMPRINT_PAGE, ABOUT_PAGE)
KINDS = (EMAIL, *PAGE_KINDS, SOCIAL)

# Anchor texts (compared lower case, whitespace collapsed, as a whole phrase inside a short anchor).
ANCHOR_WORDS: dict[str, tuple[str, ...]] = {
    CONTACT_PAGE: (
        "contact", "contact us", "contact me", "get in touch", "write to us",  # en
        "kontakt", "kontaktieren sie uns", "kontaktformular",  # de, and pl/cs/sk/da/no/sv "kontakt"
        "contacto", "contáctanos", "contactanos", "contactar",  # es
        "contactez-nous", "nous contacter", "me contacter",  # fr
        "contatti", "contattaci", "contatto", "contato", "fale conosco",  # it, pt
        "neem contact op", "kontakty", "yhteystiedot", "ota yhteyttä", "kapcsolat", "iletişim", "контакты",
        "お問い合わせ", "联系我们", "聯絡我們",
    ),
    WRITE_FOR_US_PAGE: (
        "write for us", "guest post", "guest posts", "guest posting", "contribute", "become a contributor",
        "submit a guest post", "gastbeitrag", "gastautor werden", "escribe para nosotros", "écrivez pour nous",
        "scrivi per noi",
    ),
    IMPRINT_PAGE: (
        "impressum", "imprint", "legal notice", "site notice", "mentions légales", "mentions legales",
        "aviso legal", "note legali", "colofon", "colophon", "aviso legal e privacidade",
    ),
    ABOUT_PAGE: (
        "about", "about us", "about me", "who we are", "our team", "meet the team", "the team",
        "über uns", "ueber uns", "über mich", "wir über uns",
        "sobre", "sobre nosotros", "sobre nós", "quiénes somos", "quienes somos", "acerca de",
        "à propos", "a propos", "qui sommes-nous", "qui sommes nous",
        "chi siamo", "over ons", "om oss", "om os", "o nas", "o nás", "о нас", "hakkımızda",
    ),
}
ANCHOR_MAX_WORDS = 5  # longer anchors are prose ("about the soil in April"), not menu labels

# URL path segments (lower case, without a file extension such as .html or .php).
PATH_WORDS: dict[str, frozenset[str]] = {
    CONTACT_PAGE: frozenset({
        "contact", "contact-us", "contactus", "contact_us", "contact-me", "kontakt", "kontaktformular", "contacto",
        "contactanos", "contactez-nous", "nous-contacter", "contatti", "contattaci", "contato", "fale-conosco",
        "kontakty", "yhteystiedot", "iletisim", "get-in-touch",
    }),
    WRITE_FOR_US_PAGE: frozenset({
        "write-for-us", "writeforus", "write_for_us", "guest-post", "guest-posts", "guest-posting",
        "contribute", "contributors", "gastbeitrag", "gastautor",
    }),
    IMPRINT_PAGE: frozenset({
        "impressum", "imprint", "legal-notice", "mentions-legales", "aviso-legal", "note-legali", "colofon",
        "colophon",
    }),
    ABOUT_PAGE: frozenset({
        "about", "about-us", "aboutus", "about_us", "about-me", "who-we-are", "team", "our-team",
        "ueber-uns", "uber-uns", "uberuns", "ueber-mich", "sobre", "sobre-nosotros", "quienes-somos",
        "a-propos", "qui-sommes-nous", "chi-siamo", "over-ons", "om-oss", "o-nas", "hakkimizda",
    }),
}

# Social networks by the registered domain of the link's host, and the path of a *profile* there (a share button,
# a single post or video is not whom to write to). Group 1 is the handle; the profile URL is rebuilt from it.
SOCIAL_PROFILES: dict[str, tuple[str, re.Pattern[str], str]] = {
    # domain: (network, profile path, canonical profile URL with {0} for the handle)
    "twitter.com": ("twitter", re.compile(r"^/@?([A-Za-z0-9_]{1,15})/?$"), "https://twitter.com/{0}"),
    "x.com": ("twitter", re.compile(r"^/@?([A-Za-z0-9_]{1,15})/?$"), "https://twitter.com/{0}"),
    "facebook.com": ("facebook", re.compile(r"^/(?:pg/)?([A-Za-z0-9.\-]{3,80})/?$"), "https://www.facebook.com/{0}"),
    "fb.com": ("facebook", re.compile(r"^/([A-Za-z0-9.\-]{3,80})/?$"), "https://www.facebook.com/{0}"),
    "linkedin.com": ("linkedin", re.compile(r"^/((?:in|company|school)/[^/?#]{2,100})/?$"),
                     "https://www.linkedin.com/{0}"),
    "instagram.com": ("instagram", re.compile(r"^/([A-Za-z0-9_.]{1,30})/?$"), "https://www.instagram.com/{0}"),
    "youtube.com": ("youtube", re.compile(r"^/((?:channel/|c/|user/)?@?[A-Za-z0-9_.\-]{2,100})/?$"),
                    "https://www.youtube.com/{0}"),
    "pinterest.com": ("pinterest", re.compile(r"^/([A-Za-z0-9_]{3,30})/?$"), "https://www.pinterest.com/{0}"),
    "tiktok.com": ("tiktok", re.compile(r"^/(@[A-Za-z0-9_.]{2,24})/?$"), "https://www.tiktok.com/{0}"),
    "github.com": ("github", re.compile(r"^/([A-Za-z0-9\-]{1,39})/?$"), "https://github.com/{0}"),
    "threads.net": ("threads", re.compile(r"^/(@[A-Za-z0-9_.]{1,30})/?$"), "https://www.threads.net/{0}"),
    "bsky.app": ("bluesky", re.compile(r"^/(profile/[A-Za-z0-9_.:\-]{3,253})/?$"), "https://bsky.app/{0}"),
}
# First path segments that are a network's own pages or buttons, never a profile handle.
SOCIAL_RESERVED = frozenset({
    "share", "sharer", "sharer.php", "intent", "home", "login", "signup", "search", "hashtag", "i", "dialog",
    "plugins", "tr", "watch", "embed", "results", "feed", "explore", "p", "reel", "reels", "stories", "pin",
    "settings", "about", "help", "privacy", "legal", "policies", "terms", "tos", "sharearticle", "shareArticle",
    "php", "profile.php", "groups", "events", "marketplace", "gaming", "pages", "policy", "features", "shorts",
    "playlist", "channel", "c", "user", "in", "company", "school",  # alone, without a handle
})

# mailto: addresses: one local part and a domain with a dot; anything else is not an address to write to.
EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63})+$")
MAX_CONTACTS_PER_PAGE = 50  # a member directory lists hundreds of addresses: the first ones are enough
