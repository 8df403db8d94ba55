"""The stories write as the index grows: ms per document at 200 and at 2000 stored documents.

    python bench/stories_write.py [--sizes 200,2000] [--backends sqlite,elasticsearch] [--batch 16]

What the write path does after a batch's bodies are written (pipeline/write.py): the
component labels from the story store, `update_many` (labels, member summaries, the
records of the stories touched) and the late copy marks. Timed per batch, per document,
in one run per back-end, over the 200 arrivals after 200 documents are stored and over
the 200 after 2000 (the same process, warmed up alike).

The corpus: ECB+ dev articles (../shared/bench/stories, or NEWSFLOW_BENCH_DIR) through
the real entity stage, whole topics up to 200 articles, replicated as `bench/stories.py
--scale` does in its "recurring" mode (replica c is dated 90 days after replica c-1: the
same kinds of events again, a season later). So the stories keep their size while the
index grows tenfold: a write whose work grows with the index, not with the story, shows
as a ratio above 1. Everything before the write (dedup, placement, the body) is not timed.
Each replica of an article is also a near duplicate of the earlier ones, so the newest
marks every older one a copy (`versions`): that work grows with the replicas, not with the
stories. `--no-dedup` leaves the near-duplicate stage out, to time the stories alone.
Elasticsearch: the cluster at NEWSFLOW_ES_URL (a per-run prefix, deleted at the end).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stories import ecb_documents, enrich, load_nlp, variant  # noqa: E402
from pipeline.document import Document  # noqa: E402
from pipeline.stages.stories import assign_story, find_duplicates  # noqa: E402

WINDOW = 200  # arrivals timed from each size on


def base_articles(rows: list[dict[str, Any]], docs: list[Document], n: int) -> list[Document]:
    """Whole ECB+ topics, in a fixed random order, until there are `n` articles."""
    topics: dict[str, list[Document]] = {}
    for row, doc in zip(rows, docs, strict=True):
        topics.setdefault(str(row.get("topic") or row["cluster_id"]).split("_")[0], []).append(doc)
    names = sorted(topics)
    random.Random(1).shuffle(names)
    out: list[Document] = []
    for name in names:
        if len(out) >= n:
            break
        out += topics[name]
    return out[:n]


def corpus(base: list[Document], n: int) -> list[Document]:
    """`n` documents: replicas of `base`, replica c dated 90 days after replica c-1, each
    replica arriving in its own random order."""
    rng = random.Random(n)
    out = []
    for copy in range(-(-n // len(base))):
        day = date(2020, 1, 1) + timedelta(days=90 * copy)
        replica = [variant(d, copy, rng, (day + timedelta(days=rng.randint(0, 2))).isoformat()) for d in base]
        rng.shuffle(replica)
        out += replica
    return out[:n]


def run(
    docs: list[Document],
    url: str,
    make: Callable[[Any], tuple[Any, Any, Callable[[], None]]],
    batch: int,
    prefix: str,
    dedup: bool = True,
) -> list[tuple[float, float, float]]:
    """Place and write `docs` in batches; per document, the stories write's wall-clock ms,
    this process's CPU ms, and member summaries read (what the records were rebuilt from)."""
    import redis

    import pipeline.stories.plan as plan
    from pipeline.redis.story_store import NearDuplicates, StoryStore

    read = [0]
    build = plan.to_story_record

    def counted(story: str, summaries: Any) -> dict[str, Any]:
        read[0] += len(summaries)
        return build(story, summaries)

    plan.to_story_record = counted  # type: ignore[assignment]

    client = redis.Redis.from_url(url)
    lsh = NearDuplicates(client, prefix=f"{prefix}:dups")
    store = StoryStore(client, prefix=f"{prefix}:stories")
    index, stories, close = make(store)
    per_doc: list[tuple[float, float, float]] = []
    try:
        for at in range(0, len(docs), batch):
            placed = [
                assign_story(find_duplicates(d, lsh=lsh) if dedup else d, stories=store)
                for d in docs[at : at + batch]
            ]
            assert index.write(placed) == []
            started, cpu, read[0] = time.perf_counter(), time.process_time(), 0
            stories.update_many([(d, store.component_labels(d.id)) for d in placed])
            shown = lsh.shown_instead([d.id for d in placed])
            stories.mark_copies(
                {d.id: shown[d.id] for d in placed if d.id in shown and shown[d.id] != d.duplicate_of}
            )
            n = len(placed)
            per_doc += [
                (
                    (time.perf_counter() - started) * 1000 / n,
                    (time.process_time() - cpu) * 1000 / n,
                    read[0] / n,
                )
            ] * n
    finally:
        plan.to_story_record = build  # type: ignore[assignment]
        close()
        lsh.close()
        client.close()
    return per_doc


def sqlite_backend(tmp: Path) -> Callable[[Any], tuple[Any, Any, Callable[[], None]]]:
    def make(store: Any) -> tuple[Any, Any, Callable[[], None]]:
        from pipeline.sqlite.index import SqliteIndex
        from pipeline.sqlite.stories import SqliteStories

        path = tmp / f"{secrets.token_hex(4)}.sqlite3"
        index, stories = SqliteIndex(path), SqliteStories(path)

        def close() -> None:
            stories.close()
            index.close()

        return index, stories, close

    return make


def elastic_backend(url: str) -> Callable[[Any], tuple[Any, Any, Callable[[], None]]]:
    def make(store: Any) -> tuple[Any, Any, Callable[[], None]]:
        from config.settings import Settings
        from pipeline.elastic.admin import setup
        from pipeline.elastic.client import make_client
        from pipeline.elastic.documents import ElasticIndex
        from pipeline.elastic.records import KINDS, alias_name
        from pipeline.elastic.stories import ElasticStories

        prefix = f"nfbench-{secrets.token_hex(4)}"
        es = make_client(Settings.from_env({"NEWSFLOW_ES_URLS": url}))
        setup(es, prefix)
        index = ElasticIndex(es, prefix=prefix)

        def close() -> None:
            for name in sorted(es.indices.get(index=f"{prefix}-*").body):
                es.indices.delete(index=name)
            for kind in KINDS:
                es.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, kind))
            es.close()

        return index, ElasticStories(index, store), close

    return make


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="200,2000")
    ap.add_argument("--backends", default="sqlite,elasticsearch")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--no-dedup", action="store_true", help="leave the near-duplicate stage out")
    args = ap.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    rows, docs = ecb_documents()
    base = base_articles(rows, docs, min(sizes))
    base = enrich(base, load_nlp())
    tmp = Path(tempfile.mkdtemp(prefix="stories-write-"))

    from workers.local import PrivateRedis

    server = PrivateRedis(tmp)
    url = server.start()
    try:
        for backend in args.backends.split(","):
            if backend == "elasticsearch":
                es_url = os.environ.get("NEWSFLOW_ES_URL")
                if not es_url:
                    print("elasticsearch: skipped (set NEWSFLOW_ES_URL)")
                    continue
                make = elastic_backend(es_url)
            else:
                make = sqlite_backend(tmp)
            per_doc = run(
                corpus(base, max(sizes) + WINDOW), url, make, args.batch, backend, dedup=not args.no_dedup
            )
            at = {n: [statistics.mean(x) for x in zip(*per_doc[n : n + WINDOW], strict=True)] for n in sizes}
            for n in sizes:
                ms, cpu, read = at[n]
                print(
                    f"{backend:13} {n:5} stored: stories write {ms:6.2f} ms/doc (CPU {cpu:5.2f}),"
                    f" {read:5.1f} member summaries read/doc (the next {WINDOW} arrivals)",
                    flush=True,
                )
            small, big = min(sizes), max(sizes)
            ratios = " ".join(
                f"{name} {at[big][i] / at[small][i]:.2f}" for i, name in enumerate(("ms", "CPU", "summaries"))
            )
            print(f"{backend:13} ratio {big}/{small}: {ratios}", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
