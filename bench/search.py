"""Search by name on ECB+ dev, through the product: does a person's or place's usual name
find every article that mentions it, however the article wrote it?

    python bench/search.py [--backend sqlite|elasticsearch] [--es-url URL] [--keep DIR]

1. Every ECB+ dev article (topics 1-25) is written as a text file (its lines as
   paragraphs) into a drop folder; `newsflow run` processes the folder on a private
   home and Redis, as a user runs it (cleaning, the model, the registry, the index).
2. For every gold entity mentioned in two or more articles, the query is its usual
   full name: the most frequent surface of two or more words among its mentions (else
   the most frequent surface). `newsflow search QUERY --json` is asked, as a user asks.
3. Expected: the articles with a gold mention of the entity. Printed, pooled over
   entities (pairs of entity and article):
   - recall: expected articles found;
   - recall_other_forms: the same, over the articles that do not hold the query's words
     (they wrote "LaRue" or "Frederick C. LaRue" for "Fred LaRue"): what only name
     resolution finds; `words_only` is what a plain all-words search finds of them (0);
   - extra: hits that neither mention the entity nor hold every word of the query: what
     the expansion dragged in, per query and as a share of the hits.
   By topic halves (topics 1-12, 13-25) beside the pooled figure: nothing in search is
   fitted on this data, so there is no held-out split to make; the spread across halves
   shows how much the figure moves with the topics. (The name-matching thresholds search
   shares with the entity stage were chosen on these articles' entity bench: for those,
   this figure is in sample.)
The bench data lives outside the repo: ../shared/bench, or NEWSFLOW_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.product import drop_and_run, newsflow  # noqa: E402

_WORD = re.compile(r"\w+")


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench"))


def usual_name(surfaces: list[str]) -> str:
    """The most frequent surface of two or more words, else the most frequent one
    (a possessive's "'s" left off)."""
    counts = Counter(re.sub(r"['’]s$", "", " ".join(s.split())) for s in surfaces)
    full = [(n, s) for s, n in counts.items() if len(s.split()) >= 2]
    return max(full or [(n, s) for s, n in counts.items()], key=lambda t: (t[0], len(t[1]), t[1]))[1]


def holds_words(text: str, query: str) -> bool:
    words = set(_WORD.findall(text.casefold()))
    return all(w in words for w in _WORD.findall(query.casefold()))


def entities(articles: list[dict[str, Any]]) -> dict[str, tuple[str, set[str], str]]:
    """Gold entity -> (query, articles mentioning it, topic), for entities in 2+ articles."""
    surfaces: dict[str, list[str]] = defaultdict(list)
    docs: dict[str, set[str]] = defaultdict(set)
    topic: dict[str, str] = {}
    for a in articles:
        for m in a["mentions"]:
            if not m.get("instance"):
                continue
            surfaces[m["instance"]].append(m["surface"])
            docs[m["instance"]].add(a["doc_id"])
            topic[m["instance"]] = a["topic"]
    return {e: (usual_name(surfaces[e]), docs[e], topic[e]) for e in docs if len(docs[e]) >= 2}


def score(rows: list[dict[str, Any]]) -> dict[str, float]:
    pairs = sum(len(r["expected"]) for r in rows)
    found = sum(len(r["expected"] & r["hits"]) for r in rows)
    other = sum(len(r["expected"] - r["literal"]) for r in rows)
    other_found = sum(len((r["expected"] - r["literal"]) & r["hits"]) for r in rows)
    extra = sum(len(r["hits"] - r["expected"] - r["literal"]) for r in rows)
    hits = sum(len(r["hits"]) for r in rows)
    return {
        "recall": found / max(pairs, 1),
        "recall_other_forms": other_found / max(other, 1),
        "other_form_pairs": other,
        "extra_per_query": extra / max(len(rows), 1),
        "extra_share": extra / max(hits, 1),
        "pairs": pairs,
        "queries": len(rows),
    }


def show(name: str, s: dict[str, float]) -> str:
    return (
        f"{name:<14} recall {s['recall']:.3f}  recall_other_forms {s['recall_other_forms']:.3f} "
        f"(of {s['other_form_pairs']})  extra_per_query {s['extra_per_query']:.2f}  "
        f"extra_share {s['extra_share']:.3f}  queries {s['queries']}  pairs {s['pairs']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="sqlite", choices=["sqlite", "elasticsearch"])
    ap.add_argument("--es-url", default=os.environ.get("NEWSFLOW_ES_URL", ""))
    ap.add_argument("--keep", type=Path, help="keep the run's home here and write the misses")
    args = ap.parse_args()
    data = bench_dir() / "entities" / "ecbplus-entities-dev.jsonl"
    if not data.exists():
        print(f"skipped: no ECB+ entity data at {data} (set NEWSFLOW_BENCH_DIR)")
        return
    articles = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    texts = {a["doc_id"]: a["text"] for a in articles}
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="nf-search-"))
    tmp.mkdir(parents=True, exist_ok=True)
    env = drop_and_run(
        {a["doc_id"]: a["text"].replace("\n", "\n\n") for a in articles},
        tmp,
        backend=args.backend,
        es_url=args.es_url,
    )
    rows = []
    for entity, (query, expected, topic) in sorted(entities(articles).items()):
        out = newsflow(env, "search", query, "--json", "--limit", "1000")
        if out.returncode != 0:
            print(f"search {query!r} exited {out.returncode}: {out.stderr.strip()[-300:]}")
        hits = {
            Path(src).stem
            for line in out.stdout.splitlines()
            if line.strip()
            for src in json.loads(line)["sources"]
        }
        literal = {d for d, t in texts.items() if holds_words(t, query)}
        rows.append(
            {
                "entity": entity,
                "query": query,
                "topic": int(topic),
                "expected": expected,
                "hits": hits,
                "literal": literal,
            }
        )
    for name, part in (
        ("topics 1-12", [r for r in rows if r["topic"] <= 12]),
        ("topics 13-25", [r for r in rows if r["topic"] > 12]),
    ):
        print(show(name, score(part)))
    words_only = score([{**r, "hits": r["hits"] & r["literal"]} for r in rows])
    print(f"words_only     recall {words_only['recall']:.3f}  (a search for the words alone)")
    if args.keep:
        with (tmp / "misses.jsonl").open("w", encoding="utf-8") as f:
            for r in rows:
                if r["expected"] - r["hits"] or r["hits"] - r["expected"] - r["literal"]:
                    f.write(
                        json.dumps(
                            {
                                "query": r["query"],
                                "missed": sorted(r["expected"] - r["hits"]),
                                "extra": sorted(r["hits"] - r["expected"] - r["literal"]),
                            }
                        )
                        + "\n"
                    )
    print(show("all", score(rows)))


if __name__ == "__main__":
    main()
