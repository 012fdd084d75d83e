"""Print a page's links grouped by their container chain, for labelling: ``python -m tests.realpages.dump N``
(the N-th page of the pages source in label order), ``warc:N`` (the N-th WARC page) or a key. Shows tags, ids,
classes and roles, never a prediction."""

from __future__ import annotations

import re
import sys

from tests.realpages import is_held_out, load_page, page_key, page_meta, pages_dir

_DIGITS = re.compile(r"\d+")
PLAIN = {"div", "span", "li", "ul", "ol", "p", "td", "tr", "tbody", "table", "strong", "em", "b", "i", "a", "font", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "picture"}


def describe(element) -> str | None:
    if element.tag in ("html", "body"):
        return None
    attrs = element.get("id") or element.get("class") or element.get("role")
    if element.tag in PLAIN and not attrs:
        return None
    out = element.tag
    if element.get("id"):
        out += "#" + _DIGITS.sub("#", element.get("id"))[:25]
    if element.get("class"):
        out += "." + ".".join(_DIGITS.sub("#", c) for c in element.get("class").split()[:3])[:50]
    if element.get("role"):
        out += f"[{element.get('role')}]"
    return out


def main(arg: str) -> None:
    root = pages_dir()
    relpath = page_key(arg, root)
    meta = page_meta(root)[relpath]
    tree, anchors = load_page(root, relpath, meta.get("url"))
    print(f"== {relpath} held_out={is_held_out(relpath)} url={meta.get('url')} links={len(anchors)}")
    previous: list = []
    group: list = []
    group_start = 0

    def flush():
        if group:
            shown = " | ".join(group[:5]) + (f" ...({len(group)})" if len(group) > 5 else "")
            print("  " * len(previous) + f"  {group_start}: {shown[:140]}")

    for index, anchor in enumerate(anchors):
        chain = [d for e in reversed(list(anchor.iterancestors())) if e.tag != "li" and (d := describe(e))]
        text = " ".join(anchor.text_content().split())[:22] or "<img>"
        if chain == previous:
            group.append(text)
            continue
        flush()
        common = 0
        while common < min(len(chain), len(previous)) and chain[common] == previous[common]:
            common += 1
        for level in range(common, len(chain)):
            print("  " * level + chain[level][:110])
        previous, group, group_start = chain, [text], index
    flush()

if __name__ == "__main__":
    for arg in sys.argv[1:]:
        main(arg)
