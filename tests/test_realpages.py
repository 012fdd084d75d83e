"""The labelled real pages' loader (``tests/realpages``): the WARC source's keys reopen their own record, are read
and decoded as the WARC ingest reads them, and every stored label still selects what it was written for. Loading
only: placement is measured by ``test_placement_real.py``."""

from __future__ import annotations

import json
import re

import pytest

from crawler.warc import iter_warc_responses
from tests.realpages import (
    LABELS,
    all_pages,
    is_held_out,
    label_order,
    load_page,
    page_key,
    page_meta,
    pages_dir,
    select,
    source_of,
    warcs_dir,
)
from tests.test_warc import warc_fixture

KEY = re.compile(r"^warc/[^/@]+@\d+$")


def test_warc_source_from_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "warcs"
    folder.mkdir()
    html = [("Content-Type", "text/html; charset=iso-8859-1")]
    # the HTTP charset decides (no <meta>): latin-1 bytes must not come out as UTF-8 replacement characters
    body = "<html><body><p>caf\u00e9</p><a href='/a'>rel</a> <a href='javascript:x()'>js</a> <a href='#top'>t</a>"
    warc_fixture(folder / "b.warc.gz", [
        ("http://127.0.0.1:8081/page", html, body.encode("latin-1")),
        ("http://127.0.0.1:8081/page", html, b"<a href='/again'>same URL captured again</a>"),
        ("http://127.0.0.1:8081/data.json", [("Content-Type", "application/json")], b"{\"a\": 1}"),
    ])
    warc_fixture(folder / "a.warc.gz", [("http://127.0.0.1:8081/other", [("Content-Type", "text/html")],
                                         b"<a href='http://127.0.0.2/x'>x</a><a href='y'>y</a>")])
    (folder / "notes.txt").write_text("not a WARC file")
    monkeypatch.setenv("LINKPROSPECTOR_WARCS", str(folder))

    keys = all_pages(None, "warc")
    assert all(KEY.match(key) for key in keys), keys
    assert [key.split("@")[0] for key in keys] == ["warc/a.warc.gz", "warc/b.warc.gz"]  # the repeat is not a page
    meta = page_meta(None)
    for key in keys:
        name, offset = key.removeprefix("warc/").split("@")
        reread = {r.warc_record_offset: r.url for r in iter_warc_responses(folder / name)}
        assert reread[int(offset)] == meta[key]["url"]
    key_b = next(key for key in keys if key.startswith("warc/b."))
    tree, anchors = load_page(None, key_b)
    assert [a.get("href") for a in anchors] == ["/a"]  # resolved against the target URI; javascript: and #top dropped
    assert "caf\u00e9" in tree.text_content()
    assert page_key("warc:0", None) == label_order(keys)[0]
    assert page_key(key_b, None) == key_b


def test_warc_folder_is_the_one_beside_the_pages(tmp_path, monkeypatch):
    monkeypatch.delenv("LINKPROSPECTOR_WARCS", raising=False)
    (tmp_path / "pages").mkdir()
    assert warcs_dir(tmp_path / "pages") is None
    (tmp_path / "warc").mkdir()
    assert warcs_dir(tmp_path / "pages") == tmp_path / "warc"


def test_real_warc_keys_reopen_their_records():
    root = pages_dir()
    if warcs_dir(root) is None:
        pytest.skip("real WARC files missing: set LINKPROSPECTOR_WARCS (tests/realpages/README.md)")
    keys = all_pages(root, "warc")
    meta = page_meta(root)
    assert keys and all(KEY.match(key) for key in keys)
    assert len({meta[key]["url"] for key in keys}) == len(keys)
    for key in keys:
        tree, anchors = load_page(root, key)
        assert tree is not None and meta[key]["status"] == 200
    assert 0 < sum(map(is_held_out, keys)) < len(keys)


def test_every_label_selects_what_it_names():
    """Every labelled page has scored links and its overrides name links it has; on WARC pages every rule also
    covers at least one link (a rule covering none is a typo, or a page read differently than when labelled)."""
    from tests.realpages.evaluate import available_sources, labelled_pages

    if not available_sources():
        pytest.skip("real pages missing: set LINKPROSPECTOR_PAGES (tests/realpages/README.md)")
    specs = {spec["page"]: spec for spec in json.loads(LABELS.read_text())["pages"]}
    seen = 0
    for key, _part, _meta, tree, anchors, expected in labelled_pages():
        seen += 1
        assert all(int(index) < len(anchors) for index in specs[key].get("links", {})), key
        assert any(region is not None for region in expected), key
        if source_of(key) == "warc":
            links = set(anchors)
            for selector, _region in specs[key]["rules"]:
                covered = {a for element in select(tree, selector) for a in (element, *element.iter("a", "area"))}
                assert covered & links, (key, selector)
    assert seen


def test_second_labelling_pairs_every_page_it_holds():
    """The second, blind labelling (``second-labels.json``) names only labelled pages, and the agreement it gives
    is computed over every one of them: a page missing from the comparison would inflate or deflate the figure."""
    from tests.realpages.agree import SECOND_LABELS, compare, paired_entries
    from tests.realpages.evaluate import available_sources

    second = json.loads(SECOND_LABELS.read_text())
    pairs = paired_entries(json.loads(LABELS.read_text()), second)
    assert len(pairs) == len(second["pages"]) == 24
    if set(available_sources()) != {"pages", "warc"}:
        pytest.skip("real pages missing: set LINKPROSPECTOR_PAGES (tests/realpages/README.md)")
    result = compare(pairs)
    assert result["pages"] == 24 and result["links"] > 2000
    assert 0.5 < result["agreement"] < 1.0  # two readings of 24 real pages never agree on every link
