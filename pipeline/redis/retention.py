"""Per-document Redis state kept only within a time window (does I/O).

The story store, the near-duplicate index, the claim groups and the entity registry's
redelivery answers each note when a document arrived, in a sorted set of their own
(`<prefix>:arrived`: document -> arrival time on `Retention.clock`). A document whose
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

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import redis

DAY_S = 86_400.0


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


class Arrivals:
    """Document -> arrival time, in one sorted set; which documents are past the window."""

    def __init__(self, client: redis.Redis, key: str, retention: Retention) -> None:
        self.r = client
        self.key = key
        self.retention = retention
        self._next_turn = float("-inf")

    def note(self, pipe: Any, *doc_ids: str) -> None:
        """Queue on `pipe`: these documents arrived now (an earlier arrival moves up, never
        back: a document seen again, or an original a copy follows, lives on with it)."""
        if doc_ids:
            now = self.retention.clock()
            pipe.zadd(self.key, dict.fromkeys(doc_ids, now), gt=True)

    def due(self, limit: int | None = None) -> list[str]:
        """The documents that arrived before the window, oldest first."""
        cutoff = self.retention.clock() - self.retention.window_s
        found = self.r.zrangebyscore(
            self.key, "-inf", f"({cutoff}", start=0, num=limit or self.retention.prune_batch
        )
        return [m.decode() if isinstance(m, bytes) else str(m) for m in found]

    def forget(self, pipe: Any, doc_ids: list[str], cutoff: float | None = None) -> None:
        """Queue on `pipe`: these documents are pruned (those noted again since stay)."""
        if doc_ids:
            pipe.zrem(self.key, *doc_ids)

    def still_due(self, doc_ids: list[str]) -> list[str]:
        """Those of `doc_ids` still past the window (one seen again meanwhile is not)."""
        if not doc_ids:
            return []
        cutoff = self.retention.clock() - self.retention.window_s
        scores = self.r.zmscore(self.key, doc_ids)
        return [d for d, s in zip(doc_ids, scores, strict=True) if s is not None and s < cutoff]

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
        return int(self.r.zcard(self.key))
