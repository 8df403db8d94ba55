"""Per-document Redis state kept only within a time window (does I/O).

The story store, the near-duplicate index, the claim groups and the entity registry's
redelivery answers each note when a document arrived, in sorted sets of their own
(`<prefix>:arrived:<xx>`, split over SHARDS by document: document -> arrival time on
`Retention.clock`; a 32-hex id as its 16 bytes, `arrival_name`). A document whose
arrival is older than `window_s` is pruned: each store takes out everything it keeps for
that document (its own `prune`), under the same locks its writers take, so no writer
sees a document half taken out. Writers prune as they go: at most once per
`prune_every_s` of the clock in a process, one process at a time, `prune_batch`
documents at most per turn (a backlog is worked off over the next turns). What only a
task delivered again reads (the entity registry's answers, the story store's `placed`)
is kept `redelivery_s` instead (`for_redelivery`: a day, not the window).

Why a sorted set and not Redis TTLs: most of this state is fields of shared hashes and
members of shared sets (labels, postings, LSH buckets), which Redis 7.0 cannot expire one
by one; and the clock is injectable, so a soak bench or a test can move it forward by
weeks in a second against a real Redis (bench/soak.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import redis

from pipeline.redis import split

DAY_S = 86_400.0
# The parts of an arrival set kept for redelivery (a day of documents, a thirtieth of the
# window's): each a listpack up to some 2,000 documents a day. 256 parts, as a window's
# set has, would be a key a document at a few hundred a day.
REDELIVERY_PARTS = 16
_CONTENT_ID = re.compile(r"[0-9a-f]{32}")  # pipeline.document.content_id


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How long per-document state is kept, and how pruning is paced (settings:
    NEWSFLOW_STATE_WINDOW_DAYS, NEWSFLOW_STATE_PRUNE_EVERY_S, NEWSFLOW_STATE_PRUNE_BATCH)."""

    window_s: float = 30 * DAY_S  # the story window: a late article still finds its peers
    clock: Callable[[], float] = time.time
    prune_every_s: float = 60.0
    prune_batch: int = 500
    # What only a task delivered again reads (a document's entity answers, what its
    # placement changed) is kept this long: a task not acknowledged comes back after the
    # broker's visibility timeout (the workers make it at least twice that).
    redelivery_s: float = DAY_S

    def for_redelivery(self) -> Retention:
        """This retention with the window of what only a redelivery reads."""
        return replace(self, window_s=min(self.window_s, self.redelivery_s))


def arrival_name(doc_id: str) -> bytes:
    """A document's member in an arrival set: an id of 32 hex digits (a content hash:
    every document's, in lower case) as a zero byte and its 16 bytes, another id as it is.

    The set is a skiplist, some 130 bytes a member of which the member's own string is
    one allocation: 17 bytes take 32, the 32 hex digits 48 (as `story_store._edge_name`).
    No id written as it is starts with a zero byte, so a name reads back one way."""
    if _CONTENT_ID.fullmatch(doc_id):  # lower case only: the name reads back as the id
        return b"\x00" + bytes.fromhex(doc_id)
    return doc_id.encode("utf-8")


def arrival_doc(member: bytes | str) -> str:
    """`arrival_name` undone; a member an earlier version wrote (the id as it is) too."""
    raw = member if isinstance(member, bytes) else member.encode("utf-8")
    if raw[:1] == b"\x00" and len(raw) == 17:
        return raw[1:].hex()
    return raw.decode("utf-8")


# KEYS: an arrival set; ARGV: the cutoff, then members: each taken out if still before it.
_DROP_STALE = """
local cutoff = tonumber(ARGV[1])
for i = 2, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) < cutoff then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
"""


class Arrivals:
    """Document -> arrival time, in sorted sets; which documents are past the window.

    Members are `arrival_name`s, each in one of SHARDS sets, `<key>:<xx>` (`home`;
    pipeline/redis/split.py: some 48 bytes a document where one skiplist took 118).
    Versions before kept them in one set, `<key>`, and before that wrote a 32-hex id as
    it is; such members are read as well (`due`, `still_due`), and a document's arrival is
    the latest of its members while more than one is there: a worker of an earlier
    version may note it again. `forget` takes them all out; an older member a later
    arrival left behind goes when it comes due."""

    def __init__(
        self, client: redis.Redis, key: str, retention: Retention, *, parts: int = split.SHARDS
    ) -> None:
        self.r = client
        self.key = key
        self.retention = retention
        self._next_turn = float("-inf")
        self._drop_stale = client.register_script(_DROP_STALE)
        self._parts = split.parts(key, parts)

    def home(self, doc_id: str) -> tuple[str, bytes]:
        """The set a document's arrival is noted in, and its member there."""
        name = arrival_name(doc_id)
        return self._parts[split.part_of(name) % len(self._parts)], name

    def places(self, doc_id: str) -> list[tuple[str, bytes]]:
        """Every (set, member) that may hold the document's arrival: its `home`, and the
        one set of the versions before, in either of their layouts (`arrival_members`)."""
        return [self.home(doc_id), *((self.key, m) for m in arrival_members(doc_id))]

    def note(self, pipe: Any, *doc_ids: str) -> None:
        """Queue on `pipe`: these documents arrived now (an earlier arrival moves up, never
        back: a document seen again, or an original a copy follows, lives on with it)."""
        now = self.retention.clock()
        for key, names in split.grouped(self.home(doc_id) for doc_id in doc_ids):
            pipe.zadd(key, dict.fromkeys(names, now), gt=True)

    def due(self, limit: int | None = None) -> list[str]:
        """The documents that arrived before the window, oldest first (at most `limit`).

        A member past the window whose document has a later member within it (noted again
        by a worker of an earlier version) is no arrival of it any more: it is taken out
        here, which leaves the document's arrival, the later one, as it was."""
        cutoff = self.retention.clock() - self.retention.window_s
        n = limit or self.retention.prune_batch
        pipe = self.r.pipeline(transaction=False)
        keys = [*self._parts, self.key]
        for key in keys:
            pipe.zrangebyscore(key, "-inf", f"({cutoff}", start=0, num=n, withscores=True)
        # The first n of all sets, in the order one set gives them: by time, then member.
        found = sorted(
            (score, member, key)
            for key, members in zip(keys, pipe.execute(), strict=True)
            for member, score in members
        )[:n]
        if not found:
            return []
        docs = [arrival_doc(member) for _, member, _ in found]
        latest = self._latest(docs)
        # noted again meanwhile, in another place
        stale = (
            (key, member) for (_, member, key), doc in zip(found, docs, strict=True) if latest[doc] >= cutoff
        )
        for key, members in split.grouped(stale):
            self._drop_stale(keys=[key], args=[repr(cutoff), *members])
        return list(dict.fromkeys(d for d in docs if latest[d] < cutoff))  # a document twice: once

    def _latest(self, doc_ids: list[str]) -> dict[str, float]:
        """Each document's arrival: the latest of its members (-inf when it has none)."""
        places = {d: self.places(d) for d in dict.fromkeys(doc_ids)}
        pipe = self.r.pipeline(transaction=False)
        for doc_places in places.values():
            for key, member in doc_places:
                pipe.zscore(key, member)
        scores = iter(pipe.execute())
        return {
            d: max((s for s in (next(scores) for _ in doc_places) if s is not None), default=float("-inf"))
            for d, doc_places in places.items()
        }

    def forget(self, pipe: Any, doc_ids: list[str], cutoff: float | None = None) -> None:
        """Queue on `pipe`: these documents are pruned (every place's member)."""
        places = (place for doc_id in dict.fromkeys(doc_ids) for place in self.places(doc_id))
        for key, members in split.grouped(places):
            pipe.zrem(key, *members)

    def still_due(self, doc_ids: list[str]) -> list[str]:
        """Those of `doc_ids` still past the window (one seen again meanwhile is not)."""
        if not doc_ids:
            return []
        cutoff = self.retention.clock() - self.retention.window_s
        latest = self._latest(doc_ids)
        return [d for d in doc_ids if float("-inf") < latest[d] < cutoff]

    def turn(self) -> bool:
        """Whether this process prunes now: once per `prune_every_s` of the clock here, and
        only if no other process is pruning this store (`release` when done)."""
        now = self.retention.clock()
        if now < self._next_turn:
            return False
        self._next_turn = now + self.retention.prune_every_s
        return bool(self.r.set(f"{self.key}:pruning", "1", nx=True, px=60_000))

    def release(self) -> None:
        self.r.delete(f"{self.key}:pruning")

    def __len__(self) -> int:
        """Members of every set (a document noted in two layouts counts twice)."""
        pipe = self.r.pipeline(transaction=False)
        for key in [*self._parts, self.key]:
            pipe.zcard(key)
        return sum(pipe.execute())


def arrival_members(doc_id: str) -> tuple[bytes, ...]:
    """A document's members in either layout: its `arrival_name`, and the id as it is
    (as versions before wrote it), when that differs."""
    name, plain = arrival_name(doc_id), doc_id.encode("utf-8")
    return (name,) if name == plain else (name, plain)
