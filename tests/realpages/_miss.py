import sys
from collections import defaultdict
from tests.realpages.evaluate import evaluate
part = sys.argv[1] if len(sys.argv) > 1 else "tuning"
t = evaluate(part)[part]
groups = defaultdict(list)
for page, idx, want, got, text in t.misses:
    groups[(page, want, got)].append((idx, text))
for (page, want, got), items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
    print(f"{len(items):4} {page[:30]:30} {want:>10} -> {got:<10} {items[0][0]}..{items[-1][0]} {items[0][1]!r}")
