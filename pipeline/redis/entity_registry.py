"""The cross-document entity registry, shared by all workers in Redis (does I/O).

One canonical entity per real-world entity: `resolve(doc_id, entities)` matches a
document's entities against the registry (the rules are in
pipeline/entities/matching.py) and records them, in one optimistic transaction per
document: WATCH every index key the document's entities could be found under (and
the candidates it found), decide, then MULTI/EXEC the writes. If another worker
touched any of those keys meanwhile, EXEC fails and the document is matched again
against the new state, so two workers never create two entities for one name.
A document already recorded gets its earlier answer back (redelivery is harmless).

Keys, under `prefix` (default "newsflow:entities"):
  idx:<lookup key>   set of entity ids (lookup keys: matching.lookup_keys)
  e:<id>             hash: canonical, label
  e:<id>:forms       set of folded name forms (what matching compares)
  e:<id>:variants    set of surface forms as written (what people read)
  e:<id>:docs        set of document ids
  e:<id>:ctx         set of context words from those documents
  ids                set of every entity id;  seq  id counter
  doc:<doc id>       JSON list of the entity ids given to that document, in order
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import redis

from pipeline.entities.local import LocalEntity
from pipeline.entities.matching import (
    Known,
    better_name,
    context_words,
    decide,
    lookup_keys,
    own_words,
)
from pipeline.entities.names import fold
from pipeline.errors import TransientError

MAX_ATTEMPTS = 50  # optimistic retries under contention before giving up


@dataclass(frozen=True, slots=True)
class Resolved:
    id: str
    canonical: str
    label: str
    rule: str = ""  # which matching rule decided ("same name", "new", ...)


class RedisEntityRegistry:
    """Canonical entities in Redis; safe to share between worker processes."""

    def __init__(self, client: redis.Redis, *, prefix: str = "newsflow:entities") -> None:
        self.r = client
        self.p = prefix

    # -- matching ------------------------------------------------------------
    def resolve(self, doc_id: str, entities: Sequence[LocalEntity]) -> list[Resolved]:
        """Registry entities for `entities` (one document's), recording them."""
        if not entities:
            return []
        try:
            for attempt in range(MAX_ATTEMPTS):
                result = self._try_resolve(doc_id, entities)
                if result is not None:
                    return result
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        except redis.RedisError as exc:
            raise TransientError("entity registry unavailable") from exc
        raise TransientError("entity registry: too much contention")

    def _try_resolve(self, doc_id: str, entities: Sequence[LocalEntity]) -> list[Resolved] | None:
        keys = [lookup_keys(e) for e in entities]
        idx_keys = sorted({self._idx(k) for ks in keys for k in ks})
        doc_key = f"{self.p}:doc:{doc_id}"
        with self.r.pipeline() as tx:
            try:
                tx.watch(doc_key, *idx_keys)  # type: ignore[no-untyped-call]
                earlier = self._earlier_answer(doc_key, len(entities))
                if earlier is not None:
                    tx.unwatch()
                    return earlier
                reads = self.r.pipeline(transaction=False)
                for k in idx_keys:
                    reads.smembers(k)
                members = dict(zip(idx_keys, reads.execute(), strict=True))
                ids = sorted({_s(i) for v in members.values() for i in v})
                if ids:
                    tx.watch(*(f"{self.p}:e:{i}" for i in ids))  # type: ignore[no-untyped-call]
                ctx = context_words(entities)
                known = self._load(ids, ctx)
                plan = self._plan(entities, keys, members, known, ctx)
                tx.multi()
                out = self._write(tx, doc_id, entities, keys, plan, ctx)
                tx.execute()
                return out
            except redis.WatchError:
                return None

    def _earlier_answer(self, doc_key: str, n: int) -> list[Resolved] | None:
        raw = self.r.get(doc_key)
        if raw is None:
            return None
        ids = json.loads(raw)
        if len(ids) != n:
            return None  # the document's entities changed (a new model or rules): match again
        reads = self.r.pipeline(transaction=False)
        for i in ids:
            reads.hmget(f"{self.p}:e:{i}", "canonical", "label")
        return [Resolved(i, _s(c), _s(lab), "seen") for i, (c, lab) in zip(ids, reads.execute(),
                                                                             strict=True)]

    def _load(self, ids: list[str], ctx: list[str]) -> dict[str, tuple[Known, list[bool]]]:
        """Candidates by id, each with which of the document's context words it has seen."""
        reads = self.r.pipeline(transaction=False)
        for i in ids:
            base = f"{self.p}:e:{i}"
            reads.hmget(base, "canonical", "label")
            reads.smembers(f"{base}:forms")
            reads.scard(f"{base}:docs")
            if ctx:
                reads.smismember(f"{base}:ctx", ctx)
        per = 4 if ctx else 3
        values = reads.execute()
        known = {}
        for n, i in enumerate(ids):
            (canonical, label), forms, docs = values[per * n: per * n + 3]
            shared = [bool(x) for x in values[per * n + 3]] if ctx else []
            if canonical is not None:
                known[i] = (Known(id=i, canonical=_s(canonical), label=_s(label),
                                  forms=frozenset(_s(f) for f in forms), docs=int(docs)), shared)
        return known

    def _plan(self, entities: Sequence[LocalEntity], keys: list[list[str]],
              members: dict[str, set[Any]], known: dict[str, tuple[Known, list[bool]]],
              ctx: list[str]) -> list[tuple[Known | None, str]]:
        plan = []
        for e, ks in zip(entities, keys, strict=True):
            own = own_words(e)
            cand_ids = sorted({_s(i) for k in ks for i in members[self._idx(k)]} & known.keys())
            candidates = []
            for i in cand_ids:
                record, shared = known[i]
                context = sum(1 for w, hit in zip(ctx, shared, strict=True) if hit and w not in own)
                candidates.append(replace(record, context=context))
            plan.append(decide(e, candidates))
        return plan

    def _write(self, tx: Any, doc_id: str, entities: Sequence[LocalEntity],
               keys: list[list[str]], plan: list[tuple[Known | None, str]],
               ctx: list[str]) -> list[Resolved]:
        out: list[Resolved] = []
        for e, ks, (match, rule) in zip(entities, keys, plan, strict=True):
            if match is None:
                eid = f"e{self.r.incr(f'{self.p}:seq')}"
                canonical, label = e.name, e.label
                tx.hset(f"{self.p}:e:{eid}", mapping={"canonical": canonical, "label": label})
                tx.sadd(f"{self.p}:ids", eid)
            else:
                eid, label = match.id, match.label
                canonical = better_name(match, e)
                if canonical != match.canonical:
                    tx.hset(f"{self.p}:e:{eid}", "canonical", canonical)
            base = f"{self.p}:e:{eid}"
            for k in ks:
                tx.sadd(self._idx(k), eid)
            tx.sadd(f"{base}:forms", *{fold(f) for f in e.forms})
            tx.sadd(f"{base}:variants", *e.surfaces)
            tx.sadd(f"{base}:docs", doc_id)
            own = own_words(e)
            others = [w for w in ctx if w not in own]
            if others:
                tx.sadd(f"{base}:ctx", *others)
            out.append(Resolved(eid, canonical, label, rule))
        tx.set(f"{self.p}:doc:{doc_id}", json.dumps([r.id for r in out]))
        return out

    def _idx(self, key: str) -> str:
        return f"{self.p}:idx:{key}"

    # -- listing -------------------------------------------------------------
    def entities(self) -> list[dict[str, Any]]:
        """Every canonical entity: canonical, type, variants, documents (a count)."""
        ids = sorted((_s(i) for i in self.r.smembers(f"{self.p}:ids")), key=lambda i: int(i[1:]))
        reads = self.r.pipeline(transaction=False)
        for i in ids:
            reads.hmget(f"{self.p}:e:{i}", "canonical", "label")
            reads.smembers(f"{self.p}:e:{i}:variants")
            reads.scard(f"{self.p}:e:{i}:docs")
        values = reads.execute()
        rows = []
        for n, i in enumerate(ids):
            (canonical, label), variants, docs = values[3 * n: 3 * n + 3]
            rows.append({"id": i, "canonical": _s(canonical), "type": _s(label),
                         "variants": sorted(_s(v) for v in variants), "documents": int(docs)})
        return rows


def _s(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
