"""The cross-document entity registry, shared by all workers in Redis (does I/O).

One canonical entity per real-world entity: `resolve(doc_id, entities)` matches a
document's entities against the registry (the rules are in
pipeline/entities/matching.py) and records them, in one optimistic transaction per
document: WATCH every index key the document's entities could be found under (and
the candidates it found), decide, then MULTI/EXEC the writes. If another worker
touched any of those keys meanwhile, EXEC fails and the document is matched again
against the new state, so two workers never create two entities for one name.
A document already recorded gets its earlier answer back (redelivery is harmless) for
`Retention.redelivery_s` (a day; the workers keep them at least twice the broker's
visibility timeout, after which a task not acknowledged is delivered again); later it
is matched again (its entities then count it twice). Redelivery comes within that
time, so the answers need not last the story window (pipeline/redis/retention.py):
kept for a day, they cost a thirtieth of what they did.

What lives on grows with the distinct entities, not with the documents: an entity keeps
a count of its documents (not their ids) and at most CONTEXT_MAX context words; only
the redelivery answers are per document, and they are pruned after `redelivery_s`.

Keys, under `prefix` (default "newsflow:entities"):
  idx:<lookup key>   set of entity numbers (the id without its "e": a set of integers is
                     an intset, a few bytes a member; ids "e<n>", as versions before
                     wrote them, are read too) (lookup keys: matching.lookup_keys)
  e:<id>             hash: canonical, label, docs (how many documents mention it), and a
                     field (empty) for each folded name form, "f:<form>" (what matching
                     compares), and each surface form as written, "v:<variant>" (what
                     people read): one key an entity, which Redis keeps as a listpack
                     while it has at most 128 fields of at most 64 bytes
  e:<id>:forms       (before) the forms, and e:<id>:variants the variants, as sets (Redis
                     7.0 keeps a small set of strings as a hash table, some 200 bytes
                     before its members): still read, no longer written
  e:<id>:cx          set of context words from those documents, at most CONTEXT_MAX
                     (beyond that, random ones make room: frequent words come back), each
                     as a 32-bit hash (`context_hash`): Redis keeps a set of integers as an
                     intset, 4 bytes a word, where a set of the words costs some 45
  e:<id>:ctx         (before) the same as words: still read, and replaced by `cx` when the
                     entity is next written
  e:<id>:docs        (before retention) set of document ids; counted, no longer written
  ids                set of every entity's number (or, as written before, id);  seq  id counter
  doc:<doc id>       JSON list of the entities given to that document, in order: their
                     numbers (before: their ids, "e<n>")
                     (pruned after `redelivery_s`; `arrived` notes when it was written)
  renamed            hash: entity key a document may carry (kind:canonical) -> the id of
                     the entity since renamed (one per rename: grows with distinct names)
  renames            list of entity keys renamed and not yet carried into the indexed
                     documents (pipeline/write.follow_renames takes them off)
  renames:lock       the process carrying renames now (expires after RENAMES_LOCK_MS)
  renames:rest       set after a turn for NEWSFLOW_RENAME_EVERY_S: the write path's turns
                     wait it out (expires)
  renames:booked     a delayed turn is queued (expires)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import secrets
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
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
from pipeline.redis.errors import unavailable
from pipeline.redis.retention import REDELIVERY_PARTS, Arrivals, Retention
from pipeline.search.names import entity_key

MAX_ATTEMPTS = 50  # optimistic retries under contention before giving up
# Context words kept per entity. Matching counts the document's context words (at most
# matching.MAX_CONTEXT_WORDS) an entity has seen; the set otherwise grows with every
# name ever seen near a frequent entity (tens of thousands for a head of state).
CONTEXT_MAX = 256
# Renames carried into indexed documents per turn, and how long one turn may hold the lock.
RENAMES_PER_TURN = 100
RENAMES_LOCK_MS = 120_000


def context_hash(word: str) -> int:
    """A context word as a signed 32-bit integer. Matching only asks whether an entity has
    seen a word: one it has not counts as seen with odds of 256 in 2**32 (1 in 17 million)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=4).digest(), "big", signed=True)


FORM, VARIANT = "f:", "v:"  # the prefixes of an entity hash's name fields


def _names(raw: dict[Any, Any], prefix: str) -> set[str]:
    """The forms or variants (by `prefix`) among an entity hash's fields."""
    return {_s(k)[len(prefix) :] for k in raw if _s(k).startswith(prefix)}


@dataclass(frozen=True, slots=True)
class _Filed:
    """What a resolve read before writing: the lookup sets' members (entity ids), each
    candidate's name fields, and the context sets still kept as words."""

    members: dict[str, set[str]]
    names: dict[str, set[str]]
    earlier_ctx: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Resolved:
    id: str
    canonical: str
    label: str
    rule: str = ""  # which matching rule decided ("same name", "new", ...)


class RedisEntityRegistry:
    """Canonical entities in Redis; safe to share between worker processes."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:entities",
        retention: Retention | None = None,
        context_max: int = CONTEXT_MAX,
    ) -> None:
        self.r = client
        self.p = prefix
        self.arrivals = Arrivals(
            client, f"{prefix}:arrived", (retention or Retention()).for_redelivery(), parts=REDELIVERY_PARTS
        )
        self.context_max = context_max

    # -- matching ------------------------------------------------------------
    def resolve(self, doc_id: str, entities: Sequence[LocalEntity]) -> list[Resolved]:
        """Registry entities for `entities` (one document's), recording them."""
        if not entities:
            return []
        with unavailable("the entity registry"):
            self._maybe_prune()
            for attempt in range(MAX_ATTEMPTS):
                result = self._try_resolve(doc_id, entities)
                if result is not None:
                    return result
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise TransientError("entity registry: too much contention")

    def _try_resolve(self, doc_id: str, entities: Sequence[LocalEntity]) -> list[Resolved] | None:
        keys = [lookup_keys(e) for e in entities]
        idx_keys = sorted({self._idx(k) for ks in keys for k in ks})
        doc_key = f"{self.p}:doc:{doc_id}"
        with self.r.pipeline() as tx:
            try:
                tx.watch(doc_key, *idx_keys)  # type: ignore[no-untyped-call]
                raw = self.r.get(doc_key)
                before = [_eid(i) for i in json.loads(raw)] if raw is not None else []
                earlier = self._earlier_answer(before, len(entities))
                if earlier is not None:
                    tx.unwatch()
                    return earlier
                reads = self.r.pipeline(transaction=False)
                for k in idx_keys:
                    reads.smembers(k)
                members = {k: {_eid(i) for i in v} for k, v in zip(idx_keys, reads.execute(), strict=True)}
                ids = sorted({i for v in members.values() for i in v})
                if ids:
                    tx.watch(*(f"{self.p}:e:{i}" for i in ids))  # type: ignore[no-untyped-call]
                ctx = context_words(entities)
                known, earlier_ctx, names = self._load(ids, ctx)
                plan = self._plan(entities, keys, members, known, ctx)
                tx.multi()
                filed = _Filed(members, names, earlier_ctx)
                out, sizes = self._write(tx, doc_id, entities, keys, plan, ctx, set(before), filed)
                replies = tx.execute()
            except redis.WatchError:
                return None
        self._cap_context({key: int(replies[at]) for key, at in sizes.items()})
        return out

    def _cap_context(self, sizes: dict[str, int]) -> None:
        """Random context words out of the sets now above `context_max` (outside the
        transaction: a word dropped by two writers at once is dropped twice, harmlessly)."""
        pipe = self.r.pipeline(transaction=False)
        for key, size in sizes.items():
            if size > self.context_max:
                pipe.spop(key, size - self.context_max)
        pipe.execute()

    def _earlier_answer(self, ids: list[str], n: int) -> list[Resolved] | None:
        if not ids:
            return None
        if len(ids) != n:
            return None  # the document's entities changed (a new model or rules): match again
        reads = self.r.pipeline(transaction=False)
        for i in ids:
            reads.hmget(f"{self.p}:e:{i}", "canonical", "label")
        return [Resolved(i, _s(c), _s(lab), "seen") for i, (c, lab) in zip(ids, reads.execute(), strict=True)]

    def _load(
        self, ids: list[str], ctx: list[str]
    ) -> tuple[dict[str, tuple[Known, list[bool]]], dict[str, list[str]], dict[str, set[str]]]:
        """Candidates by id, each with which of the document's context words it has seen;
        the context words of those that still keep them as words (`ctx`, before `cx`); and
        the name fields ("f:…", "v:…") each has.
        Two reads a candidate (its hash, its context), in one round trip; what versions
        before kept (a set of documents, context words as words, name forms as a set) is
        read in a second only where one EXISTS says some is left."""
        reads = self.r.pipeline(transaction=False)
        hashes = [context_hash(w) for w in ctx]
        bases = [f"{self.p}:e:{i}" for i in ids]
        for base in bases:
            reads.hgetall(base)
            reads.smismember(f"{base}:cx", hashes or [0])
        if bases:
            reads.exists(*(f"{b}:{old}" for b in bases for old in ("docs", "ctx", "forms")))
        values = reads.execute()
        listed: list[Any] = [0] * len(ids)
        words: list[Any] = [()] * len(ids)
        forms: list[Any] = [()] * len(ids)
        if bases and values[-1]:  # a registry an earlier version wrote
            old = self.r.pipeline(transaction=False)
            for base in bases:
                old.scard(f"{base}:docs")  # documents recorded before the count
                old.smembers(f"{base}:ctx")
                old.smembers(f"{base}:forms")
            found = old.execute()
            listed, words, forms = found[::3], found[1::3], found[2::3]
        known, earlier, names = {}, {}, {}
        for n, i in enumerate(ids):
            raw, hits = values[2 * n : 2 * n + 2]
            raw = {_s(k): v for k, v in raw.items()}
            canonical, label, counted = raw.get("canonical"), raw.get("label"), raw.get("docs")
            old_words = {_s(w) for w in words[n]}
            shared = [bool(x) or w in old_words for w, x in zip(ctx, hits if ctx else [], strict=True)]
            if old_words:
                earlier[i] = sorted(old_words)
            names[i] = {k for k in raw if k.startswith((FORM, VARIANT))}
            if canonical is not None:
                known[i] = (
                    Known(
                        id=i,
                        canonical=_s(canonical),
                        label=_s(label),
                        forms=frozenset(_names(raw, FORM) | {_s(f) for f in forms[n]}),
                        docs=int(counted or 0) + int(listed[n]),
                    ),
                    shared,
                )
        return known, earlier, names

    def _plan(
        self,
        entities: Sequence[LocalEntity],
        keys: list[list[str]],
        members: dict[str, set[Any]],
        known: dict[str, tuple[Known, list[bool]]],
        ctx: list[str],
    ) -> list[tuple[Known | None, str]]:
        plan = []
        for e, ks in zip(entities, keys, strict=True):
            own = own_words(e)
            cand_ids = sorted({i for k in ks for i in members[self._idx(k)]} & known.keys())
            candidates = []
            for i in cand_ids:
                record, shared = known[i]
                context = sum(1 for w, hit in zip(ctx, shared, strict=True) if hit and w not in own)
                candidates.append(replace(record, context=context))
            plan.append(decide(e, candidates))
        return plan

    def _write(
        self,
        tx: Any,
        doc_id: str,
        entities: Sequence[LocalEntity],
        keys: list[list[str]],
        plan: list[tuple[Known | None, str]],
        ctx: list[str],
        counted: set[str],
        filed: _Filed,
    ) -> tuple[list[Resolved], dict[str, int]]:
        """Queue the writes; returns the answer and, per context set written, where its
        size is in the transaction's replies. `counted`: the entities an earlier answer for
        this document gave (already counted once for it). `filed`: what the transaction
        read (and watches), so that what is there already is not written again."""
        out: list[Resolved] = []
        sizes: dict[str, int] = {}
        for e, ks, (match, rule) in zip(entities, keys, plan, strict=True):
            if match is None:
                eid = f"e{self.r.incr(f'{self.p}:seq')}"
                canonical, label = e.name, e.label
                tx.hset(f"{self.p}:e:{eid}", mapping={"canonical": canonical, "label": label})
                tx.sadd(f"{self.p}:ids", _number(eid))
            else:
                eid, label = match.id, match.label
                canonical = better_name(match, e)
                if canonical != match.canonical:  # documents written before carry the old name
                    old = entity_key(label, match.canonical)
                    tx.hset(f"{self.p}:e:{eid}", "canonical", canonical)
                    tx.hset(f"{self.p}:renamed", old, eid)
                    tx.rpush(f"{self.p}:renames", old)
            base = f"{self.p}:e:{eid}"
            for k in ks:
                if eid not in filed.members.get(self._idx(k), ()):
                    tx.sadd(self._idx(k), _number(eid))
            names = {FORM + fold(f) for f in e.forms} | {VARIANT + v for v in e.surfaces}
            if new_names := names - filed.names.get(eid, set()):
                tx.hset(base, mapping=dict.fromkeys(sorted(new_names), ""))
            if eid not in counted:  # once per document, however often it is named
                counted.add(eid)
                tx.hincrby(base, "docs", 1)
            own = own_words(e)
            as_words = filed.earlier_ctx.pop(eid, [])
            others = [w for w in ctx if w not in own] + as_words
            if as_words:
                tx.delete(f"{base}:ctx")
            if others:
                tx.sadd(f"{base}:cx", *{context_hash(w) for w in others})
                sizes[f"{base}:cx"] = len(tx)
                tx.scard(f"{base}:cx")
            out.append(Resolved(eid, canonical, label, rule))
        tx.set(f"{self.p}:doc:{doc_id}", json.dumps([int(_number(r.id)) for r in out], separators=(",", ":")))
        self.arrivals.note(tx, doc_id)
        return out, sizes

    # -- renames ---------------------------------------------------------------
    def current_names(self, keys: Collection[str]) -> dict[str, str]:
        """Entity key -> the entity's canonical name now, for the keys (`kind:canonical`)
        of entities renamed since a document was given that name."""
        keys = sorted(set(keys))
        if not keys:
            return {}
        with unavailable("the entity registry"):
            eids = self.r.hmget(f"{self.p}:renamed", keys)
            renamed = [(k, _s(e)) for k, e in zip(keys, eids, strict=True) if e is not None]
            if not renamed:
                return {}
            reads = self.r.pipeline(transaction=False)
            for _, eid in renamed:
                reads.hget(f"{self.p}:e:{eid}", "canonical")
            names = reads.execute()
        return {
            k: _s(n)
            for (k, _), n in zip(renamed, names, strict=True)
            if n is not None and _s(n) != k.split(":", 1)[1]
        }

    @contextmanager
    def renames(self, limit: int = RENAMES_PER_TURN, *, rest_s: float = 0.0) -> Iterator[dict[str, str]]:
        """The renames not yet carried into indexed documents (entity key -> name now), at
        most `limit`, to one process at a time (others get none); taken off the queue when
        the block ends without an error, so a worker that dies leaves them for the next.
        With `rest_s`, a turn that carried renames is followed by a rest of that long,
        across processes, in which turns asking for a rest get none (`waiting` counts
        what is left; a turn without `rest_s` ignores the rest)."""
        with unavailable("the entity registry"):
            if not self.r.llen(f"{self.p}:renames") or (rest_s and self.r.exists(f"{self.p}:renames:rest")):
                yield {}
                return
            token = secrets.token_hex(8)
            lock = f"{self.p}:renames:lock"
            if not self.r.set(lock, token, nx=True, px=RENAMES_LOCK_MS):
                yield {}
                return
        try:
            keys = [_s(k) for k in self.r.lrange(f"{self.p}:renames", 0, limit - 1)]
            yield self.current_names(keys)
            pipe = self.r.pipeline(transaction=True)
            pipe.ltrim(f"{self.p}:renames", len(keys), -1)
            if rest_s:
                pipe.set(f"{self.p}:renames:rest", 1, px=max(1, round(rest_s * 1000)))
            pipe.execute()
        except redis.RedisError as exc:
            raise TransientError("entity registry unavailable") from exc
        finally:
            with contextlib.suppress(redis.RedisError):
                if self.r.get(lock) in (token, token.encode()):
                    self.r.delete(lock)

    def waiting(self) -> int:
        """How many renames are not yet carried into indexed documents."""
        with unavailable("the entity registry"):
            return int(self.r.llen(f"{self.p}:renames"))

    def book_turn(self, after_s: float) -> bool:
        """Whether this caller is the one to take a turn in `after_s` (once the rest is
        over): True for one caller per `after_s`, so one delayed turn is booked, not one per
        batch written meanwhile."""
        with unavailable("the entity registry"):
            return bool(self.r.set(f"{self.p}:renames:booked", 1, nx=True, px=max(1, round(after_s * 1000))))

    def _idx(self, key: str) -> str:
        return f"{self.p}:idx:{key}"

    # -- retention -----------------------------------------------------------
    def prune(self, limit: int | None = None) -> int:
        """Forget the redelivery answers of documents older than `redelivery_s` (a document
        delivered again later is matched again; its entities then count it twice). The
        entities themselves stay. Returns how many documents were pruned."""
        with unavailable("the entity registry"):
            due = self.arrivals.due(limit)
            if due:
                pipe = self.r.pipeline(transaction=True)
                pipe.delete(*(f"{self.p}:doc:{d}" for d in due))
                self.arrivals.forget(pipe, due)
                pipe.execute()
        return len(due)

    def _maybe_prune(self) -> None:
        if self.arrivals.turn():
            try:
                self.prune()
            finally:
                self.arrivals.release()

    # -- listing -------------------------------------------------------------
    def entities(self) -> list[dict[str, Any]]:
        """Every canonical entity: canonical, type, variants, documents (a count)."""
        ids = sorted({_eid(i) for i in self.r.smembers(f"{self.p}:ids")}, key=lambda i: int(i[1:]))
        reads = self.r.pipeline(transaction=False)
        for i in ids:
            reads.hgetall(f"{self.p}:e:{i}")
            reads.smembers(f"{self.p}:e:{i}:variants")  # as versions before kept them
            reads.scard(f"{self.p}:e:{i}:docs")
        values = reads.execute()
        rows = []
        for n, i in enumerate(ids):
            raw, variants, listed = values[3 * n : 3 * n + 3]
            raw = {_s(k): v for k, v in raw.items()}
            rows.append(
                {
                    "id": i,
                    "canonical": _s(raw.get("canonical")),
                    "type": _s(raw.get("label")),
                    "variants": sorted(_names(raw, VARIANT) | {_s(v) for v in variants}),
                    "documents": int(raw.get("docs") or 0) + int(listed),
                }
            )
        return rows


def _number(eid: str) -> str:
    """An entity id "e<n>" as the index sets and answers keep it: n."""
    return eid[1:]


def _eid(member: Any) -> str:
    """An entity id from a member of an index set or an answer: a number, or (as versions
    before wrote them) the id itself."""
    s = _s(member)
    return s if s.startswith("e") else f"e{s}"


def _s(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
