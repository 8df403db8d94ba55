"""Soak: Redis bytes per document over a long stream, past several retention windows.

    python bench/soak.py [--docs 20000] [--windows 4] [--base 120] [--every 2000]

A real private redis-server (workers.local.PrivateRedis) and the real Redis stores the
workers use: the ledger (each input queued, then done with its document), per-outlet line
counts, the entity registry, the claim groups (a plan per document), the near-duplicate
index and the story store, through the real stages `find_duplicates` and `assign_story`.

The stream: `--base` ECB+ dev articles (../shared/bench/stories, or NEWSFLOW_BENCH_DIR)
through the real entity and claims stages once (spaCy), then `--docs` articles made from
them, arriving evenly over `--windows` retention windows of simulated time
(NEWSFLOW_STATE_WINDOW_DAYS, 30 days by default), each dated its arrival day. Every store
reads the same simulated clock, which the stream advances; pruning runs as it does in the
workers (at most every `prune_every_s` of that clock, one pruner at a time).

A news stream is mostly distinct articles, so most of the stream (`--distinct`, 0.8)
are blends (`blend`): the lede and half the body of one base article, half the body of
another about the same ECB+ topic, with the claims and entity mentions of the lines kept
(before, of both articles whole: twice an article's claims for its length): not a
near-duplicate of anything, so each is filed in full by every store. It prints the
documents' mean characters, claims and entities (`per document`). The rest are
copies (`bench.stories.variant`: sentences reordered, an update line), which the
near-duplicate index catches and the story store files as a link to their original.

Every `--every` documents it prints Redis's used memory above the empty server's, its
keys, the documents of the last window, and bytes per document of the last window, with
the bytes of each key family (MEMORY USAGE, summed by prefix). The file ledger (one
record per done input, kept: see docs/OPERATIONS.md, "Redis state over time") grows
with inputs and is shown apart, with the ledger's events (the last 24 hours of real time,
for `newsflow status`: in this bench, every event). Last line:
`bytes_per_doc_within_window N bytes_per_doc_end M flat yes|no ledger_bytes_per_file L`:
N at the end of the first window, M at the end, both without the file ledger (its keys'
bytes, and their share of Redis's key table: one key per document's sources, kept with
the files, `(ledger key table)`); flat when,
past the first window, no checkpoint is more than 15% above the first one past it.
Before it, `families_at_window_end`: every key family's bytes per document of the window
at that checkpoint (the ledger's included), and `(outside keys)`: used memory that no
key's MEMORY USAGE counts, nor the key table's buckets, clients, scripts or buffers
(mostly the allocator's rounding: a table entry of 24 bytes takes 32). Redis's
per-command statistics (`command_stats`: a fixed cost of the server, some 0.9 MB) are
taken out at each checkpoint and printed apart (`fixed_bytes`), not counted per document.
`stores_at_window_end`: the same summed by store (dups, stories, claims, entities, lines,
ledger, and redis: the key table, clients, scripts, buffers and what is outside keys).
When the stream goes on past that checkpoint, `families_at_end` and `stores_at_end` give
the same at the last one: what crept past the window.
Then `answers`: a digest (sha256, 16 hex) of every answer the stores gave the stream, in
order: each document's entities (id, canonical name, label), the copy search shows instead
and the similarity, its story, the groups and conflicts its claims plan wrote, and which
of its lines the line counts called furniture. A
change of how the stores keep their state must leave it as it was.
Runs against stores without retention too (the code before it): then nothing is pruned.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.document import Document  # noqa: E402

DAY = 86400.0
T0 = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


class Clock:
    """The simulated time every store reads; the stream moves it on."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def prepare(n: int) -> list[tuple[Document, list[Any]]]:
    """`n` ECB+ articles through the entity and claims stages: (document, its local entities)."""
    from bench.stories import ecb_documents, load_nlp
    from pipeline.stages.claims import extract_claims
    from pipeline.stages.entities import extract_entities

    class Capture:  # the registry's place in the entity stage: keeps what it is given
        def __init__(self) -> None:
            self.local: list[Any] = []

        def resolve(self, doc_id: str, entities: list[Any]) -> list[Any]:
            self.local = list(entities)
            return [type("R", (), {"canonical": e.name, "label": e.label})() for e in entities]

    _, docs = ecb_documents()
    random.Random(7).shuffle(docs)
    nlp = load_nlp()
    out = []
    for doc in docs[:n]:
        capture = Capture()
        doc = extract_entities(doc, nlp=nlp, registry=capture)
        out.append((extract_claims(doc, nlp=nlp), capture.local))
    return out


def blend(
    a: tuple[Document, list[Any]], b: tuple[Document, list[Any]], n: int, rng: random.Random, day: str
) -> tuple[Document, list[Any]]:
    """A distinct article from two (each a document and its local entities): `a`'s first
    line and half its other lines, half of `b`'s, shuffled; with the claims and entity
    mentions of the lines it keeps, as an article of that text has (one that kept every
    claim and entity of both would carry twice those of an article its size). Spans stay
    those of the base articles: the stores keep them as they are."""
    from pipeline.document import content_id

    lede, body_a, claims_a, ents_a, local_a = _half(*a, rng, first=True)
    _, body_b, claims_b, ents_b, local_b = _half(*b, rng, first=False)
    body = body_a + body_b
    rng.shuffle(body)
    text = "\n".join([lede, f"Report {n}.", *body])
    doc = Document(
        id=content_id(text),
        source=f"{a[0].source}+{b[0].source}#{n}",
        raw_text=text,
        text=text,
        title=a[0].title,
        outlet=a[0].outlet,
        published=day,
        received_at=day,
        entities=(*ents_a, *ents_b),
        claims=(*claims_a, *claims_b),
    )
    return doc, [*local_a, *local_b]


def _half(
    doc: Document, local: list[Any], rng: random.Random, *, first: bool
) -> tuple[str, list[str], tuple[Any, ...], tuple[Any, ...], list[Any]]:
    """Half of `doc`'s body lines (rounded up for the `first` article, which gives its
    lede too, down for the other), and the claims, entities and local entities'
    mentions that lie within the lines kept."""
    lines = doc.text.split("\n")
    starts = [sum(len(x) + 1 for x in lines[:i]) for i in range(len(lines))]
    body = list(range(1, len(lines)))
    kept = sorted(rng.sample(body, (len(body) + first) // 2) + ([0] if first else []))
    spans = [(starts[i], starts[i] + len(lines[i])) for i in kept]

    def inside(start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in spans)

    mentioned = []
    for e in local:
        mentions = [m for m in e.mentions if inside(m.start, m.end)]
        if mentions:
            mentioned.append(replace(e, mentions=mentions))
    return (
        lines[0],
        [lines[i] for i in kept if i],
        tuple(c for c in doc.claims if inside(c.start, c.end)),
        tuple(e for e in doc.entities if inside(e.start, e.end)),
        mentioned,
    )


def topic(doc: Document) -> str:
    """The ECB+ topic of a base article ("ecb:12_3ecb" -> "12")."""
    return doc.source.split(":", 1)[-1].split("_", 1)[0]


def families(client: Any) -> tuple[Counter[str], Counter[str]]:
    """Bytes and keys by key family: the prefix up to the first part that names one
    document/entity."""
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    keys = list(client.scan_iter(count=2000))
    pipe = client.pipeline(transaction=False)
    for k in keys:
        pipe.memory_usage(k, samples=0)
    for k, size in zip(keys, pipe.execute(), strict=True):
        name = family(k.decode("utf-8", "replace"))
        sizes[name] += int(size or 0)
        counts[name] += 1
    return sizes, counts


def memory_stats(client: Any) -> dict[str, int]:
    """Redis's own memory that no key's MEMORY USAGE counts: the key table's buckets,
    client buffers, the append-only file's buffer, scripts.

    MEMORY STATS's `overhead.hashtable.main` counts each key's table entry and value
    header (a dictEntry and a robj: KEY_ENTRY bytes on Redis 7.0) and the table's bucket
    array; MEMORY USAGE counts that entry and header in the key's own bytes already, so
    only the buckets are the key table's here (before, each key's 40 bytes were counted
    in both, and `(outside keys)` came out lower by as much)."""
    stats = _pairs(client.execute_command("MEMORY STATS"))
    db = _pairs(stats.get("db.0", []))
    main = int(db.get("overhead.hashtable.main", 0))
    keys = int(stats.get("keys.count", 0))
    return {
        "key table": max(0, main - KEY_ENTRY * keys),
        "clients": int(stats.get("clients.normal", 0)),
        "aof buffer": int(stats.get("aof.buffer", 0)),
        "scripts": int(stats.get("lua.caches", 0)),
    }


# A key's entry in Redis 7.0's key table (dictEntry, 24 bytes) and its value's header
# (robj, 16): in both MEMORY USAGE and MEMORY STATS's overhead.hashtable.main.
KEY_ENTRY = 24 + 16


def _pairs(raw: Any) -> dict[str, Any]:
    """A reply of name/value pairs (a flat list, or a map in RESP3) as a dict of str."""
    pairs = dict(zip(raw[::2], raw[1::2], strict=True)) if isinstance(raw, list) else raw
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in pairs.items()}


def command_stats(client: Any) -> int:
    """The bytes of Redis's per-command statistics, taken out (CONFIG RESETSTAT).

    Redis 7 keeps a latency histogram per command name it has run (`latency-tracking`,
    on by default; some 25 KB each, about 40 names here): a fixed cost of the server,
    some 0.9 MB whatever it holds, that MEMORY STATS does not show. Left in, it counted
    as bytes of the window's documents (most of what `(outside keys)` was: 536 bytes a
    document at 1,000 in the window). Measured here by what resetting them frees, and
    shown apart (`fixed_bytes`); the names run again allocate theirs again."""
    before = int(client.info("memory")["used_memory"])
    client.config_resetstat()
    return before - int(client.info("memory")["used_memory"])


def family(key: str) -> str:
    parts = key.split(":")
    if parts[0] == "soak":
        parts = parts[1:]
    if parts[0] == "lines":  # lines:<outlet>:docs|lines, then the period (pipeline/redis/line_stats.py)
        return "lines:" + (parts[-2] if parts[-1].isdigit() else parts[-1])
    out = parts[:2]
    if len(parts) > 3 and parts[1] == "e":  # entity e:<id>:<what>
        out.append(parts[3])
    if parts[0] == "dups" and parts[1].startswith("lsh"):  # datasketch's keys: lsh_bucket_<bytes>, ...
        out = ["dups", "lsh"]
    if parts[0] == "doc-sources":
        out = parts[:1]
    return ":".join(out)


LEDGER = ("sources", "source-ids", "doc-sources", "events", "ledger")


def by_store(families: dict[str, float]) -> Counter[str]:
    """Families summed by the store that keeps them."""
    out: Counter[str] = Counter()
    for k, v in families.items():
        store = k.split(":", 1)[0]
        if k == "(ledger key table)":
            store = "ledger"
        elif k.startswith("("):
            store = "redis"
        elif store in LEDGER or ":" not in k:
            store = "ledger"
        out[store] += v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--windows", type=float, default=4.0, help="simulated retention windows the stream spans")
    ap.add_argument("--base", type=int, default=120, help="ECB+ articles the variants come from")
    ap.add_argument("--every", type=int, default=2000, help="documents between two checkpoints")
    ap.add_argument("--distinct", type=float, default=0.8, help="share of distinct articles (others: copies)")
    args = ap.parse_args()

    import redis

    from bench.stories import variant
    from pipeline.redis.claim_groups import ClaimGroups
    from pipeline.redis.entity_registry import RedisEntityRegistry
    from pipeline.redis.ledger import Ledger
    from pipeline.redis.line_stats import LineStats
    from pipeline.redis.story_store import NearDuplicates, StoryStore
    from pipeline.stages.stories import assign_story, find_duplicates
    from workers.local import PrivateRedis

    try:
        from pipeline.redis.retention import Retention
    except ImportError:  # the code before retention
        Retention = None  # type: ignore[assignment,misc]

    started = time.perf_counter()
    base = prepare(args.base)
    print(f"prepared {len(base)} base articles in {time.perf_counter() - started:.0f} s", flush=True)
    by_topic: dict[str, list[tuple[Document, list[Any]]]] = {}
    for item in base:
        by_topic.setdefault(topic(item[0]), []).append(item)
    clock = Clock(T0)
    retention = Retention(clock=clock) if Retention is not None else None
    window_s = retention.window_s if retention is not None else 30 * DAY
    span = args.windows * window_s
    step = span / args.docs

    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    server = PrivateRedis(tmp)
    url = server.start()
    client = redis.Redis.from_url(url)
    command_stats(client)  # the empty server's, as at each checkpoint (`command_stats`)
    empty = int(client.info("memory")["used_memory"])

    def build(cls: Any, **kw: Any) -> Any:
        if retention is not None and "retention" in inspect.signature(cls).parameters:
            kw["retention"] = retention
        return cls(client, **kw)

    ledger = build(Ledger, prefix="soak")
    lines = build(LineStats, prefix="soak:lines")
    registry = build(RedisEntityRegistry, prefix="soak:entities")
    claims = build(ClaimGroups, prefix="soak:claims")
    lsh = build(NearDuplicates, prefix="soak:dups")
    stories = build(StoryStore, prefix="soak:stories")
    print(
        f"retention: {'window %.0f days' % (window_s / DAY) if retention else 'none (stores without it)'};"
        f" {args.docs} documents over {span / DAY:.0f} simulated days",
        flush=True,
    )

    rng = random.Random(1)
    arrivals: list[float] = []
    rows: list[tuple[int, float, float, float]] = []  # docs, day, bytes/window doc, ledger bytes/file
    fixed = 0  # the server's own command statistics at the last checkpoint (`command_stats`)
    breakdown: list[dict[str, float]] = []  # per checkpoint: family -> bytes per window document
    print(
        f"{'docs':>6} {'day':>5} {'in window':>9} {'used MB':>8} {'keys':>7} {'B/doc(window)':>13}"
        f" {'file ledger B/input':>19}  top families (KB)",
        flush=True,
    )
    answers = hashlib.sha256()  # every answer the stores gave, in order
    sizes_seen: Counter[str] = Counter()  # chars, claims, entities of the documents fed
    t_start = time.perf_counter()
    try:
        for i in range(args.docs):
            clock.now = T0 + i * step
            arrivals.append(clock.now)
            doc, local = base[rng.randrange(len(base))]
            day = datetime.fromtimestamp(clock.now, UTC).date().isoformat()
            if rng.random() < args.distinct:
                doc, local = blend((doc, local), rng.choice(by_topic[topic(doc)]), i, rng, day)
            else:
                doc = replace(variant(doc, i, rng, day), claims=doc.claims, received_at=day)
            sizes_seen.update(chars=len(doc.text), claims=len(doc.claims), entities=len(local))
            source = f"/drop/soak/{i:06d}.txt"
            ledger.mark(source, "queued", fingerprint=f"{len(doc.text)}:{i}")
            furniture = lines.observe(
                doc.outlet or "outlet", doc.id, doc.text.split("\n"), share=0.5, min_docs=5
            )
            resolved = registry.resolve(doc.id, local)
            doc = assign_story(find_duplicates(doc, lsh=lsh), stories=stories)
            with claims.planning([doc]) as plan:
                pass
            answers.update(
                repr(
                    (
                        furniture,
                        [(e.id, e.canonical, e.label) for e in resolved],
                        doc.duplicate_of,
                        doc.similarity,
                        doc.story_id,
                        sorted((k, repr(v)) for k, v in plan.fields.items()),
                    )
                ).encode()
            )
            ledger.add_doc_sources([(doc.id, source)])
            ledger.mark_many("done", {source: {"document": doc.id}})
            if (i + 1) % args.every == 0 or i + 1 == args.docs:
                in_window = sum(1 for t in arrivals if t > clock.now - window_s)
                sizes, counts = families(client)
                stats = memory_stats(client)
                fixed = command_stats(client)  # the server's, not the documents'
                used = int(client.info("memory")["used_memory"]) - empty
                outside = used - sum(sizes.values()) - sum(stats.values())
                kept = ("sources", "source-ids", "doc-sources", "events")  # per file; 24 h of real time
                # The ledger's keys (one per document's sources, kept with the files) take
                # their share of Redis's key table too: the ledger's, not the window's.
                share = sum(c for k, c in counts.items() if k.startswith(kept)) / max(1, sum(counts.values()))
                sizes["(ledger key table)"] = round(stats["key table"] * share)
                stats["key table"] -= sizes["(ledger key table)"]
                led = sum(v for k, v in sizes.items() if k.startswith(kept) or k == "(ledger key table)")
                per = (used - led) / in_window
                rows.append((i + 1, (clock.now - T0) / DAY, per, led / (i + 1)))
                sizes.update({f"(redis {k})": v for k, v in stats.items()})
                breakdown.append(
                    {**{k: v / in_window for k, v in sizes.items()}, "(outside keys)": outside / in_window}
                )
                top = " ".join(f"{k}={v // 1024}" for k, v in sizes.most_common(9))
                print(
                    f"{i + 1:6d} {(clock.now - T0) / DAY:5.0f} {in_window:9d} {used / 1e6:8.1f}"
                    f" {client.dbsize():7d} {per:13.0f} {led / (i + 1):19.0f}  {top}",
                    flush=True,
                )
    finally:
        lsh.close()
        client.close()
        server.stop()
    elapsed = time.perf_counter() - t_start
    print(f"{args.docs} documents in {elapsed:.0f} s ({elapsed * 1000 / args.docs:.1f} ms/doc)")
    print("per document: " + " ".join(f"{k} {v / args.docs:.1f}" for k, v in sizes_seen.items()))
    first = min(rows, key=lambda r: abs(r[1] - window_s / DAY))
    checkpoints = {"window_end": rows.index(first), "end": len(rows) - 1}
    for name, n in checkpoints.items():
        if name == "end" and n == checkpoints["window_end"]:
            break  # one checkpoint: printed once
        at = breakdown[n]
        print(
            f"families_at_{name} "
            + " ".join(f"{k}={v:.0f}" for k, v in sorted(at.items(), key=lambda kv: -kv[1]))
        )
        print(f"stores_at_{name} " + " ".join(f"{k}={v:.0f}" for k, v in by_store(at).most_common()))
    past = [r for r in rows if r[1] > window_s / DAY * 1.05]
    flat = bool(past) and max(r[2] for r in past) <= 1.15 * past[0][2]
    print(f"answers {answers.hexdigest()[:16]}")
    print(f"fixed_bytes {fixed} (Redis's command statistics: the server's, whatever it holds; not above)")
    print(
        f"bytes_per_doc_within_window {first[2]:.0f} bytes_per_doc_end {rows[-1][2]:.0f}"
        f" flat {'yes' if flat else 'no'} ledger_bytes_per_file {rows[-1][3]:.0f}"
    )


if __name__ == "__main__":
    main()
