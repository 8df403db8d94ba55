"""NER + canonicalisation throughput next to spaCy's own, on the same text, in one process.

    python bench/ner_throughput.py [--docs 200] [--rounds 3]

Three ways over the same documents (ECB+ dev articles, lines as paragraphs; the seed
articles when the bench data is absent), back to back per document, `--rounds` times,
best round kept:
  spacy     nlp.pipe over each document's paragraphs, as the stage calls it
  stage     extract_entities without a registry (NER + within-document canonicalisation)
  registry  extract_entities with the Redis registry in a private redis-server
Prints words per second for each and the overhead over spaCy's time (target < 15%).
The bench data lives outside the repo: ../shared/bench, or NEWSFLOW_BENCH_DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.document import Document, content_id  # noqa: E402
from pipeline.stages.entities import _PARAGRAPH, extract_entities  # noqa: E402


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench"))


def load_texts(n: int) -> list[str]:
    gold = bench_dir() / "entities" / "ecbplus-entities-dev.jsonl"
    if gold.exists():
        lines = gold.open(encoding="utf-8").readlines()[:n]
        return [json.loads(line)["text"].replace("\n", "\n\n") for line in lines]
    print(f"(no bench data at {gold}: using the seed articles)")
    return [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds" / "documents").glob("*.txt"))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import redis
    import spacy

    from config.settings import get_settings
    from pipeline.redis.entity_registry import RedisEntityRegistry
    from workers.local import PrivateRedis

    nlp = spacy.load(get_settings().spacy_model, exclude=["lemmatizer"])
    texts = load_texts(args.docs)
    docs = [Document(id=content_id(t), source=f"bench:{i}", raw_text=t, text=t) for i, t in enumerate(texts)]
    words = sum(len(t.split()) for t in texts)
    nlp.pipe(["warm up"])

    def spacy_only(d: Document, _: Any) -> None:
        for _doc in nlp.pipe(
            (m.group().replace("\n", " ") for m in _PARAGRAPH.finditer(d.text)), batch_size=64
        ):
            pass

    def stage(d: Document, registry: Any) -> None:
        extract_entities(d, nlp=nlp, registry=registry)

    # Interleaved per document (the three ways back to back), so that load from other
    # processes on the machine falls on all three alike.
    timings: dict[str, list[float]] = {"spacy": [], "stage": [], "registry": []}
    with tempfile.TemporaryDirectory() as tmp:
        server = PrivateRedis(Path(tmp))
        client = redis.Redis.from_url(server.start())
        try:
            for n in range(args.rounds):
                registry = RedisEntityRegistry(client, prefix=f"throughput:{n}")  # all new to it
                totals = dict.fromkeys(timings, 0.0)
                for d in docs:
                    for name, fn, reg in (
                        ("spacy", spacy_only, None),
                        ("stage", stage, None),
                        ("registry", stage, registry),
                    ):
                        started = time.perf_counter()
                        fn(d, reg)
                        totals[name] += time.perf_counter() - started
                for name, total in totals.items():
                    timings[name].append(total)
        finally:
            server.stop()
    base = min(timings["spacy"])
    print(f"{len(docs)} documents, {words} words, best of {args.rounds} rounds")
    for name, values in timings.items():
        t = min(values)
        extra = "" if name == "spacy" else f"  overhead {100 * (t - base) / base:+.1f}% of spaCy's time"
        print(f"{name:9} {words / t:8.0f} words/s{extra}")


if __name__ == "__main__":
    main()
