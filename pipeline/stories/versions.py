"""Near duplicates and versions: shingles, MinHash, and which copy search shows (pure).

A near duplicate is a text whose word 5-shingles overlap another's by at least
`NEAR_DUPLICATE` (Jaccard, estimated with a 128-permutation MinHash): a syndicated
copy, a small edit, an updated version. Among a group of near duplicates one copy is
shown in search and the others point at it with `duplicate_of`:

* the original outlet is the outlet of the earliest copy (by published date, else
  arrival time, then id);
* the copy shown is that outlet's newest version: an update replaces the older text,
  while another outlet's syndicated copy points at the original outlet's article.

Everything here depends only on the group, never on which copy arrived first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash

NUM_PERM = 128
SHINGLE = 5
NEAR_DUPLICATE = 0.8  # estimated Jaccard of word 5-shingles
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Version:
    """What the version choice needs to know about one copy."""

    id: str
    outlet: str = ""
    published: str = ""  # ISO date or datetime; "" when unknown
    received_at: str = ""

    @property
    def when(self) -> str:
        return self.published or self.received_at


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Word `size`-grams of the lower-cased text (the whole text when shorter)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) <= size:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + size]).encode() for i in range(len(words) - size + 1)}


def minhash(text: str) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=1)
    m.update_batch(list(shingles(text)))
    return m


def similarity(a: MinHash, b: MinHash) -> float:
    return round(float(a.jaccard(b)), 3)


def choose_shown(group: Sequence[Version]) -> str:
    """The id of the copy search shows for a group of near duplicates."""
    ordered = sorted(group, key=lambda v: (v.when, v.id))
    original_outlet = ordered[0].outlet
    same_outlet = [v for v in ordered if v.outlet == original_outlet or not v.outlet or not original_outlet]
    return same_outlet[-1].id


def resolve(group: Sequence[Version]) -> dict[str, str]:
    """id -> the id it duplicates ("" for the copy shown)."""
    shown = choose_shown(group)
    return {v.id: ("" if v.id == shown else shown) for v in group}


def older_versions(group: Sequence[Version], shown: str) -> tuple[str, ...]:
    """The ids of the other copies, oldest first: the shown document's `versions`."""
    return tuple(v.id for v in sorted(group, key=lambda v: (v.when, v.id)) if v.id != shown)
