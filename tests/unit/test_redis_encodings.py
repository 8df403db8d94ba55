"""The compact forms the Redis stores keep their values in: each gives back exactly what
the plain form did (pure; no Redis)."""

from __future__ import annotations

import random

import pytest

from pipeline.redis.story_store import _edge_score, _edge_value


def test_an_edge_score_in_millionths_reads_back_as_the_score_written_with_its_point() -> None:
    rng = random.Random(5)
    scores = [rng.uniform(0.3, 2.0) for _ in range(20_000)] + [0.3, 1.0, 0.1234565, 0.9999995, 1.5]
    for score in scores:
        value = _edge_value(score)
        assert value.isdigit()
        assert not value.startswith("0")
        assert _edge_score(value.encode()) == float(f"{score:.6f}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"0.642243", 0.642243), (b"642243", 0.642243), (b"1.000000", 1.0), (b"1000000", 1.0), (b"300000", 0.3)],
)
def test_an_edge_score_is_read_in_either_form(raw: bytes, expected: float) -> None:
    assert _edge_score(raw) == expected
