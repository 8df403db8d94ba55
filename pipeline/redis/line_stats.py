"""Per-outlet line repetition counts, shared by all workers in Redis (does I/O).

A line that appears in many documents from one outlet ("Your support helps us to
tell the story", a standing footer) is that outlet's furniture, however much it
reads like prose. Every cleaned document records which lines it contained, so
every worker learns from every document.

Keys, under `prefix` (default "newsflow:lines"), per outlet and period (one retention
window, `Retention.window_s`: 30 days by default, numbered from the epoch):
  {prefix}:{outlet}:n:{period}      counter: the documents counted in the period
  {prefix}:{outlet}:lines:{period}  hash: line fingerprint -> documents of the period
                                    containing it
  {prefix}:{outlet}:seen:{slot}     set of the document keys counted in a slot of
                                    `Retention.redelivery_s` (a day): a message delivered
                                    again within that time counts once. This slot's and
                                    the one before are read; older ones go (EXPIRE, and
                                    `{outlet}:seen` names the last slot written, so the
                                    first document of a new slot deletes what is older)
  {prefix}:{outlet}:docs:{period}   (before) the period's document keys, a set kept for
                                    the whole period (some 100 bytes a document): counted
                                    beside `n` while its period lasts, no longer written
A line is judged by the counts of this period and the one before: between one and two
windows of the outlet's documents. Older periods go: each key expires at the end of the
period after its own, and an outlet's first document of a period deletes the period
before last (and the counts versions before kept for all time, `{outlet}:docs` and
`{outlet}:lines`, which grew with every document and every distinct line). So the counts
grow with an outlet's documents and lines of two windows, not with all it ever published.
Fingerprints are 8 bytes of blake2b over the line's lower-cased words, so no text
is stored; the fields are those 8 bytes (versions before wrote 16 hex digits: a line's
count is the sum of both forms, and the hex ones leave with their period). Redis errors
become TransientError (pipeline.redis.errors).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import redis

from pipeline.redis.errors import unavailable
from pipeline.redis.retention import Retention

_WORD = re.compile(r"\w+")


def fingerprint(line: str) -> bytes:
    """A line's field in the counts: 8 bytes of blake2b over its lower-cased words. Versions
    before wrote them as 16 hex digits (twice the bytes): still counted (`observe`)."""
    words = " ".join(_WORD.findall(line.lower()))
    return hashlib.blake2b(words.encode("utf-8"), digest_size=8).digest()


class LineStats:
    def __init__(
        self, client: redis.Redis, *, prefix: str = "newsflow:lines", retention: Retention | None = None
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.retention = retention or Retention()

    def _keys(self, outlet: str, period: int | None = None) -> tuple[str, str]:
        base = f"{self.prefix}:{outlet.lower()}"
        if period is None:  # as versions before kept them, for all time
            return f"{base}:docs", f"{base}:lines"
        return f"{base}:docs:{period}", f"{base}:lines:{period}"

    def _count_key(self, outlet: str, period: int) -> str:
        return f"{self.prefix}:{outlet.lower()}:n:{period}"

    def _seen_key(self, outlet: str, slot: int | None = None) -> str:
        base = f"{self.prefix}:{outlet.lower()}:seen"
        return base if slot is None else f"{base}:{slot}"

    def _count(self, reads: Any, outlet: str, period: int) -> None:
        """Queue on `reads` the two replies `_counted` sums: a period's documents."""
        reads.get(self._count_key(outlet, period))
        reads.scard(self._keys(outlet, period)[0])  # as versions before counted them

    def _period(self) -> int:
        return int(self.retention.clock() // self.retention.window_s)

    def observe(
        self, outlet: str, doc_key: str, lines: Sequence[str], *, share: float, min_docs: int
    ) -> list[bool]:
        """Which `lines` earlier documents of `outlet` repeat often enough to be furniture.

        A line is furniture when at least `min_docs` earlier documents (of this period and
        the one before), and at least `share` of them all, contained it. Then this
        document's lines are counted (once per document key, so a retried document does
        not count twice).
        """
        period = self._period()
        lines_key, before_lines = self._keys(outlet, period)[1], self._keys(outlet, period - 1)[1]
        slot_s = min(self.retention.redelivery_s, self.retention.window_s)
        slot = int(self.retention.clock() // slot_s)
        seen, seen_before = self._seen_key(outlet, slot), self._seen_key(outlet, slot - 1)
        prints = [fingerprint(line) for line in lines]
        unique = sorted(set(prints))
        with unavailable("the line counts"):
            reads = self.client.pipeline(transaction=False)
            self._count(reads, outlet, period)
            self._count(reads, outlet, period - 1)
            if unique:  # each line as kept now and as versions before wrote it (hex)
                fields: list[bytes | str] = [*unique, *(p.hex() for p in unique)]
                reads.hmget(lines_key, fields)
                reads.hmget(before_lines, fields)
            reads.sismember(seen_before, doc_key)
            reads.get(self._seen_key(outlet))
            *found, again, last_slot = reads.execute()
            counts = {}
            if unique:
                n = len(unique)
                counts = {
                    p: sum(int(x or 0) for x in (found[4][i], found[4][n + i], found[5][i], found[5][n + i]))
                    for i, p in enumerate(unique)
                }
            now, before = _counted(found[0:2]), _counted(found[2:4])
            threshold = max(min_docs, share * (now + before))
            repeated = [counts.get(p, 0) >= threshold for p in prints]
            if not self.client.sadd(seen, doc_key):
                return repeated  # counted in this slot already
            pipe = self.client.pipeline(transaction=False)
            pipe.expire(seen, max(1, int(2 * slot_s)))
            last = int(last_slot or slot)
            stale = [self._seen_key(outlet, s) for s in (last - 1, last) if s < slot - 1]
            if stale:  # as EXPIRE would, on any clock
                pipe.delete(*stale)
            pipe.set(self._seen_key(outlet), slot, ex=max(1, int(2 * slot_s)))
            if not again:  # not counted in the slot before either
                for p in unique:
                    pipe.hincrby(lines_key, p, 1)
                count_key = self._count_key(outlet, period)
                pipe.incr(count_key)
                end = (period + 2) * self.retention.window_s - self.retention.clock()
                for key in (count_key, lines_key):
                    pipe.expire(key, max(1, int(end)))
                if not now:  # the outlet's first document of the period
                    old = self._keys(outlet, period - 2)
                    pipe.delete(*old, self._count_key(outlet, period - 2), *self._keys(outlet))
            pipe.execute()
        return repeated

    def documents(self, outlet: str) -> int:
        """The outlet's documents counted in this period and the one before."""
        period = self._period()
        with unavailable("the line counts"):
            pipe = self.client.pipeline(transaction=False)
            self._count(pipe, outlet, period)
            self._count(pipe, outlet, period - 1)
            found = pipe.execute()
            return _counted(found[0:2]) + _counted(found[2:4])


def _counted(replies: Sequence[Any]) -> int:
    """A period's documents from `LineStats._count`'s replies: the counter, and the set
    versions before kept."""
    counter, older = replies
    return int(counter or 0) + int(older or 0)
