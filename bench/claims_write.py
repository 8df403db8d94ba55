"""Time the claims write (plan with the Redis registry, apply to the claims table) per
document as the corpus grows: it should not grow with the corpus.

    python bench/claims_write.py [--sizes 200,2000] [--batches 10] [--es URL] [--seed 1]

The claims are synthetic, with the shape news claims have: words drawn from the ECB+ dev
articles (../shared/bench/stories, or NEWSFLOW_BENCH_DIR; their own frequencies, so
common words are common), four claims per document, speakers from a long-tailed list
in which a few ("police", "officials") speak very often, and two in five claims the
outlet's own statement of a figure (the empty speaker: every statement in the corpus).
One claim in five repeats an earlier one of the last 50 documents, reworded and
sometimes with another figure, so groups form (and conflict) as in a news stream,
with sizes that do not grow with the corpus.

For each size, a fresh private redis-server and SQLite file (and Elasticsearch index
with --es) are filled with that many documents in batches of 16, written as the write
path writes them; then `--batches` more batches are timed: wall and CPU ms per document
of the claims write alone (median over batches), and the stored claims the registry read
and the records the plans wrote per document (the work itself, free of the machine's
noise). Prints each size and the ratio of the largest to the smallest.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.claims.figures import parse_figures  # noqa: E402
from pipeline.claims.plan import plan_claims  # noqa: E402
from pipeline.document import Claim, Document  # noqa: E402

BATCH = 16
SPEAKERS = ["police", "officials", "the president", "a spokesman"] + [f"Person {n}" for n in range(300)]
UNITS = ["people", "soldiers", "homes", "dollars", "percent", "vehicles", "schools", "flights"]


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR") or str(ROOT.parent / "shared" / "bench"))


def vocabulary() -> tuple[list[str], list[int]]:
    path = bench_dir() / "stories" / "ecbplus-dev.jsonl"
    rows = (json.loads(line) for line in path.open(encoding="utf-8"))
    counts = Counter(w.lower() for r in rows for w in re.findall(r"[A-Za-z]{3,}", r["text"]))
    words = [w for w, _ in counts.most_common(5000)]
    return words, [counts[w] for w in words]


class Stream:
    """Documents with synthetic claims, one after another (see the module docstring)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words, self.weights = vocabulary()
        self.speaker_weights = [200, 120, 60, 40] + [60 / (n + 1) for n in range(300)]
        self.recent: list[tuple[str, str]] = []  # (speaker, text) of the last 50 documents' claims
        self.n = 0

    def text(self, k: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=k))

    def figure(self) -> str:
        unit = self.rng.choice(UNITS)
        return f"${self.rng.randint(1, 900)}m" if unit == "dollars" else f"{self.rng.randint(2, 900)} {unit}"

    def claim(self) -> tuple[str, str]:
        if self.recent and self.rng.random() < 0.2:
            speaker, text = self.rng.choice(self.recent)
            words = text.split()
            for _ in range(2):
                words[self.rng.randrange(len(words))] = self.rng.choice(self.words)
            text = " ".join(words)
            if self.rng.random() < 0.3:
                text = re.sub(r"\d+", str(self.rng.randint(2, 900)), text, count=1)
            return speaker, text
        if self.rng.random() < 0.4:
            return "", f"{self.text(6)} {self.figure()} {self.text(5)}."
        speaker = self.rng.choices(SPEAKERS, self.speaker_weights)[0]
        figure = f" {self.figure()}" if self.rng.random() < 0.3 else ""
        return speaker, f"{self.text(8)}{figure} {self.text(4)}"

    def document(self) -> Document:
        self.n += 1
        claims, at = [], 0
        for speaker, text in (self.claim() for _ in range(4)):
            kind = "statement" if not speaker else "reported"
            claims.append(
                Claim(
                    text=text,
                    kind=kind,
                    speaker=speaker,
                    speaker_canonical=speaker,
                    figures=parse_figures(text),
                    start=at,
                    end=at + len(text),
                )
            )
            at += len(text) + 1
        self.recent = (self.recent + [(c.speaker, c.text) for c in claims])[-200:]
        return Document(
            id=f"bench{self.n:06}",
            source=f"/bench/{self.n}.txt",
            raw_text="",
            outlet=f"Outlet {self.rng.randrange(40)}",
            claims=tuple(claims),
        )


def write(registry: Any, table: Any, docs: list[Document]) -> tuple[int, int]:
    """Plan and apply as the write path does; (stored claims read, claim records written)."""
    import pipeline.redis.claim_groups as registry_module

    read = []

    def counted(docs: Any, stored: Any, *, gen: int) -> Any:
        read.append(len(stored))
        return plan_claims(docs, stored, gen=gen)

    registry_module.plan_claims = counted  # type: ignore[assignment]
    try:
        with registry.planning(docs) as plan:
            table.apply(plan)
    finally:
        registry_module.plan_claims = plan_claims
    return sum(read), len(plan.fields) + len(plan.deleted)


def measure(size: int, batches: int, seed: int, es_url: str | None) -> dict[str, float]:
    import redis

    from pipeline.redis.claim_groups import ClaimGroups
    from pipeline.sqlite.claims import SqliteClaims
    from workers.local import PrivateRedis

    stream = Stream(seed)
    with tempfile.TemporaryDirectory() as tmp:
        server = PrivateRedis(Path(tmp))
        client = redis.Redis.from_url(server.start())
        es, prefix = None, f"nfbench-{secrets.token_hex(4)}"
        try:
            registry = ClaimGroups(client)
            if es_url:
                from config.settings import Settings
                from pipeline.elastic.admin import setup
                from pipeline.elastic.claims import ElasticClaims
                from pipeline.elastic.client import make_client
                from pipeline.elastic.documents import ElasticIndex

                es = make_client(Settings.from_env({"NEWSFLOW_ES_URLS": es_url}))
                setup(es, prefix, kinds=("claims",))
                table: Any = ElasticClaims(ElasticIndex(es, prefix=prefix))
            else:
                table = SqliteClaims(Path(tmp) / "index.sqlite3")
            started = time.perf_counter()
            for _ in range(size // BATCH):
                write(registry, table, [stream.document() for _ in range(BATCH)])
            fill_s = time.perf_counter() - started
            wall, cpu, read, written = [], [], 0, 0
            for _ in range(batches):
                docs = [stream.document() for _ in range(BATCH)]
                w, c = time.perf_counter(), time.process_time()
                n_read, n_written = write(registry, table, docs)
                wall.append((time.perf_counter() - w) * 1000 / BATCH)
                cpu.append((time.process_time() - c) * 1000 / BATCH)
                read, written = read + n_read, written + n_written
            return {
                "size": size,
                "fill_ms_per_doc": fill_s * 1000 / max(1, size),
                "ms_per_doc": statistics.median(wall),
                "cpu_ms_per_doc": statistics.median(cpu),
                "read_per_doc": read / (batches * BATCH),
                "written_per_doc": written / (batches * BATCH),
            }
        finally:
            client.close()
            server.stop()
            if es is not None:
                from pipeline.elastic.records import alias_name

                for name in sorted(es.indices.get(index=f"{prefix}-*").body):
                    es.indices.delete(index=name)
                es.options(ignore_status=404).indices.delete_index_template(name=alias_name(prefix, "claims"))
                es.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--es", help="also on this Elasticsearch (an index prefix of its own, deleted after)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for backend, url in [("sqlite", None)] + ([("elasticsearch", args.es)] if args.es else []):
        results = [measure(size, args.batches, args.seed, url) for size in sizes]
        for r in results:
            print(
                f"{backend:13} {r['size']:6} documents stored: claims write {r['ms_per_doc']:6.2f} ms/doc"
                f" (CPU {r['cpu_ms_per_doc']:5.2f}); stored claims read {r['read_per_doc']:5.1f},"
                f" records written {r['written_per_doc']:4.1f} per doc; filling took"
                f" {r['fill_ms_per_doc']:5.2f} ms/doc",
                flush=True,
            )
        first, last = results[0], results[-1]
        print(
            f"{backend:13} ratio {last['size']}/{first['size']}: "
            f"{last['ms_per_doc'] / first['ms_per_doc']:.2f} (wall), "
            f"{last['cpu_ms_per_doc'] / first['cpu_ms_per_doc']:.2f} (CPU), "
            f"{last['read_per_doc'] / first['read_per_doc']:.2f} (stored claims read)",
            flush=True,
        )


if __name__ == "__main__":
    main()
