"""Per-outlet line repetition counts, shared by all workers in Redis (does I/O).

A line that appears in many documents from one outlet ("Your support helps us to
tell the story", a standing footer) is that outlet's furniture, however much it
reads like prose. Every cleaned document records which lines it contained, so
every worker learns from every document.

Keys, under `prefix` (default "newsflow:lines"), per outlet and period (one retention
window, `Retention.window_s`: 30 days by default, numbered from the epoch):
  {prefix}:{outlet}:docs:{period}   set of document keys counted in the period (a
                                    redelivered message counts once)
  {prefix}:{outlet}:lines:{period}  hash: line fingerprint -> documents of the period
                                    containing it
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
        (docs_key, lines_key), (before_docs, before_lines) = (
            self._keys(outlet, period),
            self._keys(outlet, period - 1),
        )
        prints = [fingerprint(line) for line in lines]
        unique = sorted(set(prints))
        with unavailable("the line counts"):
            reads = self.client.pipeline(transaction=False)
            reads.scard(docs_key)
            reads.scard(before_docs)
            if unique:  # each line as kept now and as versions before wrote it (hex)
                fields: list[bytes | str] = [*unique, *(p.hex() for p in unique)]
                reads.hmget(lines_key, fields)
                reads.hmget(before_lines, fields)
            found = reads.execute()
            counts = {}
            if unique:
                n = len(unique)
                counts = {
                    p: sum(int(x or 0) for x in (found[2][i], found[2][n + i], found[3][i], found[3][n + i]))
                    for i, p in enumerate(unique)
                }
            threshold = max(min_docs, share * (found[0] + found[1]))
            repeated = [counts.get(p, 0) >= threshold for p in prints]
            if self.client.sadd(docs_key, doc_key):
                pipe = self.client.pipeline(transaction=False)
                for p in unique:
                    pipe.hincrby(lines_key, p, 1)
                end = (period + 2) * self.retention.window_s - self.retention.clock()
                pipe.expire(docs_key, max(1, int(end)))
                pipe.expire(lines_key, max(1, int(end)))
                if not found[0]:  # the outlet's first document of the period
                    pipe.delete(*self._keys(outlet, period - 2), *self._keys(outlet))
                pipe.execute()
        return repeated

    def documents(self, outlet: str) -> int:
        """The outlet's documents counted in this period and the one before."""
        period = self._period()
        with unavailable("the line counts"):
            pipe = self.client.pipeline(transaction=False)
            pipe.scard(self._keys(outlet, period)[0])
            pipe.scard(self._keys(outlet, period - 1)[0])
            return sum(int(n) for n in pipe.execute())
