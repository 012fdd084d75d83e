"""Backlink verification: is each link you earned still there, still followed, still in the content, on a page
search engines can still index?

Plain logic, testable without Twisted; the ``backlinks`` spider (``crawler/spiders/backlinks.py``) only fetches:

- ``targets``: what a row's ``target`` means (an exact URL, ``domain:example.com``, a URL prefix ending in ``*``).
- ``inputs``: reading the CSV/JSONL input, one entry per source page with every expectation on it; ``vendors``
  (names in ``formats``): the SEO tools' backlink exports, detected by header.
- ``robots``: what ``<meta name="robots">`` and ``X-Robots-Tag`` say about indexing and following.
- ``decide``: the state of one expectation (live / degraded / lost / unverified), its reason and flags.
- ``rows``: the ``backlinks`` table rows and the item that carries them to the Parquet pipeline.
- ``risk`` (words in ``riskwords``): the toxic-link reasons one linking page shows, with their evidence.
- ``disavow``: Google's disavow file, read (``-a exclude=``, ``--merge``, ``--whitelist``) and written.
"""
