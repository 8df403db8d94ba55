"""Cross-document state for duplicates and stories, shared by all workers in Redis (does I/O).

`NearDuplicates`: a datasketch MinHash LSH whose buckets live in Redis (its own
Redis storage, keyed under `<prefix>:lsh`), plus each copy's MinHash and version
facts (outlet, dates) so that every worker can tell which copy search shows, and
which copy each one last resolved to (`<prefix>:shown`: copy -> the copy shown instead).
The index task reads that after writing: a copy written after the newer version that
replaced it (two workers, either order) still ends up pointing at it.

`StoryStore`: stories, placed incrementally with bounded work per arrival.
    <prefix>:f:<doc>      the document's StoryFeatures (JSON)
    <prefix>:k:<key>      sorted set: the documents filed under one blocking key, scored
                          by their day (0 when undated): the inverted index of rare
                          names and words, read within the time window
    <prefix>:e:<doc>      hash: neighbour -> pair score (only scores >= EDGE_FLOOR)
    <prefix>:day          hash: doc -> its day number (0 when undated)
    <prefix>:copy         hash: copy -> the document it copies (it follows its story)
    <prefix>:m:<story>    set: the story's documents, copies included
    <prefix>:label        hash: doc -> "<gen> <story id>"
    <prefix>:t:<doc>      JSON list: the documents (re)labelled when <doc> was placed: it,
                          and the ones it moved to another story
    <prefix>:c:<doc>      JSON list: the stories whose members that placement changed
    <prefix>:rebuilds     counter, one number per rebuild of story records (Elasticsearch)
    <prefix>:gen          counter, one generation per placement
    <prefix>:lock         held while a placement reads and rewrites stories
    <prefix>:arrived      sorted set: doc -> arrival time (pipeline/redis/retention.py)
Everything above kept for one document is pruned once it arrived more than the window
ago (`prune`, under the lock; a copy keeps its original as long as itself): a later
document then no longer finds it as a candidate, and starts a story of its own if none
of its peers is left. The index keeps the document and its story id as they were.
A document is added in two steps (see pipeline/stories/grouping.py for the rules):
1. link, without the lock: file its features and keys, read the postings of its keys,
   score its best candidates and write both directions of each edge. A candidate with
   almost the same words makes it a copy instead: it is unfiled and follows that story.
2. place, under the lock: re-cluster the stories it touches (its own and its
   neighbours'), or attach it when they are too many, and write the labels with a new
   generation. Placements are serialised, so each sees every edge written before it;
   the generation lets the index writers (pipeline/sqlite/stories.py, ElasticStories) keep the
   newest label when they finish out of order.
ElasticStories rebuilds story records from the members here (`rebuild_view`, real-time,
where a search of the documents index is not): the stories each placement changed
(`changed_stories`), each under a rebuild number that versions the record.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import redis
from datasketch import MinHash, MinHashLSH

from pipeline.redis.errors import unavailable
from pipeline.redis.retention import Arrivals, Retention
from pipeline.stories import grouping, versions
from pipeline.stories.features import StoryFeatures

_PARSED_MAX = 1_000  # parsed features kept per process (~35 KB each): the recent candidates


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# KEYS: the day hash, the document's features, its postings; ARGV: the document, its twin.
_UNFILE_FOR_TWIN = """
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
"""

# KEYS: the day hash, the document's edge hash, then each candidate's; ARGV: the document,
# then each candidate and its score. An edge is written only while both ends are filed:
# a candidate pruned meanwhile gets no edge hash back (it would never be deleted).
_EDGES = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
for i = 3, #KEYS do
  local other, score = ARGV[2 * i - 4], ARGV[2 * i - 3]
  if redis.call('HEXISTS', KEYS[1], other) == 1 then
    redis.call('HSET', KEYS[2], other, score)
    redis.call('HSET', KEYS[i], ARGV[1], score)
  end
end
return 1
"""

# KEYS: the rebuild counter, then the member sets to read. The counter moves on by one,
# and up to the clock (microseconds) if that is ahead.
_REBUILD_VIEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = redis.call('INCR', KEYS[1])
if n < now then n = now; redis.call('SET', KEYS[1], string.format('%d', now)) end
local out = {n}
for i = 2, #KEYS do out[i] = redis.call('SMEMBERS', KEYS[i]) end
return out
"""


class NearDuplicates:
    """MinHash LSH over word shingles, buckets in Redis (datasketch's Redis storage)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:dups",
        threshold: float = versions.NEAR_DUPLICATE,
        retention: Retention | None = None,
    ) -> None:
        self.r = client
        self.prefix = prefix
        self.threshold = threshold
        self.arrivals = Arrivals(client, f"{prefix}:arrived", retention or Retention())
        # datasketch builds its clients as redis.Redis(**config): hand them our client's
        # connection pool, so they connect exactly as it does (TLS and its certificates,
        # timeouts, credentials, socket path), and share its connections.
        params = {"connection_pool": client.connection_pool}
        self.lsh = MinHashLSH(
            threshold=threshold,
            num_perm=versions.NUM_PERM,
            storage_config={"type": "redis", "basename": f"{prefix}:lsh".encode(), "redis": params},
        )

    def close(self) -> None:
        """Give back what datasketch's Redis storage holds; the pool is the client's, and
        closing that client closes it."""
        for storage in (*self.lsh.hashtables, self.lsh.keys):
            client = getattr(storage, "_redis", None)
            if client is not None:
                client.close()

    def match(
        self, version: versions.Version, mh: MinHash
    ) -> tuple[versions.Version, list[tuple[versions.Version, float]]]:
        """File this copy, then return it as first filed (the same text dropped again later
        is not a newer version) and the other copies at or above the threshold."""
        with unavailable("the near-duplicate index"):
            self._maybe_prune()  # first: a copy past the window is no match
            mine = {
                "outlet": version.outlet,
                "published": version.published,
                "received_at": version.received_at,
            }
            pipe = self.r.pipeline()
            pipe.hset(f"{self.prefix}:mh", version.id, mh.hashvalues.tobytes())
            pipe.hsetnx(f"{self.prefix}:meta", version.id, json.dumps(mine))
            pipe.hget(f"{self.prefix}:meta", version.id)  # these facts, or the first sighting's
            self.arrivals.note(pipe, version.id)
            version = versions.Version(id=version.id, **json.loads(pipe.execute()[2]))
            # Insert before querying: of two copies filed at once, the later query sees both.
            if version.id not in self.lsh:
                self.lsh.insert(version.id, mh, check_duplication=False)
            others = sorted({_s(k) for k in self.lsh.query(mh)} - {version.id})
            if not others:
                return version, []
            hashes = self.r.hmget(f"{self.prefix}:mh", others)
            metas = self.r.hmget(f"{self.prefix}:meta", others)
        out = []
        for other, raw, meta in zip(others, hashes, metas, strict=True):
            if raw is None:
                continue
            other_mh = MinHash(
                num_perm=versions.NUM_PERM, seed=1, scheme=mh.scheme, hashvalues=_hashvalues(raw, mh)
            )
            sim = versions.similarity(mh, other_mh)
            if sim >= self.threshold:
                facts = json.loads(meta) if meta else {}
                out.append((versions.Version(id=other, **facts), sim))
        if out:
            self._remember(versions.resolve([version, *(v for v, _ in out)]))
        return version, out

    def _remember(self, shown_of: dict[str, str]) -> None:
        copies: dict[Any, Any] = {copy: shown for copy, shown in shown_of.items() if shown}
        with unavailable("the near-duplicate index"):
            pipe = self.r.pipeline()
            # A copy search shows lives as long as the copies behind it.
            self.arrivals.note(pipe, *sorted(set(copies.values())))
            pipe.hset(f"{self.prefix}:shown", mapping=copies)
            pipe.hdel(f"{self.prefix}:shown", *(v for v, shown in shown_of.items() if not shown))
            pipe.execute()

    def forget(self, ids: Sequence[str]) -> dict[str, str]:
        """Take documents out of the near-duplicate index (replaced by a new version of their
        source): no later copy matches them, and they are no copy of anything. The copies
        that search hid behind one of them are resolved again among themselves: returns
        each such copy -> the copy shown instead now ("" when it is shown itself)."""
        if not ids:
            return {}
        gone = set(ids)
        with unavailable("the near-duplicate index"):
            behind: dict[str, list[str]] = {}  # a forgotten document -> the copies it hid
            for copy, shown in self.r.hscan_iter(f"{self.prefix}:shown", count=1000):
                if _s(shown) in gone and _s(copy) not in gone:
                    behind.setdefault(_s(shown), []).append(_s(copy))
            for doc_id in ids:
                if doc_id in self.lsh:
                    self.lsh.remove(doc_id)
            pipe = self.r.pipeline()
            for family in ("mh", "meta", "shown"):
                pipe.hdel(f"{self.prefix}:{family}", *ids)
            self.arrivals.forget(pipe, list(ids))
            pipe.execute()
            resolved: dict[str, str] = {}
            for copies in behind.values():
                metas = self.r.hmget(f"{self.prefix}:meta", copies)
                resolved.update(
                    versions.resolve(
                        [
                            versions.Version(id=c, **json.loads(m) if m else {})
                            for c, m in zip(copies, metas, strict=True)
                        ]
                    )
                )
            pipe = self.r.pipeline()
            for copy, shown in resolved.items():
                if shown:
                    pipe.hset(f"{self.prefix}:shown", copy, shown)
                else:
                    pipe.hdel(f"{self.prefix}:shown", copy)
            pipe.execute()
        return resolved

    def prune(self, limit: int | None = None) -> int:
        """Take the copies that arrived before the window out of the index (their LSH
        buckets, MinHash, facts, and which copy is shown instead of them): a later copy no
        longer matches them, and is shown itself. Returns how many were pruned."""
        with unavailable("the near-duplicate index"):
            due = self.arrivals.due(limit)
            for doc_id in due:
                if doc_id in self.lsh:
                    self.lsh.remove(doc_id)
            if due:
                pipe = self.r.pipeline()
                for family in ("mh", "meta", "shown"):
                    pipe.hdel(f"{self.prefix}:{family}", *due)
                self.arrivals.forget(pipe, due)
                pipe.execute()
        return len(due)

    def _maybe_prune(self) -> None:
        if self.arrivals.turn():
            try:
                self.prune()
            finally:
                self.arrivals.release()

    def shown_instead(self, ids: Sequence[str]) -> dict[str, str]:
        """For those of `ids` that are copies: id -> the copy search shows instead."""
        if not ids:
            return {}
        with unavailable("the near-duplicate index"):
            found = self.r.hmget(f"{self.prefix}:shown", list(ids))
        return {i: _s(shown) for i, shown in zip(ids, found, strict=True) if shown}


def _hashvalues(raw: bytes | str, like: MinHash) -> Any:
    import numpy as np

    # Stored as raw bytes; our clients never decode responses, so `raw` is bytes.
    data = raw if isinstance(raw, bytes) else raw.encode("latin-1")
    return np.frombuffer(data, dtype=like.hashvalues.dtype)


class StoryStore:
    """Stories in Redis: features, an inverted index of keys, scored edges, story members."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:stories",
        threshold: float = grouping.THRESHOLD,
        floor: float = grouping.EDGE_FLOOR,
        candidates: int = grouping.CANDIDATES,
        max_regroup: int = grouping.MAX_REGROUP,
        lock_timeout: float = 30.0,
        retention: Retention | None = None,
    ) -> None:
        self.r = client
        self.p = prefix
        self.threshold = threshold
        self.floor = floor
        self.candidates = candidates
        self.max_regroup = max_regroup
        self.lock_timeout = lock_timeout  # a placement takes milliseconds; a dead worker's lock expires
        self._unfile_script = client.register_script(_UNFILE_FOR_TWIN)  # sent once, then by its hash
        self._rebuild_script = client.register_script(_REBUILD_VIEW)
        self._edges_script = client.register_script(_EDGES)
        self.arrivals = Arrivals(client, self._k("arrived"), retention or Retention())
        self._parsed: dict[str, StoryFeatures] = {}

    def _k(self, *parts: str) -> str:
        return ":".join((self.p, *parts))

    # -- writing ---------------------------------------------------------------
    def add(self, features: StoryFeatures, *, copy_of: str = "") -> str:
        """File a document and place it in a story; return its story id.

        `copy_of`: a document this one is a near duplicate of (from find_duplicates);
        it then joins that document's story without being scored.
        """
        with unavailable("the story store"):
            self._maybe_prune()  # first: a document does not join peers already past the window
            if self.r.hexists(self._k("label"), features.id):
                return self.story_of(features.id)  # the same text again: nothing new to place
            original = self._original(copy_of, _day(features.when)) if copy_of else ""
            if not original:
                original = self._link(features)
            pipe = self.r.pipeline()
            if original:
                pipe.hset(self._k("copy"), features.id, original)
            self.arrivals.note(pipe, features.id, *([original] if original else []))  # a copy keeps it
            pipe.execute()
            wait = 2 * self.lock_timeout
            with self.r.lock(self._k("lock"), timeout=self.lock_timeout, blocking_timeout=wait):
                return self._place(features.id, original)

    def _original(self, doc_id: str, day: int) -> str:
        """The filed document `doc_id` is or copies; "" when unknown here or out of the window
        (the same text months later, a yearly notice, is another event)."""
        copied = self.r.hget(self._k("copy"), doc_id)
        original = _s(copied) if copied else doc_id
        filed = self.r.hget(self._k("day"), original)
        if filed is None:
            return ""
        other = int(filed)
        return "" if day and other and abs(day - other) > grouping.WINDOW_DAYS else original

    def _link(self, f: StoryFeatures) -> str:
        """File `f`, score its best candidates, write the edges; or return the document it copies."""
        day = _day(f.when)
        pipe = self.r.pipeline()
        pipe.set(self._k("f", f.id), json.dumps(f.to_dict()))
        pipe.hset(self._k("day"), f.id, day)
        for key in f.keys:
            pipe.zadd(self._k("k", key), {f.id: day})
        pipe.execute()
        # Filed before reading: of two documents linked at once, the later read sees the other.
        pipe = self.r.pipeline()
        for key in f.keys:
            if day:  # dated: the latest within the window, and the undated
                pipe.zrevrangebyscore(
                    self._k("k", key),
                    day + grouping.WINDOW_DAYS,
                    day - grouping.WINDOW_DAYS,
                    start=0,
                    num=grouping.POSTING_READ,
                )
                pipe.zrangebyscore(self._k("k", key), 0, 0, start=0, num=grouping.POSTING_READ)
            else:
                pipe.zrevrange(self._k("k", key), 0, grouping.POSTING_READ - 1)
        hits = [_s(m) for found in pipe.execute() for m in found]
        candidates = self.features(grouping.rank_candidates(hits, f.id, self.candidates))
        while twin := grouping.twin_of(f, candidates):
            if self._unfile_for(f, twin):
                return self._original(twin, day) or twin
            candidates = [c for c in candidates if c.id != twin]  # became a copy meanwhile
        keys, args = [self._k("day"), self._k("e", f.id)], [f.id]
        for other in candidates:
            if (score := grouping.pair_score(f, other)) >= self.floor:
                keys.append(self._k("e", other.id))
                args += [other.id, f"{score:.6f}"]
        if len(keys) > 2:
            self._edges_script(keys=keys, args=args)
        return ""

    def _unfile_for(self, f: StoryFeatures, twin: str) -> bool:
        """Unfile `f`, a copy of `twin` (a copy is not a candidate for anyone), if `twin` is
        still filed; atomically: of two twins linked at once, each seeing the other, the
        first to get here becomes the copy and the second stays filed."""
        keys = [self._k("day"), self._k("f", f.id), *(self._k("k", key) for key in f.keys)]
        return bool(self._unfile_script(keys=keys, args=[f.id, twin]))

    def _place(self, doc_id: str, original: str) -> str:
        """Re-cluster the stories around `doc_id` (or its original) and write the labels."""
        core = original or doc_id
        scores = {_s(k): float(v) for k, v in self.r.hgetall(self._k("e", core)).items()}
        if scores:  # neighbours pruned since the edge was read are no candidates
            filed = self.r.hmget(self._k("day"), sorted(scores))
            scores = {
                d: v for (d, v), day in zip(sorted(scores.items()), filed, strict=True) if day is not None
            }
        near = [core, *sorted(scores)]
        current = dict(zip(near, self._stories_of(near), strict=True))
        if original and current[core]:  # a copy of a placed document: that story, as it is
            stories = [current[core]]
        else:
            stories = sorted({s for s in current.values() if s})
        members = self._members(stories)
        everyone = sorted({doc_id, *near, *(m for ms in members.values() for m in ms)})
        followers = self._copies(everyone)
        if original:
            followers[doc_id] = original
        clustered = [d for d in everyone if d not in followers]
        before = {m: s for s, ms in members.items() for m in ms if m not in followers}
        if original and current[core]:
            labels = before
        elif len(clustered) <= self.max_regroup:
            copies = Counter(followers.values())  # a copy counts as its original once more
            features = {f.id: f for f in self.features(clustered)}
            labels = grouping.cluster(clustered, self._edges(clustered), self.threshold, copies, features)
        else:  # too many to re-cluster: the stories stay as they are, the document joins one
            labels = {d: before.get(d, grouping.story_id([d])) for d in clustered}
            by_story: dict[str, list[str]] = {}
            for d, story in before.items():
                by_story.setdefault(story, []).append(d)
            if core not in before:
                labels[core] = grouping.attach(scores, by_story, self.threshold) or labels[core]
        named = grouping.name_stories(labels, followers)
        after: dict[str, set[str]] = {}
        for d, story in named.items():
            after.setdefault(story, set()).add(d)
        changed = sorted(s for s in {*stories, *after} if set(members.get(s, ())) != after.get(s, set()))
        # Only the documents that move (and the one placed) get the new generation: a label
        # is a rewrite of the document in the index, and a member that stays needs none.
        # (Every labelled document near it or in its stories was read above.)
        was = {**current, **{m: s for s, ms in members.items() for m in ms}}
        moved = sorted(d for d, story in named.items() if d == doc_id or was.get(d, "") != story)
        gen = int(self.r.incr(self._k("gen")))
        pipe = self.r.pipeline(transaction=True)
        for story in stories:
            pipe.delete(self._k("m", story))
        for d, story in sorted(named.items()):
            pipe.sadd(self._k("m", story), d)
        for d in moved:
            pipe.hset(self._k("label"), d, f"{gen} {named[d]}")
        pipe.set(self._k("t", doc_id), json.dumps(moved))
        pipe.set(self._k("c", doc_id), json.dumps(changed))
        pipe.execute()
        return named[doc_id]

    def forget(self, doc_ids: Sequence[str]) -> set[str]:
        """Take documents out (a source's previous version, replaced by its new one): their
        features, postings, edges, copy link and label go, and their stories lose them; the
        other members stay grouped as they are. Returns the stories whose members changed."""
        if not doc_ids:
            return set()
        with unavailable("the story store"):
            features = {f.id: f for f in self.features(doc_ids)}
            wait = 2 * self.lock_timeout
            with self.r.lock(self._k("lock"), timeout=self.lock_timeout, blocking_timeout=wait):
                for d in doc_ids:
                    if d in features:
                        self._promote_copy(features[d], set(doc_ids))
                stories = dict(zip(doc_ids, self._stories_of(doc_ids), strict=True))
                pipe = self.r.pipeline()
                for d in doc_ids:
                    pipe.hkeys(self._k("e", d))
                neighbours = dict(zip(doc_ids, pipe.execute(), strict=True))
                pipe = self.r.pipeline(transaction=True)
                for d in doc_ids:
                    if stories[d]:
                        pipe.srem(self._k("m", stories[d]), d)
                    for key in features[d].keys if d in features else ():
                        pipe.zrem(self._k("k", key), d)
                    for other in neighbours[d]:
                        pipe.hdel(self._k("e", _s(other)), d)
                    pipe.hdel(self._k("label"), d)
                    pipe.hdel(self._k("copy"), d)
                    pipe.hdel(self._k("day"), d)
                    pipe.delete(self._k("f", d), self._k("e", d), self._k("t", d), self._k("c", d))
                self.arrivals.forget(pipe, list(doc_ids))
                pipe.execute()
        for d in doc_ids:
            self._parsed.pop(d, None)
        return {story for story in stories.values() if story}

    def prune(self, limit: int | None = None) -> int:
        """Take out the documents that arrived before the window: their features,
        postings, edges (both ends), day, copy link, label and story membership, under the
        placements' lock, so a placement sees each document whole or not at all. Their
        stories keep the members still within the window; the index keeps everything.
        Returns how many documents were pruned."""
        with unavailable("the story store"):
            wait = 2 * self.lock_timeout
            with self.r.lock(self._k("lock"), timeout=self.lock_timeout, blocking_timeout=wait):
                due = self.arrivals.due(limit)
                if not due:
                    return 0
                raws = self.r.mget([self._k("f", d) for d in due])
                keys = {
                    d: json.loads(raw).get("keys", ()) if raw else ()
                    for d, raw in zip(due, raws, strict=True)
                }
                stories = dict(zip(due, self._stories_of(due), strict=True))
                pipe = self.r.pipeline()
                for d in due:
                    pipe.hkeys(self._k("e", d))
                neighbours = dict(zip(due, pipe.execute(), strict=True))
                pipe = self.r.pipeline(transaction=True)
                for d in due:
                    if stories[d]:
                        pipe.srem(self._k("m", stories[d]), d)
                    for key in keys[d]:
                        pipe.zrem(self._k("k", key), d)
                    for other in neighbours[d]:
                        pipe.hdel(self._k("e", _s(other)), d)
                    pipe.delete(self._k("f", d), self._k("e", d), self._k("t", d), self._k("c", d))
                for family in ("label", "copy", "day"):
                    pipe.hdel(self._k(family), *due)
                self.arrivals.forget(pipe, due)
                pipe.execute()
        for d in due:
            self._parsed.pop(d, None)
        return len(due)

    def _maybe_prune(self) -> None:
        if self.arrivals.turn():
            try:
                self.prune()
            finally:
                self.arrivals.release()

    def _promote_copy(self, f: StoryFeatures, leaving: set[str]) -> None:
        """Before `f`'s document leaves: its first copy not leaving too takes its place (its
        features, postings, day and edges; a copy has almost the same words), and the other
        copies follow that one, so they keep their story and stay candidates for others."""
        copies = sorted(
            _s(c)
            for c, original in self.r.hscan_iter(self._k("copy"), count=1000)
            if _s(original) == f.id and _s(c) not in leaving
        )
        if not copies:
            return
        heir, day = copies[0], self.r.hget(self._k("day"), f.id)
        edges = self.r.hgetall(self._k("e", f.id))
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self._k("f", heir), json.dumps({**f.to_dict(), "id": heir}))
        pipe.hset(self._k("day"), heir, _s(day) if day is not None else 0)
        for key in f.keys:
            pipe.zadd(self._k("k", key), {heir: int(_s(day)) if day is not None else 0})
        for other, score in edges.items():
            if _s(other) != heir:
                pipe.hset(self._k("e", heir), _s(other), _s(score))
                pipe.hset(self._k("e", _s(other)), heir, _s(score))
        pipe.hdel(self._k("copy"), heir)
        for copy in copies[1:]:
            pipe.hset(self._k("copy"), copy, heir)
        pipe.execute()

    # -- reading ---------------------------------------------------------------
    def _stories_of(self, doc_ids: Sequence[str]) -> list[str]:
        raws = self.r.hmget(self._k("label"), list(doc_ids)) if doc_ids else []
        return [_s(raw).split(" ", 1)[1] if raw else "" for raw in raws]

    def _members(self, stories: Sequence[str]) -> dict[str, list[str]]:
        pipe = self.r.pipeline()
        for story in stories:
            pipe.smembers(self._k("m", story))
        return {s: sorted(_s(m) for m in ms) for s, ms in zip(stories, pipe.execute(), strict=True)}

    def _copies(self, doc_ids: Sequence[str]) -> dict[str, str]:
        raws = self.r.hmget(self._k("copy"), list(doc_ids)) if doc_ids else []
        return {d: _s(raw) for d, raw in zip(doc_ids, raws, strict=True) if raw}

    def _edges(self, doc_ids: Sequence[str]) -> dict[tuple[str, str], float]:
        """The stored pair scores among `doc_ids`."""
        inside = set(doc_ids)
        pipe = self.r.pipeline()
        for d in doc_ids:
            pipe.hgetall(self._k("e", d))
        edges = {}
        for d, neighbours in zip(doc_ids, pipe.execute(), strict=True):
            for raw, score in neighbours.items():
                other = _s(raw)
                if other in inside:
                    edges[(min(d, other), max(d, other))] = float(score)
        return edges

    def features(self, doc_ids: Sequence[str]) -> list[StoryFeatures]:
        """The filed features of `doc_ids` (those still filed), parsed once per process:
        a document's features never change (its id is its content)."""
        found = {d: self._parsed[d] for d in doc_ids if d in self._parsed}
        missing = [d for d in doc_ids if d not in found]
        if missing:
            for d, raw in zip(missing, self.r.mget([self._k("f", d) for d in missing]), strict=True):
                if raw:
                    found[d] = StoryFeatures.from_dict(json.loads(raw))
            while len(self._parsed) + len(found) > _PARSED_MAX and self._parsed:
                self._parsed.pop(next(iter(self._parsed)))  # the oldest parsed first
            self._parsed.update(found)
        return [found[d] for d in doc_ids if d in found]

    def story_of(self, doc_id: str) -> str:
        return self._stories_of([doc_id])[0]

    def labels(self, doc_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """doc -> (generation, story id) for the documents that have a label."""
        ids = list(doc_ids)
        if not ids:
            return {}
        out = {}
        for d, raw in zip(ids, self.r.hmget(self._k("label"), ids), strict=True):
            if raw:
                gen, story = _s(raw).split(" ", 1)
                out[d] = (int(gen), story)
        return out

    def component_labels(self, doc_id: str) -> dict[str, tuple[int, str]]:
        """Labels of the documents placing `doc_id` relabelled (for the index writer)."""
        with unavailable("the story store"):
            raw = self.r.get(self._k("t", doc_id))
            return self.labels(json.loads(raw) if raw else [doc_id])

    def changed_stories(self, doc_ids: Sequence[str]) -> set[str]:
        """The stories whose members the placements of `doc_ids` changed (those they emptied
        included): the index writer rebuilds them. For a document placed before these were
        kept, the stories of its component."""
        if not doc_ids:
            return set()
        with unavailable("the story store"):
            raws = self.r.mget([self._k("c", d) for d in doc_ids])
            found = {s for raw in raws if raw for s in json.loads(raw)}
            for d, raw in zip(doc_ids, raws, strict=True):
                if raw is None:
                    found |= {story for _, story in self.component_labels(d).values()}
            return found

    def rebuild_view(self, stories: Sequence[str]) -> tuple[int, dict[str, list[str]]]:
        """A new rebuild number and the members of `stories`, read with it (one script).

        The Elasticsearch writer versions each story record with that number: a rebuild
        that read the members later has a higher number and wins, whatever the order in
        which the writes land. The numbers are at least Redis's clock in microseconds, so
        they keep growing after the store is emptied (a new local Redis, the same cluster)."""
        keys = [self._k("rebuilds"), *(self._k("m", story) for story in stories)]
        with unavailable("the story store"):
            number, *found = self._rebuild_script(keys=keys)
        return int(number), {s: sorted(_s(m) for m in ms) for s, ms in zip(stories, found, strict=True)}

    def all_labels(self) -> dict[str, str]:
        return {_s(d): _s(v).split(" ", 1)[1] for d, v in self.r.hgetall(self._k("label")).items()}


def _day(iso: str) -> int:
    """Day number of an ISO date (0 when unknown): the score of a posting."""
    try:
        return date.fromisoformat(iso[:10]).toordinal()
    except ValueError:
        return 0
