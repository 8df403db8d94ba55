"""Score story grouping on ECB+ dev (held out and in sample), in random arrival orders; time it.

    python bench/stories.py [--orders 5] [--seed 1] [--fit] [--scale 500,2000] [--out DIR]

1. Every ECB+ dev article becomes a Document (text, title, outlet) and goes through
   the real entity stage (the configured spaCy model), then `story_features`.
2. Held out (the headline): two folds over topics. The pair-score weights and the
   clustering threshold are fitted on half the topics and the other half is grouped
   with them; the two halves' predictions are pooled and scored together. In sample:
   the shipped `grouping.WEIGHTS` over all topics (they were fitted on all of them).
3. Incremental: for each of `--orders` random orders, the articles arrive one by one
   through `find_duplicates` and `assign_story` against a private redis-server (the
   adapters the workers use); the final labels are scored. Prints each order's F1,
   the spread, and how many orders gave exactly the batch grouping (`grouping.group`).
4. `--scale`: ms/doc of the dedup + story step as the store grows, on ECB+ replicated
   with light variations (sentences reordered, an "Update" line added; the entities
   are the original's) up to each size, in two ways: "copies" (undated, every replica
   of an article reports the same event) and "recurring" (replica c is dated 90 days
   after replica c-1: the same kinds of events again, a season later). Prints ms/doc
   over the whole run and over the last 100 arrivals, and the F1 of that corpus.
5. None of the extraction bench's truth texts (real articles about other events)
   may join the seeds' story: prints how many did.
6. The product path, the headline (`--fast` skips it): every article written as a file
   as it is, `newsflow run`, `newsflow export`: each article scored by the story its
   document carries (a copy by its own; an article cleaning drops is a story of its own).
   In sample: all articles in one run, shipped parameters. Cross-validated (the last
   line): 5 folds over topics (shuffled, not the tuning halves of 2.); for each, weights,
   threshold, lead share and rescue link fitted on the other folds' product documents,
   then the fold's articles alone in a fresh `newsflow run` given them through
   NEWSFLOW_FITTED_PARAMS; the folds pooled, beside the batch grouping (`grouping.group`)
   of the same documents.
`--fit` prints weights refitted on all topics (to paste into `grouping.WEIGHTS`).
Scores come from the bench's own score.py. The bench data lives outside the repo:
../shared/bench, or NEWSFLOW_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.product import drop_and_run, exported  # noqa: E402
from pipeline.document import Document, content_id  # noqa: E402
from pipeline.stages.stories import assign_story, find_duplicates  # noqa: E402
from pipeline.stories import grouping  # noqa: E402
from pipeline.stories.features import StoryFeatures, story_features  # noqa: E402


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench"))


def load_nlp() -> Any:
    from config.settings import get_settings
    from pipeline.nlp import load_model

    return load_model(get_settings().spacy_model)  # as the workers load it


def enrich(docs: list[Document], nlp: Any, registry: Any = None) -> list[Document]:
    """Run the workers' entity stage over every document, in order, with the entity
    registry the workers share (`registry`: names resolved across documents, as the
    product names them), else within each document only."""
    from pipeline.stages.entities import extract_entities

    return [extract_entities(d, nlp=nlp, registry=registry) for d in docs]


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
    """Score `labels` (document id -> story) of `docs`, the documents of `rows`."""
    return score_rows(
        rows, {r["doc_id"]: labels.get(d.id, d.id) for r, d in zip(rows, docs, strict=True)}, out
    )


def score_rows(rows: list[dict[str, Any]], stories: dict[str, str], out: Path) -> str:
    """Write GOLD and PRED files for `rows` (`stories`: ECB+ doc_id -> story; an article
    missing from it is a story of its own) and run the bench's score.py; returns its last line."""
    gold, pred = out / "gold.jsonl", out / "pred.jsonl"
    gold.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    pred.write_text(
        "".join(
            json.dumps({"doc_id": r["doc_id"], "story": stories.get(r["doc_id"], r["doc_id"])}) + "\n"
            for r in rows
        ),
        encoding="utf-8",
    )
    res = subprocess.run(
        [sys.executable, str(bench_dir() / "stories" / "score.py"), str(gold), str(pred)],
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout.strip().splitlines()[-1]


def f1_of(line: str) -> float:
    return float(line.split()[1])


def incremental(
    docs: list[Document], order: list[int], url: str, prefix: str
) -> tuple[dict[str, str], list[float], list[float]]:
    """Feed `docs` in `order` through the dedup and story stages against Redis.

    Returns the final labels and the milliseconds each arrival took: wall-clock, and
    this process's CPU (steadier on a shared machine; Redis's own work is not in it).
    """
    import redis

    from pipeline.redis.story_store import NearDuplicates, StoryStore

    client = redis.Redis.from_url(url)
    lsh = NearDuplicates(client, prefix=f"{prefix}:dups")
    stories = StoryStore(client, prefix=f"{prefix}:stories")
    ms, cpu = [], []
    for i in order:
        started, started_cpu = time.perf_counter(), time.process_time()
        assign_story(find_duplicates(docs[i], lsh=lsh), stories=stories)
        ms.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    labels = stories.all_labels()
    lsh.close()
    client.close()
    return labels, ms, cpu


def fit(features: list[StoryFeatures], rows: list[dict[str, Any]]) -> list[float]:
    """Logistic regression (plain gradient descent) on the candidate pairs within a topic."""
    import numpy as np

    topic = {f.id: r["topic"] for f, r in zip(features, rows, strict=True)}
    story = {f.id: r["cluster_id"] for f, r in zip(features, rows, strict=True)}
    pairs = [(a, b) for a, b in grouping.candidate_pairs(features) if topic[a.id] == topic[b.id]]
    x = np.c_[np.array([grouping.pair_vector(a, b) for a, b in pairs]), np.ones(len(pairs))]
    y = np.array([float(story[a.id] == story[b.id]) for a, b in pairs])
    w = np.zeros(x.shape[1])
    for _ in range(4000):
        p = 1 / (1 + np.exp(-x @ w))
        w -= 0.5 * (x.T @ (p - y) / len(y) + 1e-3 * np.r_[w[:-1], 0])
    return [round(float(v), 2) for v in w]


THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)  # chosen on the training half


def held_out(
    features: list[StoryFeatures], rows: list[dict[str, Any]], docs: list[Document], out: Path
) -> tuple[str, list[str]]:
    """Two folds over topics: fit weights and threshold on one half, group the other.

    Returns the score of the pooled predictions and each half's own score line.
    """
    topics = sorted({r["topic"] for r in rows}, key=int)
    halves = [set(topics[0::2]), set(topics[1::2])]
    pooled: dict[str, str] = {}
    lines = []
    for k in (0, 1):
        train = [i for i, r in enumerate(rows) if r["topic"] in halves[k]]
        test = [i for i, r in enumerate(rows) if r["topic"] not in halves[k]]
        train_f = [features[i] for i in train]
        weights = fit(train_f, [rows[i] for i in train])
        best = max(
            THRESHOLDS,
            key=lambda t: f1_of(
                score(
                    [rows[i] for i in train],
                    [docs[i] for i in train],
                    grouping.group(train_f, weights, t),
                    out,
                )
            ),
        )
        labels = grouping.group([features[i] for i in test], weights, best)
        pooled.update(labels)
        line = score([rows[i] for i in test], [docs[i] for i in test], labels, out)
        lines.append(f"fitted on half {k} (threshold {best}), scored on the other: {line}")
    return score(rows, docs, pooled, out), lines


def variant(doc: Document, copy: int, rng: random.Random, published: str = "") -> Document:
    """`doc` with its sentences after the first reordered and an update line added."""
    lines = doc.text.split("\n")
    head, body = lines[:1], lines[1:]
    rng.shuffle(body)
    text = "\n".join([*head, f"Update {copy}: this report was revised on day {copy}.", *body])
    return Document(
        id=content_id(text),
        source=f"{doc.source}#{copy}",
        raw_text=text,
        text=text,
        title=doc.title,
        outlet=doc.outlet,
        published=published,
        entities=doc.entities,
    )


def replicate(
    docs: list[Document], rows: list[dict[str, Any]], n: int, recurring: bool
) -> tuple[list[Document], list[dict[str, Any]]]:
    """`n` documents: ECB+ (replica 0) then varied replicas, in one random order."""
    rng = random.Random(n)
    out_docs, out_rows = [], []
    for i in range(n):
        copy, j = divmod(i, len(docs))
        published = ""
        if recurring:  # replica c: 90 days after replica c-1, each article within 3 days
            published = (date(2020, 1, 1) + timedelta(days=90 * copy + rng.randint(0, 2))).isoformat()
        doc = docs[j]
        if copy or recurring:
            doc = variant(doc, copy, rng, published)
        out_docs.append(doc)
        cluster = rows[j]["cluster_id"] + (f"@{copy}" if recurring else "")
        out_rows.append({**rows[j], "doc_id": f"{rows[j]['doc_id']}@{copy}", "cluster_id": cluster})
    order = list(range(n))
    rng.shuffle(order)
    return [out_docs[i] for i in order], [out_rows[i] for i in order]


def scale(docs: list[Document], rows: list[dict[str, Any]], sizes: list[int], url: str, out: Path) -> None:
    for recurring in (False, True):
        for n in sizes:
            corpus, corpus_rows = replicate(docs, rows, n, recurring)
            labels, ms, cpu = incremental(corpus, list(range(n)), url, prefix=f"scale{n}{recurring}")
            line = score(corpus_rows, corpus, labels, out)
            kind = "recurring" if recurring else "copies"
            mean, last = statistics.mean(ms), statistics.mean(ms[-100:])
            mean_cpu, last_cpu = statistics.mean(cpu), statistics.mean(cpu[-100:])
            print(
                f"{kind:9} {n:5} docs: {mean:5.1f} ms/doc (CPU {mean_cpu:5.1f}), "
                f"last 100 arrivals {last:5.1f} (CPU {last_cpu:5.1f}); {line}"
            )


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


def same_partition(a: dict[str, str], b: dict[str, str]) -> bool:
    def blocks(labels: dict[str, str]) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for doc, story in labels.items():
            groups.setdefault(story, set()).add(doc)
        return {frozenset(g) for g in groups.values()}

    return blocks(a) == blocks(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fit", action="store_true")
    ap.add_argument("--scale", default="", help="corpus sizes to time, e.g. 500,2000")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--fast", action="store_true", help="in-process only, not the product path")
    args = ap.parse_args()
    if not (bench_dir() / "stories" / "ecbplus-dev.jsonl").exists():
        sys.exit(f"no story bench under {bench_dir()} (set NEWSFLOW_BENCH_DIR)")
    out = args.out or Path(tempfile.mkdtemp(prefix="stories-bench-"))
    out.mkdir(parents=True, exist_ok=True)

    import redis

    from pipeline.redis.entity_registry import RedisEntityRegistry
    from workers.local import PrivateRedis

    server = PrivateRedis(out)
    url = server.start()
    nlp = load_nlp()
    rows, docs = ecb_documents()
    started = time.perf_counter()
    docs = enrich(docs, nlp, RedisEntityRegistry(redis.Redis.from_url(url), prefix="bench:entities"))
    print(
        f"entities (names from the shared registry, as the workers give them): {len(docs)} articles "
        f"in {time.perf_counter() - started:.1f}s"
    )
    features = [story_features(d) for d in docs]

    pooled, halves = held_out(features, rows, docs, out)
    for line in halves:
        print(line)
    print(f"held out (two folds over topics, pooled): {pooled}")
    batch = grouping.group(features)
    print(f"in sample (shipped weights, all topics):  {score(rows, docs, batch, out)}")
    if args.fit:
        print("fitted weights (all topics):", fit(features, rows))

    try:
        f1s, ms, same = [], [], 0
        rng = random.Random(args.seed)
        for n in range(args.orders):
            order = list(range(len(docs)))
            rng.shuffle(order)
            labels, per_doc, _ = incremental(docs, order, url, prefix=f"bench{n}")
            line = score(rows, docs, labels, out)
            f1s.append(f1_of(line))
            ms.extend(per_doc)
            same += same_partition(labels, batch)
            print(f"order {n + 1}: {line}  ({statistics.mean(per_doc):.1f} ms/doc)")
        spread = max(f1s) - min(f1s)
        print(
            f"pairwise F1 over {args.orders} random orders: mean {statistics.mean(f1s):.3f} "
            f"spread {spread:.3f}; the batch grouping exactly in {same}/{args.orders}"
        )
        print(
            f"dedup + story step: {statistics.mean(ms):.1f} ms/doc, {1000 / statistics.mean(ms):.0f} docs/s "
            f"(one process, private Redis)"
        )
        if args.scale:
            scale(docs, rows, [int(n) for n in args.scale.split(",")], url, out)
    finally:
        server.stop()
    joined, n_truths, one = seeds_against_truths(nlp)
    print(f"extraction truth texts joining the seeds' story: {joined}/{n_truths}; seeds one story: {one}")
    if not args.fast:
        cross_validated(rows, out)


def product_documents(
    rows: list[dict[str, Any]], tmp: Path, settings: dict[str, str] | None = None
) -> dict[str, Document]:
    """ECB+ doc_id -> the document `newsflow export` reports for that article, the articles
    dropped as files (as written: title line, then one sentence per line)."""
    env = drop_and_run({r["doc_id"]: r["text"] for r in rows}, tmp, settings=settings)
    out: dict[str, Document] = {}
    for record in exported(env):
        doc = Document.from_dict({"raw_text": "", **record})  # export leaves the input out
        for source in record["sources"]:
            out[Path(source).stem] = doc
    return out


def product_stories(docs: dict[str, Document]) -> dict[str, str]:
    """Each article's story as the product reports it (an article cleaning drops: its own)."""
    return {name: doc.story_id or doc.id for name, doc in docs.items()}


_FEATURES: dict[int, tuple[Document, StoryFeatures]] = {}


def features_of(doc: Document) -> StoryFeatures:
    """`story_features(doc)`, computed once per document object: a fold's fit groups the
    same documents once per grid point (the cache holds the document, so its id stays its own)."""
    if id(doc) not in _FEATURES:
        _FEATURES[id(doc)] = (doc, story_features(doc))
    return _FEATURES[id(doc)][1]


def batch_stories(
    docs: dict[str, Document], weights: list[float] | tuple[float, ...], threshold: float
) -> dict[str, str]:
    """The same documents grouped as one batch (`grouping.group`), by ECB+ doc_id."""
    features = {d.id: features_of(d) for d in docs.values()}
    labels = grouping.group(list(features.values()), weights, threshold)
    return {name: labels[doc.id] for name, doc in docs.items()}


LEAD_SHARES = (0.6, 0.75, 0.9)  # grouping.LEAD_SHARE, chosen per fold with the threshold
RESCUE_LINKS = (0.5, 0.6, 0.7)  # grouping.RESCUE_LINK, chosen per fold with them


def fit_fold(
    train_rows: list[dict[str, Any]], docs: dict[str, Document], out: Path
) -> tuple[list[float], float, float, float]:
    """Weights, threshold, lead share and rescue link fitted on `train_rows` only, from the
    product's documents: the parameters NEWSFLOW_FITTED_PARAMS gives the workers."""
    unique: dict[str, tuple[StoryFeatures, dict[str, Any]]] = {}
    for r in train_rows:
        if r["doc_id"] in docs:
            doc = docs[r["doc_id"]]
            unique.setdefault(doc.id, (features_of(doc), r))
    features = [f for f, _ in unique.values()]
    weights = fit(features, [r for _, r in unique.values()])
    train = {r["doc_id"]: docs[r["doc_id"]] for r in train_rows if r["doc_id"] in docs}
    shipped, link, f1s = grouping.LEAD_SHARE, grouping.RESCUE_LINK, {}
    try:
        for share in LEAD_SHARES:
            grouping.LEAD_SHARE = share
            for rescue in RESCUE_LINKS:
                grouping.RESCUE_LINK = rescue
                for t in THRESHOLDS:
                    stories = batch_stories(train, weights, t)
                    f1s[t, share, rescue] = f1_of(score_rows(train_rows, stories, out))
    finally:
        grouping.LEAD_SHARE, grouping.RESCUE_LINK = shipped, link
    # Ties: the values nearest the shipped ones.
    threshold, share, rescue = max(
        f1s,
        key=lambda k: (f1s[k], -abs(k[1] - shipped), -abs(k[2] - link), -abs(k[0] - grouping.THRESHOLD)),
    )
    return weights, threshold, share, rescue


FOLDS = 5
FOLD_SEED = 18  # topics shuffled before dealing: not the halves (even/odd) tuned on


def topic_folds(rows: list[dict[str, Any]], k: int = FOLDS) -> list[set[str]]:
    topics = sorted({r["topic"] for r in rows}, key=int)
    random.Random(FOLD_SEED).shuffle(topics)
    return [set(topics[i::k]) for i in range(k)]


def cross_validated(rows: list[dict[str, Any]], out: Path) -> None:
    """The headline: the product path, in sample and cross-validated over 5 folds of topics.

    In sample: every article in one `newsflow run` with the shipped parameters. Each fold:
    weights (as `--fit` does), threshold, lead share and rescue link fitted on the documents
    of the other four folds' topics, as that run exported them; then the fold's articles alone in a fresh
    `newsflow run` (its own Redis, registry and story store) with those parameters
    (NEWSFLOW_FITTED_PARAMS). The five folds' stories are pooled and scored together,
    beside the batch grouping (`grouping.group`) of the same documents, same parameters.
    """
    started = time.perf_counter()
    everything = product_documents(rows, out / "product")
    in_sample = score_rows(rows, product_stories(everything), out)
    print(f"product path, in sample (shipped parameters, all topics): {in_sample}")
    product: dict[str, str] = {}
    batch: dict[str, str] = {}
    for k, topics in enumerate(topic_folds(rows)):
        train = [r for r in rows if r["topic"] not in topics]
        test = [r for r in rows if r["topic"] in topics]
        weights, threshold, share, rescue = fit_fold(train, everything, out)
        params = out / f"fold{k}.json"
        fitted = {"weights": weights, "threshold": threshold, "lead_share": share, "rescue_link": rescue}
        params.write_text(json.dumps({"stories": fitted}), encoding="utf-8")
        docs = product_documents(test, out / f"fold{k}", {"NEWSFLOW_FITTED_PARAMS": str(params)})
        product.update(product_stories(docs))
        shipped, link = grouping.LEAD_SHARE, grouping.RESCUE_LINK
        grouping.LEAD_SHARE, grouping.RESCUE_LINK = share, rescue
        batch.update(batch_stories(docs, weights, threshold))
        grouping.LEAD_SHARE, grouping.RESCUE_LINK = shipped, link
        line = score_rows(test, product_stories(docs), out)
        topic_list = ",".join(sorted(topics, key=int))
        print(
            f"fold {k} (topics {topic_list}; threshold {threshold}, lead share {share}, "
            f"rescue link {rescue}): {line}"
        )
    batch_line = score_rows(rows, batch, out)
    print(f"batch grouping of the same documents, cross-validated: {batch_line}")
    print(f"product path: {time.perf_counter() - started:.0f}s")
    cv = score_rows(rows, product, out)
    print(
        f"product path, cross-validated ({FOLDS} folds over topics): {cv}; "
        f"batch pairwise_f1 {f1_of(batch_line):.3f}; in sample pairwise_f1 {f1_of(in_sample):.3f}"
    )


if __name__ == "__main__":
    main()
