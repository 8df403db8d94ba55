"""Per-outlet line repetition counts, shared by all workers in Redis (does I/O).

A line that appears in many documents from one outlet ("Your support helps us to
tell the story", a standing footer) is that outlet's furniture, however much it
reads like prose. Every cleaned document records which lines it contained, so
every worker learns from every document.

Keys, under `prefix` (default "newsflow:lines"), per outlet:
  {prefix}:{outlet}:docs   set of document keys counted (a redelivered message
                           counts once)
  {prefix}:{outlet}:lines  hash: line fingerprint -> number of documents containing it
Fingerprints are 8 bytes of blake2b over the line's lower-cased words, so no text
is stored. Redis errors become TransientError (pipeline.redis.errors).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import redis

from pipeline.redis.errors import unavailable

_WORD = re.compile(r"\w+")


def fingerprint(line: str) -> str:
    words = " ".join(_WORD.findall(line.lower()))
    return hashlib.blake2b(words.encode("utf-8"), digest_size=8).hexdigest()


class LineStats:
    def __init__(self, client: redis.Redis, *, prefix: str = "newsflow:lines") -> None:
        self.client = client
        self.prefix = prefix

    def _keys(self, outlet: str) -> tuple[str, str]:
        base = f"{self.prefix}:{outlet.lower()}"
        return f"{base}:docs", f"{base}:lines"

    def observe(
        self, outlet: str, doc_key: str, lines: Sequence[str], *, share: float, min_docs: int
    ) -> list[bool]:
        """Which `lines` earlier documents of `outlet` repeat often enough to be furniture.

        A line is furniture when at least `min_docs` earlier documents, and at least
        `share` of them all, contained it. Then this document's lines are counted
        (once per document key, so a retried document does not count twice).
        """
        docs_key, lines_key = self._keys(outlet)
        prints = [fingerprint(line) for line in lines]
        unique = sorted(set(prints))
        with unavailable("the line counts"):
            n_docs = int(self.client.scard(docs_key))
            counts = dict(zip(unique, self.client.hmget(lines_key, unique), strict=True)) if unique else {}
            threshold = max(min_docs, share * n_docs)
            repeated = [int(counts.get(p) or 0) >= threshold for p in prints]
            if self.client.sadd(docs_key, doc_key):
                pipe = self.client.pipeline(transaction=False)
                for p in unique:
                    pipe.hincrby(lines_key, p, 1)
                pipe.execute()
        return repeated

    def documents(self, outlet: str) -> int:
        with unavailable("the line counts"):
            return int(self.client.scard(self._keys(outlet)[0]))
