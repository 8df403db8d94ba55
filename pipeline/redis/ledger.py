"""Where every input stands, shared by all workers in Redis (does I/O).

The ledger answers "where is my file?": one record per source (file path or URL)
with its state (queued, processing, done, duplicate, skipped, failed), the document
it became, and the failure reason. Failed sources are also the dead-letter list.

Every call raises TransientError when Redis is unavailable (pipeline.redis.errors).
A source's record changes in one step on the server (a Lua script), so two workers
marking the same source at once (a redelivered message) never drop each other's fields.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

from pipeline.redis.errors import unavailable

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
        self._mark = client.register_script(_MARK)
        self._retry = client.register_script(_RETRY)
        self._forget = client.register_script(_FORGET)

    def get(self, source: str) -> SourceRecord | None:
        with unavailable("the ledger"):
            raw = self.r.hget(self.key, source)
        return _record(raw) if raw else None

    def get_many(self, sources: Sequence[str]) -> list[SourceRecord | None]:
        """`get` for each source, in one round trip."""
        if not sources:
            return []
        with unavailable("the ledger"):
            raws = self.r.hmget(self.key, list(sources))
        return [_record(raw) if raw else None for raw in raws]

    def find(self, id_or_source: str) -> SourceRecord | None:
        record = self.get(id_or_source)
        if record is None:
            with unavailable("the ledger"):
                source = self.r.hget(self.ids, id_or_source)
            record = self.get(source.decode() if isinstance(source, bytes) else source) if source else None
        return record

    def mark(self, source: str, state: str, **fields: Any) -> SourceRecord:
        return self.mark_many(state, {source: fields})[0]

    def mark_many(self, state: str, updates: Mapping[str, Mapping[str, Any]]) -> list[SourceRecord]:
        """Move each source to `state` with its own fields, atomically, in one round trip."""
        assert state in STATES, state
        if not updates:
            return []
        now = time.time()
        args: list[Any] = [state, repr(now), 1 if state not in ("failed", "processing") else 0, 86400]
        for source, fields in updates.items():
            args += [source, failure_id(source), json.dumps(dict(fields))]
        with unavailable("the ledger"):
            raws = self._mark(keys=[self.key, self.ids, self.events], args=args)
        return [_record(raw) for raw in raws]

    def all(self, state: str | None = None) -> Iterator[SourceRecord]:
        with unavailable("the ledger"):
            for _source, raw in self.r.hscan_iter(self.key, count=500):
                record = _record(raw)
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
        with unavailable("the ledger"):
            members: list[bytes] = self.r.zrangebyscore(self.events, time.time() - seconds, "+inf")  # type: ignore[assignment]
        for member in members:
            state = member.decode().split(":", 1)[0]
            counts[state] = counts.get(state, 0) + 1
        return counts

    def note_retry(self, source: str, *, reason: str) -> None:
        """Count a retry (for `newsflow status`) without changing the source's state."""
        now = time.time()
        with unavailable("the ledger"):
            self._retry(keys=[self.key, self.events], args=[source, reason, repr(now)])

    def forget(self, sources: Sequence[str]) -> list[str]:
        """Drop the records of these sources that are in a final state (an operator removed
        their files from the folder, workers/watcher.py): the record, its id, and its place
        among its document's sources. A source queued or processing meanwhile (its file came
        back) is kept. The documents stay in the index. Returns the sources dropped."""
        records = [r for r in self.get_many(list(sources)) if r is not None and r.state in FINAL_STATES]
        if not records:
            return []
        keys = [self.key, self.ids] + [self.docsrc + (r.document or "-") for r in records]
        args: list[str] = []
        for r in records:
            args += [r.source, r.id, r.document]
        with unavailable("the ledger"):
            dropped = self._forget(keys=keys, args=args)
        return [d.decode() if isinstance(d, bytes) else d for d in dropped]

    def add_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        """Record that each `source` produced its document; return each document's sources, sorted."""
        pipe = self.r.pipeline()
        for doc_id, source in pairs:
            pipe.sadd(self.docsrc + doc_id, source)
            pipe.smembers(self.docsrc + doc_id)
        with unavailable("the ledger"):
            replies = pipe.execute()
        return [_sorted_members(members) for members in replies[1::2]]

    def doc_sources(self, doc_ids: Sequence[str]) -> list[list[str]]:
        """Each document's sources, sorted, in one round trip."""
        pipe = self.r.pipeline()
        for doc_id in doc_ids:
            pipe.smembers(self.docsrc + doc_id)
        with unavailable("the ledger"):
            replies = pipe.execute()
        return [_sorted_members(members) for members in replies]

    def remove_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        """Record that each (document, source) no longer holds: the source now gives another
        document (a new version of the file). Returns each document's remaining sources."""
        pipe = self.r.pipeline()  # MULTI: no writer's SADD lands between the SREM and the read
        for doc_id, source in pairs:
            pipe.srem(self.docsrc + doc_id, source)
            pipe.smembers(self.docsrc + doc_id)
        with unavailable("the ledger"):
            replies = pipe.execute()
        return [_sorted_members(members) for members in replies[1::2]]


def _record(raw: bytes | str) -> SourceRecord:
    return SourceRecord(**json.loads(raw))


# KEYS: sources hash, ids hash, events zset. ARGV: state, now, clear reason (1/0), events
# kept (s), then (source, id, fields as JSON) per source. Returns each new record as JSON.
_MARK = """
local state, now, clear, keep = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV, 3 do
  local source = ARGV[i]
  local raw = redis.call('HGET', KEYS[1], source)
  local record = raw and cjson.decode(raw) or {source = source}
  if clear then record.reason = ''; record.stage = '' end
  for k, v in pairs(cjson.decode(ARGV[i + 2])) do record[k] = v end
  record.state = state
  record.updated = now
  local encoded = cjson.encode(record)
  redis.call('HSET', KEYS[1], source, encoded)
  redis.call('HSET', KEYS[2], ARGV[i + 1], source)
  redis.call('ZADD', KEYS[3], now, state .. ':' .. source .. ':' .. ARGV[2])
  out[#out + 1] = encoded
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], 0, now - keep)
return out
"""

# KEYS: sources hash, events zset. ARGV: source, reason, now.
_RETRY = """
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), 'retried:' .. ARGV[1] .. ':' .. ARGV[3])
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local record = cjson.decode(raw)
  record.attempts = (tonumber(record.attempts) or 0) + 1
  record.reason = ARGV[2]
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
end
return 1
"""


# KEYS: sources hash, ids hash, then the doc-sources set of each source's document.
# ARGV: (source, id, document) per source. Drops each record still final and still of
# that document; returns the sources dropped.
_FORGET = """
local final = {done = true, duplicate = true, skipped = true, failed = true}
local out = {}
for i = 1, #ARGV, 3 do
  local source, id, document = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local raw = redis.call('HGET', KEYS[1], source)
  if raw then
    local record = cjson.decode(raw)
    if final[record.state] and (record.document or '') == document then
      redis.call('HDEL', KEYS[1], source)
      if redis.call('HGET', KEYS[2], id) == source then redis.call('HDEL', KEYS[2], id) end
      if document ~= '' then redis.call('SREM', KEYS[2 + (i + 2) / 3], source) end
      out[#out + 1] = source
    end
  end
end
return out
"""


def _sorted_members(members: set[bytes | str]) -> list[str]:
    return sorted(m.decode() if isinstance(m, bytes) else m for m in members)
