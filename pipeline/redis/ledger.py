"""Where every input stands, shared by all workers in Redis (does I/O).

The ledger answers "where is my file?": one record per source (file path or URL)
with its state (queued, processing, done, duplicate, skipped, failed), the document
it became, and the failure reason. Failed sources are also the dead-letter list.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

STATES = ("queued", "processing", "done", "duplicate", "skipped", "failed")
FINAL_STATES = frozenset({"done", "duplicate", "skipped", "failed"})


@dataclass(slots=True, kw_only=True)
class SourceRecord:
    source: str
    state: str
    document: str = ""
    reason: str = ""
    stage: str = ""
    attempts: int = 0
    fingerprint: str = ""  # files: "size:mtime_ns" when queued, so changes are seen
    updated: float = field(default_factory=time.time)
    kind: str = "file"  # "file" | "url"

    @property
    def id(self) -> str:
        return failure_id(self.source)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["id"] = self.id
        return data


def failure_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


class Ledger:
    """Source states and document→sources links, in Redis hashes and sets."""

    def __init__(self, client: redis.Redis, *, prefix: str = "newsflow") -> None:
        self.r = client
        self.key = f"{prefix}:sources"
        self.ids = f"{prefix}:source-ids"
        self.docsrc = f"{prefix}:doc-sources:"
        self.events = f"{prefix}:events"

    def get(self, source: str) -> SourceRecord | None:
        raw = self.r.hget(self.key, source)
        return SourceRecord(**json.loads(raw)) if raw else None

    def get_many(self, sources: Sequence[str]) -> list[SourceRecord | None]:
        """`get` for each source, in one round trip."""
        if not sources:
            return []
        raws = self.r.hmget(self.key, list(sources))
        return [SourceRecord(**json.loads(raw)) if raw else None for raw in raws]

    def find(self, id_or_source: str) -> SourceRecord | None:
        record = self.get(id_or_source)
        if record is None:
            source = self.r.hget(self.ids, id_or_source)
            record = self.get(source.decode() if isinstance(source, bytes) else source) if source else None
        return record

    def mark(self, source: str, state: str, **fields: Any) -> SourceRecord:
        return self.mark_many(state, {source: fields})[0]

    def mark_many(self, state: str, updates: Mapping[str, Mapping[str, Any]]) -> list[SourceRecord]:
        """Move each source to `state` with its own fields, in two round trips for all."""
        assert state in STATES, state
        sources = list(updates)
        if not sources:
            return []
        previous = self.r.hmget(self.key, sources)
        now = time.time()
        records = []
        pipe = self.r.pipeline()
        for source, raw in zip(sources, previous, strict=True):
            base: dict[str, Any] = json.loads(raw) if raw else {"source": source}
            if state not in ("failed", "processing"):
                base.update(reason="", stage="")
            base.update(updates[source])
            base.update(state=state, updated=now)
            record = SourceRecord(**base)
            records.append(record)
            pipe.hset(self.key, source, json.dumps(asdict(record)))
            pipe.hset(self.ids, record.id, source)
            pipe.zadd(self.events, {f"{state}:{source}:{now}": now})
        pipe.zremrangebyscore(self.events, 0, now - 86400)
        pipe.execute()
        return records

    def all(self, state: str | None = None) -> Iterator[SourceRecord]:
        for _source, raw in self.r.hscan_iter(self.key, count=500):
            record = SourceRecord(**json.loads(raw))
            if state is None or record.state == state:
                yield record

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for record in self.all():
            counts[record.state] = counts.get(record.state, 0) + 1
        return counts

    def recent(self, seconds: float = 3600) -> dict[str, int]:
        """How many sources reached each state in the last `seconds` (retries included)."""
        counts: dict[str, int] = {}
        members: list[bytes] = self.r.zrangebyscore(self.events, time.time() - seconds, "+inf")  # type: ignore[assignment]
        for member in members:
            state = member.decode().split(":", 1)[0]
            counts[state] = counts.get(state, 0) + 1
        return counts

    def note_retry(self, source: str, *, reason: str) -> None:
        """Count a retry (for `newsflow status`) without changing the source's state."""
        now = time.time()
        self.r.zadd(self.events, {f"retried:{source}:{now}": now})
        record = self.get(source)
        if record is not None:
            record.attempts += 1
            record.reason = reason
            self.r.hset(self.key, source, json.dumps(asdict(record)))

    def add_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        """Record that each `source` produced its document; return each document's sources, sorted."""
        pipe = self.r.pipeline()
        for doc_id, source in pairs:
            pipe.sadd(self.docsrc + doc_id, source)
            pipe.smembers(self.docsrc + doc_id)
        return [_sorted_members(members) for members in pipe.execute()[1::2]]

    def doc_sources(self, doc_ids: Sequence[str]) -> list[list[str]]:
        """Each document's sources, sorted, in one round trip."""
        pipe = self.r.pipeline()
        for doc_id in doc_ids:
            pipe.smembers(self.docsrc + doc_id)
        return [_sorted_members(members) for members in pipe.execute()]

    def remove_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        """Record that each (document, source) no longer holds: the source now gives another
        document (a new version of the file). Returns each document's remaining sources."""
        pipe = self.r.pipeline()  # MULTI: no writer's SADD lands between the SREM and the read
        for doc_id, source in pairs:
            pipe.srem(self.docsrc + doc_id, source)
            pipe.smembers(self.docsrc + doc_id)
        return [_sorted_members(members) for members in pipe.execute()[1::2]]


def _sorted_members(members: set[bytes | str]) -> list[str]:
    return sorted(m.decode() if isinstance(m, bytes) else m for m in members)
