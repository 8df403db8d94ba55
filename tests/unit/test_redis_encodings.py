"""The compact forms the Redis stores keep their values in: each gives back exactly what
the plain form did (pure; no Redis)."""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.redis.retention import arrival_doc, arrival_members, arrival_name
from pipeline.redis.story_store import (
    _edge_score,
    _edge_value,
    _pack_features,
    _pack_placed,
    _unpack_features,
    _unpack_placed,
)
from pipeline.stories.features import StoryFeatures, story_features
from tests.factories import make_document
from tests.unit.test_stories import RAHMAN_2_DOC, RAHMAN_DOC


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


def _seed_features() -> list[StoryFeatures]:
    """Features of real articles (the seeds' text) and of one with entities."""
    seeds = sorted((Path(__file__).resolve().parents[2] / "seeds" / "documents").glob("*.txt"))
    docs = [make_document(raw_text=p.read_text(), text=p.read_text(), published="2024-05-01") for p in seeds]
    return [story_features(d) for d in (*docs, RAHMAN_DOC, RAHMAN_2_DOC)]


def test_packed_features_read_back_exactly_and_in_order() -> None:
    for f in _seed_features():
        raw = _pack_features(f.to_dict())
        assert raw[:1] == b"\x02"  # counts, not weights
        back = _unpack_features(raw, f.id)
        assert StoryFeatures.from_dict(back) == f
        for field in ("terms", "lede", "names"):  # the order too: sums run in it
            assert list(back[field].items()) == list(getattr(f, field).items())


def test_features_without_their_norms_are_packed_with_their_weights_and_read_back() -> None:
    for f in _seed_features():
        earlier = replace(f, norms=())  # as an earlier version computed them
        raw = _pack_features(earlier.to_dict())
        assert raw[:1] == b"\x01"
        assert StoryFeatures.from_dict(_unpack_features(raw, f.id)) == earlier


def test_a_weight_no_count_gives_keeps_the_features_in_the_first_form() -> None:
    f = _seed_features()[0]
    word, weight = next(iter(f.terms.items()))
    odd = replace(f, terms={**f.terms, word: round(weight + 0.00003, 5)})
    raw = _pack_features(odd.to_dict())
    assert raw[:1] == b"\x01"
    assert StoryFeatures.from_dict(_unpack_features(raw, f.id)) == replace(odd, norms=())


def test_counts_and_derived_keys_take_a_fifth_less_than_weights() -> None:
    features = _seed_features()
    counted = sum(len(_pack_features(f.to_dict())) for f in features)
    weighed = sum(len(_pack_features(replace(f, norms=()).to_dict())) for f in features)
    assert counted < 0.8 * weighed


def test_packed_features_are_smaller_than_compressed_json() -> None:
    features = _seed_features()
    packed = sum(len(_pack_features(f.to_dict())) for f in features)
    compressed = sum(
        len(zlib.compress(json.dumps(f.to_dict(), separators=(",", ":")).encode(), 6)) for f in features
    )
    assert packed < 0.9 * compressed


def test_features_kept_as_json_or_compressed_json_are_still_read() -> None:
    f = _seed_features()[0]
    plain = json.dumps(f.to_dict()).encode()
    assert StoryFeatures.from_dict(_unpack_features(plain, f.id)) == f
    assert StoryFeatures.from_dict(_unpack_features(zlib.compress(plain), f.id)) == f


def test_features_the_packed_form_cannot_give_back_exactly_stay_compressed_json() -> None:
    f = _seed_features()[0]
    finer = {**f.to_dict(), "terms": {**f.terms, "mannheim": 0.1234567}}
    raw = _pack_features(finer)
    assert raw[:1] == b"\x78"  # zlib's header, not the packed form's marker
    assert _unpack_features(raw, f.id) == finer


HEX = [f"{i:032x}" for i in (1, 2, 0xABCDEF, 2**128 - 1)]


@pytest.mark.parametrize(
    ("moved", "changed"),
    [([], []), ([], ["s-" + HEX[0]]), (HEX[1:3], ["s-" + HEX[3], "s-" + HEX[0]]), (HEX * 100, [])],
)
def test_what_a_placement_changed_packs_each_id_in_16_bytes(moved: list[str], changed: list[str]) -> None:
    raw = _pack_placed(moved, changed)
    assert len(raw) == 3 + 16 * (len(moved) + len(changed))
    assert _unpack_placed(raw) == (moved, changed)


@pytest.mark.parametrize(
    ("moved", "changed"),
    [(["a", "b"], ["s-a"]), ([HEX[0]], ["story-1"]), ([HEX[2].upper()], []), ([], ["s-" + HEX[0] + "0"])],
)
def test_ids_of_another_form_are_kept_as_a_json_list(moved: list[str], changed: list[str]) -> None:
    raw = _pack_placed(moved, changed)
    assert json.loads(raw) == [moved, changed]
    assert _unpack_placed(raw) == (moved, changed)


@pytest.mark.parametrize(
    ("doc_id", "size"),
    [
        ("0123456789abcdef0123456789abcdef", 17),  # a content id: a zero byte and 16 bytes
        ("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 32),  # not as content_id writes it: as it is
        ("doc-a", 5),
        ("x" * 32, 32),
        ("é-doc", 6),
    ],
)
def test_an_arrival_name_reads_back_as_its_id(doc_id: str, size: int) -> None:
    name = arrival_name(doc_id)
    assert len(name) == size
    assert arrival_doc(name) == doc_id


def test_an_id_an_earlier_version_wrote_in_an_arrival_set_reads_as_it_is() -> None:
    assert arrival_doc(b"0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"
    assert arrival_members("0123456789abcdef0123456789abcdef") == (
        b"\x00" + bytes.fromhex("0123456789abcdef0123456789abcdef"),
        b"0123456789abcdef0123456789abcdef",
    )
    assert arrival_members("doc-a") == (b"doc-a",)
