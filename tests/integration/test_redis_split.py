"""A hash split over small ones (pipeline/redis/split.py) reads and writes as one hash,
and stays in Redis's compact form where one hash of as many fields would not (against a
real private Redis)."""

from __future__ import annotations

import pytest
import redis

from pipeline.redis.split import SHARDS, SplitHash

pytestmark = pytest.mark.integration


def test_a_split_hash_reads_as_one_and_each_part_stays_a_listpack(client: redis.Redis) -> None:
    fields = {bytes([0]) + n.to_bytes(16, "big"): f"{n} s-{n:032x}"[:21] for n in range(3000)}
    split = SplitHash("t:split")
    pipe = client.pipeline()
    split.hset(pipe, fields)
    pipe.execute()
    client.hset("t:one", mapping=fields)  # as one hash: a hash table past 128 fields
    parts = [k for k in client.scan_iter(match="t:split:*")]
    assert len(parts) == SHARDS
    assert {client.object("encoding", k) for k in parts} == {b"listpack"}
    assert client.object("encoding", "t:one") == b"hashtable"
    size = sum(int(client.memory_usage(k, samples=0) or 0) for k in parts)
    assert size < 0.7 * int(client.memory_usage("t:one", samples=0) or 0)
    some = [*list(fields)[:50], b"missing"]
    assert split.hmget(client, some) == [*(fields[f].encode() for f in some[:-1]), None]
    assert split.hgetall(client) == {f: v.encode() for f, v in fields.items()}


def test_the_one_hash_versions_before_kept_is_read_under_the_split_and_emptied(client: redis.Redis) -> None:
    split = SplitHash("t:h")
    client.hset("t:h", mapping={"old": "1", "both": "old"})  # as versions before wrote it
    pipe = client.pipeline()
    split.hset(pipe, {"both": "new", "new": "2"})
    pipe.execute()
    assert split.hmget(client, ["old", "both", "new"]) == [b"1", b"new", b"2"]
    assert split.hgetall(client) == {b"old": b"1", b"both": b"new", b"new": b"2"}
    pipe = client.pipeline()
    split.hdel(pipe, ["old", "both", "new"])
    pipe.execute()
    assert split.hgetall(client) == {}
    assert not client.exists("t:h")
