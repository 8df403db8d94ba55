"""Score cross-document entity canonicalisation on ECB+ dev, over random arrival orders.

    python bench/entities.py [--orders 5] [--seed 1] [--by-type] [--keep DIR] [--fast]

1. Every ECB+ dev article (topics 1-25) goes through spaCy and the within-document
   step of the entity stage once (`find_mentions`, `resolve_document`); its lines
   become paragraphs, as the cleaner writes them.
2. For each of `--orders` random arrival orders, the articles are matched one by
   one against a fresh registry in a private redis-server (`RedisEntityRegistry`,
   the adapter the workers use). Every mention is written with its offsets and the
   canonical name the registry gave it at that moment (what the document carries).
3. The bench's own score.py scores each order (pairwise F1 over mentions in
   different articles of a topic). Prints each order, then mean, min and max.
4. The product path, the headline (last line; `--fast` skips it): every article
   written as a file as it is (one sentence per line), `newsflow run` (reading,
   cleaning, language, the entity stage, the registry, the write path with its
   renames), then `newsflow export`: each document is scored by the names it carries
   and the input offsets of its mentions. An article cleaning drops has no entities.
   In sample: all articles in one run, shipped settings. Cross-validated (the last
   line): 5 folds over topics (the folds of bench/stories.py); for each, MIN_CONTEXT
   fitted in process on the other folds' topics, then the fold's articles alone in a
   fresh `newsflow run` given it through NEWSFLOW_FITTED_PARAMS; the folds pooled. The
   other matching settings were set by hand (on these topics), not fitted.
The bench data lives outside the repo: ../shared/bench, or NEWSFLOW_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.product import drop_and_run, exported  # noqa: E402
from pipeline.entities import matching  # noqa: E402
from pipeline.entities.gazetteer import load_gazetteer  # noqa: E402
from pipeline.entities.local import LocalEntity, resolve_document  # noqa: E402
from pipeline.redis.entity_registry import RedisEntityRegistry  # noqa: E402
from pipeline.stages.entities import find_mentions  # noqa: E402

_LAST = re.compile(r"pairwise_f1 ([\d.]+) precision ([\d.]+) recall ([\d.]+)")


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench"))


def load_nlp() -> Any:
    from config.settings import get_settings
    from pipeline.nlp import load_model

    return load_model(get_settings().spacy_model)  # as the workers load it


def as_paragraphs(text: str) -> tuple[str, list[int]]:
    """ECB+ lines as cleaner-style paragraphs ("\\n\\n"), and new offset -> old offset."""
    parts: list[str] = []
    back: list[int] = []
    for i, ch in enumerate(text):
        parts.append("\n\n" if ch == "\n" else ch)
        back += [i, i] if ch == "\n" else [i]
    back.append(len(text))
    return "".join(parts), back


def local_entities(
    articles: list[dict[str, Any]],
    nlp: Any,
) -> dict[str, tuple[list[LocalEntity], list[int]]]:
    gazetteer = load_gazetteer()
    out = {}
    for a in articles:
        text, back = as_paragraphs(a["text"])
        out[a["doc_id"]] = (resolve_document(find_mentions(text, nlp=nlp), gazetteer), back)
    return out


def run_order(
    articles: list[dict[str, Any]], local: dict[str, Any], registry: RedisEntityRegistry, order_seed: int
) -> tuple[list[dict[str, Any]], float]:
    order = list(articles)
    random.Random(order_seed).shuffle(order)
    rows, started = [], time.perf_counter()
    for a in order:
        entities, back = local[a["doc_id"]]
        resolved = registry.resolve(a["doc_id"], entities)
        preds = []
        for e, r in zip(entities, resolved, strict=True):
            for m in e.mentions:
                preds.append(
                    {
                        "surface": m.surface,
                        "canonical": r.canonical,
                        "type": r.label,
                        "start": back[m.start],
                        "end": back[m.end],
                    }
                )
        rows.append({"doc_id": a["doc_id"], "entities": preds})
    return rows, (time.perf_counter() - started) / max(1, len(order))


def score(gold: Path, rows: list[dict[str, Any]], keep: Path, name: str, by_type: bool = False) -> str:
    pred = keep / f"{name}.jsonl"
    pred.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cmd = [sys.executable, str(bench_dir() / "entities" / "score.py"), str(gold), str(pred)]
    return subprocess.run(
        cmd + (["--by-type"] if by_type else []), capture_output=True, text=True, check=True
    ).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--by-type", action="store_true")
    ap.add_argument("--keep", type=Path, default=None, help="write predictions here")
    ap.add_argument("--fast", action="store_true", help="in-process only, not the product path")
    args = ap.parse_args()
    gold = bench_dir() / "entities" / "ecbplus-entities-dev.jsonl"
    if not gold.exists():
        sys.exit(f"no bench data at {gold} (set NEWSFLOW_BENCH_DIR)")
    articles = [json.loads(line) for line in gold.open(encoding="utf-8")]
    started = time.perf_counter()
    local = local_entities(articles, load_nlp())
    print(
        f"{len(articles)} articles through spaCy and within-document resolution "
        f"in {time.perf_counter() - started:.0f}s"
    )

    import redis

    from workers.local import PrivateRedis

    with tempfile.TemporaryDirectory() as tmp:
        keep = args.keep or Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        server = PrivateRedis(Path(tmp))
        client = redis.Redis.from_url(server.start())
        try:
            f1s, precisions = [], []
            for n in range(args.orders):
                registry = RedisEntityRegistry(client, prefix=f"bench:{n}")
                rows, per_doc = run_order(articles, local, registry, args.seed + n)
                out = score(gold, rows, keep, f"order{n}", args.by_type)
                f1, p, r = map(float, _LAST.search(out).groups())  # type: ignore[union-attr]
                f1s.append(f1)
                precisions.append(p)
                detail = "".join(line + "\n" for line in out.splitlines() if line.startswith("  "))
                print(
                    f"order {n} (seed {args.seed + n}): pairwise_f1 {f1:.4f} precision {p:.4f} "
                    f"recall {r:.4f}  registry {per_doc * 1000:.1f} ms/doc\n{detail}",
                    end="",
                )
        finally:
            server.stop()
    print(
        f"in-process: pairwise_f1 mean {statistics.mean(f1s):.4f} min {min(f1s):.4f} "
        f"max {max(f1s):.4f}; precision min {min(precisions):.4f}; orders {len(f1s)}"
    )
    if not args.fast:
        with tempfile.TemporaryDirectory() as tmp:
            cross_validated(articles, local, gold, args.keep or Path(tmp), args.seed)


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


FOLDS = 5
FOLD_SEED = 18  # the same folds as bench/stories.py
MIN_CONTEXTS = (1, 2, 3)  # matching.MIN_CONTEXT, the one parameter fitted per fold


def topic_folds(articles: list[dict[str, Any]], k: int = FOLDS) -> list[set[str]]:
    topics = sorted({str(a["topic"]) for a in articles}, key=int)
    random.Random(FOLD_SEED).shuffle(topics)
    return [set(topics[i::k]) for i in range(k)]


def fit_min_context(
    train: list[dict[str, Any]], local: dict[str, Any], keep: Path, client: Any, seed: int, fold: int
) -> int:
    """The MIN_CONTEXT that scores best on `train` alone (in process, one arrival order)."""
    gold = keep / f"gold{fold}.jsonl"
    gold.write_text("".join(json.dumps(a) + "\n" for a in train), encoding="utf-8")
    shipped, f1s = matching.MIN_CONTEXT, {}
    try:
        for value in MIN_CONTEXTS:
            matching.MIN_CONTEXT = value
            registry = RedisEntityRegistry(client, prefix=f"fit:{fold}:{value}")
            rows, _ = run_order(train, local, registry, seed)
            f1s[value] = float(_LAST.search(score(gold, rows, keep, f"fit{fold}")).group(1))  # type: ignore[union-attr]
    finally:
        matching.MIN_CONTEXT = shipped
    return max(MIN_CONTEXTS, key=lambda v: (f1s[v], v == shipped))


def cross_validated(
    articles: list[dict[str, Any]], local: dict[str, Any], gold: Path, keep: Path, seed: int
) -> None:
    """The headline: the product path, in sample and cross-validated over 5 folds of topics.

    In sample: every article in one `newsflow run`, shipped parameters. Each fold:
    MIN_CONTEXT fitted in process on the other four folds' topics, then the fold's
    articles alone in a fresh `newsflow run` (its own Redis and registry) with it
    (NEWSFLOW_FITTED_PARAMS); the five folds' predictions pooled and scored together.
    The other matching settings are not fitted (set by hand; ECB+ has no transliterations).
    """
    import redis

    from workers.local import PrivateRedis

    in_sample = (
        score(gold, product_rows(articles, keep / "product"), keep, "product").strip().splitlines()[-1]
    )
    print(f"product path, in sample (shipped parameters, all topics): {in_sample}")
    (keep / "fit").mkdir(parents=True, exist_ok=True)
    server = PrivateRedis(keep / "fit")
    client = redis.Redis.from_url(server.start())
    pooled: list[dict[str, Any]] = []
    try:
        for k, topics in enumerate(topic_folds(articles)):
            train = [a for a in articles if str(a["topic"]) not in topics]
            test = [a for a in articles if str(a["topic"]) in topics]
            value = fit_min_context(train, local, keep, client, seed, k)
            params = keep / f"fold{k}.json"
            params.write_text(json.dumps({"entities": {"min_context": value}}), encoding="utf-8")
            rows = product_rows(test, keep / f"fold{k}", {"NEWSFLOW_FITTED_PARAMS": str(params)})
            pooled += rows
            fold_gold = keep / f"test{k}.jsonl"
            fold_gold.write_text("".join(json.dumps(a) + "\n" for a in test), encoding="utf-8")
            line = last_line(score(fold_gold, rows, keep, f"fold{k}"))
            print(f"fold {k} (topics {','.join(sorted(topics, key=int))}; min_context {value}): {line}")
    finally:
        server.stop()
    cv = last_line(score(gold, pooled, keep, "cv"))
    f1 = _LAST.search(in_sample).group(1)  # type: ignore[union-attr]
    print(f"product path, cross-validated ({FOLDS} folds over topics): {cv}; in sample pairwise_f1 {f1}")


def product_rows(
    articles: list[dict[str, Any]], tmp: Path, settings: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """What `newsflow export` says of each article dropped as a file: its entities'
    mentions at their offsets in the file, under the names the documents carry."""
    env = drop_and_run({a["doc_id"]: a["text"] for a in articles}, tmp, settings=settings)
    rows: dict[str, list[dict[str, Any]]] = {a["doc_id"]: [] for a in articles}
    for doc in exported(env):
        preds = [
            {
                "surface": m["surface"],
                "canonical": e["canonical"],
                "type": e["label"],
                "start": m["raw_start"],
                "end": m["raw_end"],
            }
            for e in doc["entities"]
            for m in e.get("mentions", ())
            if m.get("raw_start") is not None
        ]
        for source in doc["sources"]:
            if Path(source).stem in rows:
                rows[Path(source).stem] = preds
    return [{"doc_id": d, "entities": preds} for d, preds in rows.items()]


if __name__ == "__main__":
    main()
