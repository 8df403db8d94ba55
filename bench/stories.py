"""Score story grouping on ECB+ dev, in several random arrival orders; time the step.

    python bench/stories.py [--orders 5] [--seed 1] [--fit] [--out DIR]

1. Every ECB+ dev article becomes a Document (text, title, outlet) and goes through
   the real entity stage (the configured spaCy model), then `story_features`.
2. Batch: `grouping.group` over all articles, scored by the bench's own score.py.
3. Incremental: for each of `--orders` random orders, the articles arrive one by one
   through `find_duplicates` and `assign_story` against a private redis-server (the
   adapters the workers use); the final labels are scored. Prints each order's F1,
   their mean and spread, and whether every order gave the batch grouping exactly.
4. Per-document milliseconds of the dedup + story step, over all orders.
5. None of the extraction bench's truth texts (real articles about other events)
   may join the seeds' story: prints how many did.
`--fit` refits `grouping.WEIGHTS` by logistic regression on within-topic pairs and
prints them, with a two-fold cross-check (fit on half the topics, score the other half).
The bench data lives outside the repo: ../shared/bench, or NEWSFLOW_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.document import Document, content_id  # noqa: E402
from pipeline.stages.stories import assign_story, find_duplicates  # noqa: E402
from pipeline.stories import grouping  # noqa: E402
from pipeline.stories.features import StoryFeatures, story_features  # noqa: E402


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench"))


def load_nlp() -> Any:
    import spacy

    from config.settings import get_settings

    return spacy.load(get_settings().spacy_model, exclude=["lemmatizer"])


def enrich(docs: list[Document], nlp: Any) -> list[Document]:
    """Run the workers' entity stage (and claims, soft) over every document."""
    from pipeline.stages.entities import extract_entities

    return [extract_entities(d, nlp=nlp) for d in docs]


def ecb_documents() -> tuple[list[dict[str, Any]], list[Document]]:
    rows = [
        json.loads(line) for line in (bench_dir() / "stories" / "ecbplus-dev.jsonl").open(encoding="utf-8")
    ]
    docs = [
        Document(
            id=content_id(r["text"]),
            source=f"ecb:{r['doc_id']}",
            raw_text=r["text"],
            text=r["text"],
            title=r.get("title") or "",
            outlet=r.get("outlet") or "",
        )
        for r in rows
    ]
    return rows, docs


def score(rows: list[dict[str, Any]], docs: list[Document], labels: dict[str, str], out: Path) -> str:
    """Write PRED.jsonl and run the bench's score.py; returns its last line."""
    pred = out / "pred.jsonl"
    with pred.open("w", encoding="utf-8") as f:
        for row, doc in zip(rows, docs, strict=True):
            f.write(json.dumps({"doc_id": row["doc_id"], "story": labels.get(doc.id, doc.id)}) + "\n")
    res = subprocess.run(
        [
            sys.executable,
            str(bench_dir() / "stories" / "score.py"),
            str(bench_dir() / "stories" / "ecbplus-dev.jsonl"),
            str(pred),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout.strip().splitlines()[-1]


def f1_of(line: str) -> float:
    return float(line.split()[1])


def incremental(
    docs: list[Document], order: list[int], url: str, prefix: str
) -> tuple[dict[str, str], float]:
    """Feed `docs` in `order` through the dedup and story stages against Redis."""
    import redis

    from pipeline.adapters.story_store import NearDuplicates, StoryStore

    client = redis.Redis.from_url(url)
    lsh = NearDuplicates(client, prefix=f"{prefix}:dups")
    stories = StoryStore(client, prefix=f"{prefix}:stories")
    started = time.perf_counter()
    for i in order:
        assign_story(find_duplicates(docs[i], lsh=lsh), stories=stories)
    per_doc_ms = (time.perf_counter() - started) * 1000 / len(order)
    labels = stories.all_labels()
    lsh.close()
    client.close()
    return labels, per_doc_ms


def fit(
    features: list[StoryFeatures], rows: list[dict[str, Any]], topics: set[str] | None = None
) -> list[float]:
    """Logistic regression (plain gradient descent) on within-topic pairs sharing a key."""
    import numpy as np

    xs, ys = [], []
    for (a, ra), (b, rb) in itertools.combinations(zip(features, rows, strict=True), 2):
        if (
            ra["topic"] != rb["topic"]
            or (topics and ra["topic"] not in topics)
            or not grouping.share_key(a, b)
        ):
            continue
        xs.append(grouping.pair_vector(a, b))
        ys.append(float(ra["cluster_id"] == rb["cluster_id"]))
    x = np.c_[np.array(xs), np.ones(len(xs))]
    y = np.array(ys)
    w = np.zeros(x.shape[1])
    for _ in range(4000):
        p = 1 / (1 + np.exp(-x @ w))
        w -= 0.5 * (x.T @ (p - y) / len(y) + 1e-3 * np.r_[w[:-1], 0])
    return [round(float(v), 2) for v in w]


def seeds_against_truths(nlp: Any) -> tuple[int, int, bool]:
    """(truth texts in the seeds' story, truth texts, seeds form one story)."""
    seed_docs = [
        Document(
            id=content_id(p.read_text(encoding="utf-8")),
            source=str(p),
            raw_text=p.read_text(encoding="utf-8"),
        )
        for p in sorted((ROOT / "seeds" / "documents").glob("*.txt"))
    ]
    from pipeline.stages.clean import DEFAULT_CLEAN, clean_boilerplate

    seed_docs = [clean_boilerplate(d, options=DEFAULT_CLEAN) for d in seed_docs]
    truths = []
    for p in sorted((bench_dir() / "extraction" / "dev").glob("*.truth.txt")):
        text = p.read_text(encoding="utf-8")
        truths.append(Document(id=content_id(text), source=str(p), raw_text=text, text=text))
    docs = enrich(seed_docs + truths, nlp)
    labels = grouping.group([story_features(d) for d in docs])
    seed_story = {labels[d.id] for d in docs[: len(seed_docs)]}
    joined = sum(labels[d.id] in seed_story for d in docs[len(seed_docs) :])
    return joined, len(truths), len(seed_story) == 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if not (bench_dir() / "stories" / "ecbplus-dev.jsonl").exists():
        sys.exit(f"no story bench under {bench_dir()} (set NEWSFLOW_BENCH_DIR)")
    out = args.out or Path(tempfile.mkdtemp(prefix="stories-bench-"))
    out.mkdir(parents=True, exist_ok=True)

    nlp = load_nlp()
    rows, docs = ecb_documents()
    started = time.perf_counter()
    docs = enrich(docs, nlp)
    print(f"entities: {len(docs)} articles in {time.perf_counter() - started:.1f}s")
    features = [story_features(d) for d in docs]

    if args.fit:
        print("fitted weights (all topics):", fit(features, rows))
        topics = sorted({r["topic"] for r in rows}, key=int)
        halves = [set(topics[0::2]), set(topics[1::2])]
        for k in (0, 1):
            w = fit(features, rows, halves[k])
            test = [i for i, r in enumerate(rows) if r["topic"] in halves[1 - k]]
            fs = [features[i] for i in test]
            edges = {}
            for a, b in itertools.combinations(sorted(fs, key=lambda f: f.id), 2):
                if grouping.share_key(a, b) and (s := grouping.pair_score(a, b, w)) >= grouping.EDGE_FLOOR:
                    edges[(a.id, b.id)] = s
            labels = grouping.cluster([f.id for f in fs], edges)
            sub_rows = [rows[i] for i in test]
            sub = out / f"half{k}"
            sub.mkdir(exist_ok=True)
            gold = sub / "gold.jsonl"
            gold.write_text("".join(json.dumps(r) + "\n" for r in sub_rows), encoding="utf-8")
            pred = sub / "pred.jsonl"
            pred.write_text(
                "".join(
                    json.dumps({"doc_id": r["doc_id"], "story": labels[docs[i].id]}) + "\n"
                    for r, i in zip(sub_rows, test, strict=True)
                ),
                encoding="utf-8",
            )
            res = subprocess.run(
                [sys.executable, str(bench_dir() / "stories" / "score.py"), str(gold), str(pred)],
                capture_output=True,
                text=True,
                check=True,
            )
            last = res.stdout.strip().splitlines()[-1]
            print(f"cross-check: fit on half {k}, scored on the other half: {last}")

    batch = grouping.group(features)
    batch_line = score(rows, docs, batch, out)
    print(f"batch grouping: {batch_line}")

    from workers.local import PrivateRedis

    server = PrivateRedis(out)
    url = server.start()
    try:
        f1s, ms, same = [], [], 0
        rng = random.Random(args.seed)
        for n in range(args.orders):
            order = list(range(len(docs)))
            rng.shuffle(order)
            labels, per_doc = incremental(docs, order, url, prefix=f"bench{n}")
            line = score(rows, docs, labels, out)
            f1s.append(f1_of(line))
            ms.append(per_doc)
            same += labels == batch
            print(f"order {n + 1}: {line}  ({per_doc:.1f} ms/doc)")
    finally:
        server.stop()
    spread = max(f1s) - min(f1s)
    print(
        f"pairwise F1 over {args.orders} random orders: mean {statistics.mean(f1s):.3f} "
        f"spread {spread:.3f}; identical to batch in {same}/{args.orders}"
    )
    print(
        f"dedup + story step: {statistics.mean(ms):.1f} ms/doc, {1000 / statistics.mean(ms):.0f} docs/s "
        f"(one process, private Redis)"
    )
    joined, n_truths, one = seeds_against_truths(nlp)
    print(f"extraction truth texts joining the seeds' story: {joined}/{n_truths}; seeds one story: {one}")


if __name__ == "__main__":
    main()
