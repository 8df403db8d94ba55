"""Cross-document state for duplicates and stories, shared by all workers in Redis (does I/O).

`NearDuplicates`: a datasketch MinHash LSH whose buckets live in Redis (its own
Redis storage, keyed under `<prefix>:lsh`), plus each copy's MinHash and version
facts (outlet, dates) so that every worker can tell which copy search shows.

`StoryStore`: the story graph.
    <prefix>:f:<doc>    the document's StoryFeatures (JSON)
    <prefix>:k:<key>    set of documents filed under one blocking key
    <prefix>:e:<doc>    hash: neighbour -> pair score (only scores >= EDGE_FLOOR)
    <prefix>:gen        counter, incremented after each document's edges are written
    <prefix>:label      hash: doc -> "<gen> <story id>"
A document is added in three steps: file its features and keys; score it against
every document sharing a key and write both directions of each edge; take a
generation number and re-cluster its connected component. Labels are written only
over older generations (a Lua script), and the re-clustering with the highest
generation has seen every edge written before it, so concurrent workers converge on
the stories `grouping.group` gives for the same documents, whatever the order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import redis
from datasketch import MinHash, MinHashLSH

from pipeline.errors import TransientError
from pipeline.stories import grouping, versions
from pipeline.stories.features import StoryFeatures

_SET_LABELS = """
local written = 0
for i = 1, #ARGV, 2 do
  local old = redis.call('HGET', KEYS[1], ARGV[i])
  local gen = tonumber(string.match(ARGV[i + 1], '^(%d+)'))
  if (not old) or tonumber(string.match(old, '^(%d+)')) <= gen then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    written = written + 1
  end
end
return written
"""

_REDIS_PARAMS = ("host", "port", "db", "username", "password", "path")


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NearDuplicates:
    """MinHash LSH over word shingles, buckets in Redis (datasketch's Redis storage)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:dups",
        threshold: float = versions.NEAR_DUPLICATE,
    ) -> None:
        self.r = client
        self.prefix = prefix
        self.threshold = threshold
        kwargs = client.connection_pool.connection_kwargs
        params = {k: v for k, v in kwargs.items() if k in _REDIS_PARAMS and v is not None}
        if "path" in params:
            params["unix_socket_path"] = params.pop("path")
        self.lsh = MinHashLSH(
            threshold=threshold,
            num_perm=versions.NUM_PERM,
            storage_config={"type": "redis", "basename": f"{prefix}:lsh".encode(), "redis": params},
        )

    def close(self) -> None:
        """Close the connections datasketch's Redis storage opened (one pool per bucket table)."""
        for storage in (*self.lsh.hashtables, self.lsh.keys):
            client = getattr(storage, "_redis", None)
            if client is not None:
                client.close()
                client.connection_pool.disconnect()

    def match(self, version: versions.Version, mh: MinHash) -> list[tuple[versions.Version, float]]:
        """File this copy, then return the other copies at or above the threshold."""
        try:
            pipe = self.r.pipeline()
            pipe.hset(f"{self.prefix}:mh", version.id, mh.hashvalues.tobytes())
            pipe.hset(
                f"{self.prefix}:meta",
                version.id,
                json.dumps(
                    {
                        "outlet": version.outlet,
                        "published": version.published,
                        "received_at": version.received_at,
                    }
                ),
            )
            pipe.execute()
            # Insert before querying: of two copies filed at once, the later query sees both.
            if version.id not in self.lsh:
                self.lsh.insert(version.id, mh, check_duplication=False)
            others = sorted({_s(k) for k in self.lsh.query(mh)} - {version.id})
            if not others:
                return []
            hashes = self.r.hmget(f"{self.prefix}:mh", others)
            metas = self.r.hmget(f"{self.prefix}:meta", others)
        except redis.RedisError as exc:
            raise TransientError(f"near-duplicate index unavailable: {type(exc).__name__}") from exc
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
        return out


def _hashvalues(raw: bytes | str, like: MinHash) -> Any:
    import numpy as np

    # Stored as raw bytes; our clients never decode responses, so `raw` is bytes.
    data = raw if isinstance(raw, bytes) else raw.encode("latin-1")
    return np.frombuffer(data, dtype=like.hashvalues.dtype)


class StoryStore:
    """The story graph in Redis: features, blocking keys, scored edges, labels."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "newsflow:stories",
        threshold: float = grouping.THRESHOLD,
        floor: float = grouping.EDGE_FLOOR,
    ) -> None:
        self.r = client
        self.p = prefix
        self.threshold = threshold
        self.floor = floor
        self._set_labels = client.register_script(_SET_LABELS)

    # -- writing ---------------------------------------------------------------
    def add(self, features: StoryFeatures) -> str:
        """File a document, link it, re-cluster its component; return its story id."""
        try:
            return self._add(features)
        except redis.RedisError as exc:
            raise TransientError(f"story store unavailable: {type(exc).__name__}") from exc

    def _add(self, f: StoryFeatures) -> str:
        pipe = self.r.pipeline()
        pipe.set(f"{self.p}:f:{f.id}", json.dumps(f.to_dict()))
        for key in f.keys:
            pipe.sadd(f"{self.p}:k:{key}", f.id)
        pipe.execute()
        # Features are written before keys are read: of two documents added at once,
        # the later read sees the other, so every pair is scored at least once.
        candidates = set()
        if f.keys:
            candidates = {_s(m) for m in self.r.sunion([f"{self.p}:k:{k}" for k in f.keys])} - {f.id}
        edges = {}
        for other in self.features(sorted(candidates)):
            score = grouping.pair_score(f, other)
            if score >= self.floor:
                edges[other.id] = score
        pipe = self.r.pipeline()
        for other_id, score in edges.items():
            pipe.hset(f"{self.p}:e:{f.id}", other_id, f"{score:.6f}")
            pipe.hset(f"{self.p}:e:{other_id}", f.id, f"{score:.6f}")
        pipe.incr(f"{self.p}:gen")
        gen = int(pipe.execute()[-1])
        labels = self.regroup(f.id)
        self._set_labels(
            keys=[f"{self.p}:label"],
            args=[x for doc, story in sorted(labels.items()) for x in (doc, f"{gen} {story}")],
        )
        return self.story_of(f.id) or labels[f.id]

    def regroup(self, doc_id: str) -> dict[str, str]:
        """Cluster the connected component of `doc_id`: doc -> story id (no writes)."""
        members, edges = self.component(doc_id)
        return grouping.cluster(members, edges, self.threshold)

    # -- reading ---------------------------------------------------------------
    def component(self, doc_id: str) -> tuple[list[str], dict[tuple[str, str], float]]:
        """Every document linked to `doc_id` through stored edges, and those edges."""
        seen = {doc_id}
        frontier = [doc_id]
        edges: dict[tuple[str, str], float] = {}
        while frontier:
            pipe = self.r.pipeline()
            for d in frontier:
                pipe.hgetall(f"{self.p}:e:{d}")
            nxt = []
            for d, neighbours in zip(frontier, pipe.execute(), strict=True):
                for raw_other, raw_score in neighbours.items():
                    other = _s(raw_other)
                    edges[(min(d, other), max(d, other))] = float(raw_score)
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            frontier = nxt
        return sorted(seen), edges

    def features(self, doc_ids: Sequence[str]) -> list[StoryFeatures]:
        if not doc_ids:
            return []
        raws = self.r.mget([f"{self.p}:f:{d}" for d in doc_ids])
        return [StoryFeatures.from_dict(json.loads(raw)) for raw in raws if raw]

    def story_of(self, doc_id: str) -> str:
        raw = self.r.hget(f"{self.p}:label", doc_id)
        return _s(raw).split(" ", 1)[1] if raw else ""

    def labels(self, doc_ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """doc -> (generation, story id) for the documents that have a label."""
        ids = list(doc_ids)
        if not ids:
            return {}
        out = {}
        for d, raw in zip(ids, self.r.hmget(f"{self.p}:label", ids), strict=True):
            if raw:
                gen, story = _s(raw).split(" ", 1)
                out[d] = (int(gen), story)
        return out

    def component_labels(self, doc_id: str) -> dict[str, tuple[int, str]]:
        """Labels of every document in `doc_id`'s component (for the index writer)."""
        try:
            members, _ = self.component(doc_id)
            return self.labels(members)
        except redis.RedisError as exc:
            raise TransientError(f"story store unavailable: {type(exc).__name__}") from exc

    def all_labels(self) -> dict[str, str]:
        return {_s(d): _s(v).split(" ", 1)[1] for d, v in self.r.hgetall(f"{self.p}:label").items()}
