"""How much of each ECB+ development article survives our plain-text cleaner.

    python bench/cleaning_ecb.py [--worst 5] [--outlets]

ECB+ articles are news reports one sentence a line, some under a headline and a
date stamp, many a sentence or two long, with no page furniture: what the cleaner
drops is lost reporting, and an outlet it names is a guess (their texts name none).
Each article's "text" is written to a .txt file as a user would drop it, read back
by the file reader and cleaned by `clean_boilerplate` (the code the workers run,
without the per-outlet line counts, which need Redis). Prints, as its last line, how
many articles come out empty, how many keep less than 95% of their words, the
minimum and mean share of words kept, and how many were given an outlet; `--outlets`
also lists the outlets named. The data lives outside the repo:
../shared/bench/stories/ecbplus-dev.jsonl, or NEWSFLOW_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.document import Document  # noqa: E402
from pipeline.errors import SkipDocument  # noqa: E402
from pipeline.sources.files import read_dropped_file  # noqa: E402
from pipeline.stages.clean import clean_boilerplate  # noqa: E402

_WORD = re.compile(r"\w+")


def ecb_dev_path() -> Path:
    base = os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench")
    return Path(base) / "stories" / "ecbplus-dev.jsonl"


def load_articles(path: Path) -> list[tuple[str, str]]:
    """(doc_id, text) of every article, in file order."""
    with path.open(encoding="utf-8") as f:
        return [(r["doc_id"], r["text"]) for r in map(json.loads, f) if r.get("text")]


def words_kept(raw: str, kept: str) -> float:
    """Share of the input's words (counted with repeats) that `kept` still holds."""
    before = Counter(w.lower() for w in _WORD.findall(raw))
    after = Counter(w.lower() for w in _WORD.findall(kept))
    total = sum(before.values())
    return sum((before & after).values()) / total if total else 1.0


class Outcome(NamedTuple):
    doc_id: str
    kept: float  # share of the input's words in the cleaned text (0.0: skipped as empty)
    outlet: str


def clean_as_dropped(doc_id: str, text: str, folder: Path) -> tuple[Document, Document | None]:
    """The document as read from a dropped `<doc_id>.txt`, and cleaned (None: skipped)."""
    path = folder / f"{doc_id}.txt"
    path.write_text(text, encoding="utf-8")
    doc = read_dropped_file(path, max_bytes=50_000_000)
    try:
        return doc, clean_boilerplate(doc)
    except SkipDocument:
        return doc, None


def run(articles: list[tuple[str, str]]) -> list[Outcome]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for doc_id, text in articles:
            doc, cleaned = clean_as_dropped(doc_id, text, Path(tmp))
            if cleaned is None:
                out.append(Outcome(doc_id, 0.0, ""))
            else:
                out.append(Outcome(doc_id, words_kept(doc.raw_text, cleaned.text), cleaned.outlet))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worst", type=int, default=5, help="list this many articles that keep least")
    ap.add_argument("--outlets", action="store_true", help="list the outlets the cleaner named")
    args = ap.parse_args()
    path = ecb_dev_path()
    if not path.is_file():
        sys.exit(f"no ECB+ development file at {path} (set NEWSFLOW_BENCH_DIR)")
    outcomes = run(load_articles(path))
    for o in sorted(outcomes, key=lambda o: o.kept)[: args.worst]:
        print(f"    {o.doc_id:14} kept {o.kept:.3f}")
    named = Counter(o.outlet for o in outcomes if o.outlet)
    if args.outlets:
        print(f"outlets named: {named.most_common()}")
    shares = [o.kept for o in outcomes]
    empty = sum(1 for o in outcomes if not o.kept)
    below = sum(1 for k in shares if k < 0.95)
    print(
        f"ecb+ dev cleaning: articles {len(shares)} empty {empty} below 95% {below} "
        f"words kept min {min(shares):.3f} mean {sum(shares) / len(shares):.3f} outlets {sum(named.values())}"
    )


if __name__ == "__main__":
    main()
