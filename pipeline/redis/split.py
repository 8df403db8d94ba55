"""Redis collections split over small ones, so that Redis keeps each in its compact form.

Redis keeps a hash of at most 128 fields of at most 64 bytes, and a sorted set of at most
128 members, as a listpack: some 20-30 bytes an entry of a few dozen bytes, where the
hash table or skiplist a bigger one becomes takes some 70-120 (and a sorted set once past
the limit stays a skiplist). A collection with one entry per document of the window
would be past it from the 129th document: split over SHARDS parts, `<key>:<xx>`, by a
byte of a hash of the entry's name, each part stays a listpack up to some 30,000 entries
(256 x 128; the near-duplicate index's buckets are split so too), and beyond, its parts
become what the one collection was. (`retention.Arrivals` splits the arrival sets so.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, TypeVar

T = TypeVar("T")

SHARDS = 256


def part_of(name: bytes) -> int:
    """The part an entry named `name` is kept in."""
    return hashlib.blake2b(name, digest_size=1).digest()[0]


def parts(key: str, n: int = SHARDS) -> list[str]:
    """The keys of the `n` parts (a divisor of SHARDS) of the collection `key`, in order:
    an entry named `name` is in part `part_of(name) % n`."""
    return [f"{key}:{i:02x}" for i in range(n)]


def grouped(items: Iterable[tuple[str, T]]) -> list[tuple[str, list[T]]]:
    """(key, item) pairs gathered by key, in the keys' order: one command a part."""
    out: dict[str, list[T]] = {}
    for key, item in items:
        out.setdefault(key, []).append(item)
    return sorted(out.items())


def _name(field: bytes | str) -> bytes:
    return field if isinstance(field, bytes) else field.encode("utf-8")


class SplitHash:
    """One hash kept as SHARDS hashes (`parts`). The one hash versions before kept,
    `<key>`, is still read (a field counts there while its part has none of it) and
    emptied (`hdel`)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._parts = parts(key)

    def part(self, field: bytes | str) -> str:
        """The key of the part that keeps `field`."""
        return self._parts[part_of(_name(field))]

    def hset(self, pipe: Any, mapping: dict[Any, Any]) -> None:
        """Queue on `pipe`: set these fields."""
        for key, pairs in grouped((self.part(field), (field, value)) for field, value in mapping.items()):
            pipe.hset(key, mapping=dict(pairs))

    def hdel(self, pipe: Any, fields: list[Any]) -> None:
        """Queue on `pipe`: delete these fields (from the hash of versions before too)."""
        if not fields:
            return
        for key, found in grouped((self.part(field), field) for field in dict.fromkeys(fields)):
            pipe.hdel(key, *found)
        pipe.hdel(self.key, *dict.fromkeys(fields))

    def hmget(self, client: Any, fields: list[Any]) -> list[Any]:
        """Each field's value (None for none), in order."""
        if not fields:
            return []
        pipe = client.pipeline(transaction=False)
        for field in fields:
            pipe.hget(self.part(field), field)
        pipe.hmget(self.key, fields)
        *found, older = pipe.execute()
        return [new if new is not None else old for new, old in zip(found, older, strict=True)]

    def hgetall(self, client: Any) -> dict[Any, Any]:
        """Every field and its value."""
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(self.key)
        for key in self._parts:
            pipe.hgetall(key)
        out: dict[Any, Any] = {}
        for found in pipe.execute():
            out.update(found)
        return out
