"""Codes for the common words of a claim's record (pipeline/redis/claim_words.py)."""

from __future__ import annotations

import pytest

from pipeline.claims.grouping import ClaimRef, pack_units, units_of
from pipeline.redis.claim_words import MARKER, WORDS, decode, encode

TEXT = "Ukraine needed another 20 air defence systems for its grid, the minister said on Monday"


def test_a_claims_clauses_come_back_word_for_word() -> None:
    clauses = pack_units(units_of(ClaimRef(key="d:0-1", doc_id="d", speaker="x", text=TEXT)))
    coded = encode(clauses)
    assert decode(coded) == clauses
    assert all(c.startswith(MARKER) for c in coded)
    assert sum(map(len, coded)) < sum(map(len, clauses)) * 0.6


@pytest.mark.parametrize(
    "clause",
    [
        "",  # a clause with no content word
        "zelenskiy zaporizhzhia",  # no word of the table: as it was
        "=grid minist ukrain zelenskiy",  # the whole text's words, marked, with one not in the table
        "air defens grid",  # as records before codes held it: plain words are read as they are
    ],
)
def test_clauses_of_every_kind_round_trip(clause: str) -> None:
    assert decode(encode([clause])) == [clause]
    assert decode([clause]) == [clause]


def test_every_word_of_the_table_has_its_own_code() -> None:
    assert len(set(WORDS)) == len(WORDS) == 10_072
    everything = " ".join(sorted(WORDS))
    (coded,) = encode([everything])
    assert " " not in coded  # every one coded
    assert decode([coded]) == [everything]
    assert len(coded) == 1 + 2 * 3072 + 3 * 7000
