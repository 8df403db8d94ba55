"""The learned cut of a cue's content (pipeline/claims/attribution/span_model.py)."""

from __future__ import annotations

import itertools
from typing import Any

from pipeline.claims.attribution.span_model import (
    SPAN_MODEL_PATH,
    TAGS,
    SpanModel,
    load_span_model,
    pieces,
)

TOY = SpanModel(
    state={"a": (0.0, 2.0, 0.5), "b": (1.0, 0.0, 1.5), "c": (1.2, -1.0, 0.8)},
    trans=((0.5, 0.0, -3.0), (0.0, -2.0, 1.0), (0.2, 0.0, 0.7)),
)


def test_the_shipped_model_is_read_once_and_holds_no_text() -> None:
    assert SPAN_MODEL_PATH.exists()
    model = load_span_model()
    assert model is not None
    assert model is load_span_model()
    assert len(model.trans) == len(TAGS)
    assert all(len(row) == len(TAGS) for row in model.trans)
    # features are the shapes sequence_features writes: a name, then "=" or "|", or a flag
    flags = {"b", "subj", "start", "end", "sstart", "send"}
    assert all("=" in f or "|" in f or f in flags for f in model.state)
    assert model.margin > 0


def test_viterbi_finds_the_best_tags() -> None:
    feats: list[list[str]] = [["a"], ["b", "c"], ["c"], ["a", "b"], ["b"]]
    best = max(itertools.product(TAGS, repeat=len(feats)), key=lambda tags: TOY.score(feats, tags))
    assert TOY.tag(feats) == list(best)


def test_pieces_are_runs_opened_by_b_or_a_stray_i() -> None:
    assert pieces(["O", "B", "I", "I", "O", "B", "B", "I"]) == [(1, 4), (5, 6), (6, 8)]
    assert pieces(["I", "I", "O"]) == [(0, 2)]
    assert pieces(["O", "O"]) == []


def test_a_recut_keeps_speaker_and_cue_and_leaves_quotations_alone(nlp: Any) -> None:
    from pipeline.claims.attribution import find_attributions

    text = (
        "The senator said on Tuesday that the bill, which passed the House last week, "
        "would raise taxes on the middle class.\n\n"
        '"We will fight it," she said.'
    )
    plain, _ = find_attributions(text, nlp, recut=False)
    cut, _ = find_attributions(text, nlp)
    assert [(a.speaker, a.cue, a.cue_start) for a in cut] == [(a.speaker, a.cue, a.cue_start) for a in plain]
    assert [a for a in cut if a.source == "quote"] == [a for a in plain if a.source == "quote"]
    assert any(a.source == "quote" for a in cut)
