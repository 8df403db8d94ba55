"""Per-outlet line counts keep each line as 8 bytes, and still count the hex fields versions
before wrote (a private real Redis)."""

from __future__ import annotations

import hashlib
import re

import pytest
import redis

from pipeline.redis.line_stats import LineStats
from pipeline.redis.retention import DAY_S, Retention
from tests.conftest import Clock

pytestmark = pytest.mark.integration

LINES = ["Council debates budget", "Support our journalism: subscribe today.", "The vote is on Friday."]


def _fingerprint_as_before(line: str) -> str:
    """A line's field as versions before wrote it: 16 hex digits."""
    words = " ".join(re.findall(r"\w+", line.lower()))
    return hashlib.blake2b(words.encode(), digest_size=8).hexdigest()


def test_lines_are_counted_as_8_bytes_and_hex_counts_still_count(client: redis.Redis, clock: Clock) -> None:
    stats = LineStats(client, prefix="lf", retention=Retention(window_s=30 * DAY_S, clock=clock))
    period = int(clock.now // (30 * DAY_S))
    docs, lines = f"lf:example.org:docs:{period}", f"lf:example.org:lines:{period}"
    footer = LINES[1]
    # Two documents counted by a version before, in this period: the footer in both.
    client.sadd(docs, "d1", "d2")
    client.hincrby(lines, _fingerprint_as_before(footer), 2)
    first = stats.observe("example.org", "d3", LINES, share=0.5, min_docs=3)
    assert first == [False, False, False]  # 2 documents had it: not yet 3
    assert set(client.hkeys(lines)) == {_fingerprint_as_before(footer).encode()} | {
        bytes.fromhex(_fingerprint_as_before(line)) for line in LINES
    }  # this document's lines as 8 bytes, beside the hex field
    second = stats.observe("example.org", "d4", LINES, share=0.5, min_docs=3)
    assert second == [False, True, False]  # 2 (hex) + 1: three of three documents
