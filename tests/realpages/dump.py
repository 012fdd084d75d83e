"""Print a page's links grouped by their container chain, for labelling: ``python -m tests.realpages.dump N``
(the N-th page in label order) or a relative path. Shows tags, ids, classes and roles, never a prediction."""

from __future__ import annotations

import sys

from tests.realpages import all_pages, label_order, load_page, page_meta, pages_dir, is_held_out


def describe(element) -> str:
    out = element.tag
    if element.get("id"):
        out += "#" + element.get("id")[:30]
    if element.get("class"):
        out += "." + ".".join(element.get("class").split())[:60]
    if element.get("role"):
        out += f"[role={element.get('role')}]"
    return out


def main(arg: str) -> None:
    root = pages_dir()
    relpath = label_order(all_pages(root))[int(arg)] if arg.isdigit() else arg
    meta = page_meta(root)[relpath]
    tree, anchors = load_page(root, relpath, meta.get("url"))
    print(f"== {relpath} held_out={is_held_out(relpath)} url={meta.get('url')} links={len(anchors)}")
    previous = None
    group = []

    def flush():
        if previous is not None:
            texts = " | ".join(t for t in group[:6])
            print(f"  [{first_index}..+{len(group)}] {previous}\n        {texts[:200]}")

    for index, anchor in enumerate(anchors):
        chain = [describe(e) for e in reversed(list(anchor.iterancestors())) if e.tag not in ("html", "body")]
        chain = [c for c in chain if c not in ("div", "span", "li", "ul", "p", "td", "tr", "tbody", "table", "strong", "em", "b", "i")]
        signature = " > ".join(chain[-7:])
        if signature != previous:
            flush()
            previous, group, first_index = signature, [], index
        group.append(" ".join(anchor.text_content().split())[:30] or "<img>")
    flush()


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        main(arg)
