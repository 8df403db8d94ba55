"""The learned choice among candidate attributions (pipeline/claims/attribution/model.py)."""

from __future__ import annotations

from pipeline.claims.attribution.model import MODEL_PATH, Model, load_model, select_scored
from pipeline.claims.attribution.types import Attribution

MODEL = Model(weights={}, bias=0.0, threshold=0.6, rule_threshold=0.4)


def cand(start: int, end: int, cue: int, source: str = "broad", speaker: str = "X") -> Attribution:
    return Attribution(
        spans=((start, end),),
        kind="reported",
        speaker=speaker,
        speaker_start=0,
        speaker_end=1,
        speaker_type="name",
        cue="said",
        cue_start=cue,
        sentence=0,
        source=source,
    )


def test_the_shipped_model_is_read_once_and_has_its_thresholds() -> None:
    assert MODEL_PATH.exists()
    model = load_model()
    assert model is not None
    assert model is load_model()
    assert 0.0 < model.threshold <= 1.0
    assert 0.0 <= model.rule_threshold <= 1.0
    assert {"quote", "labelled", "speech"} <= model.always
    # features are strings of the shapes features() writes ("lemma=say", "src=broad&lex=speech")
    assert model.weights
    assert all("=" in name or name in ("neg", "modal") for name in model.weights)


def test_each_source_has_its_threshold() -> None:
    kept = select_scored(
        [
            (0.5, cand(0, 10, 100, "broad")),  # under the broad threshold
            (0.5, cand(20, 30, 101, "reported")),  # over the rules' threshold
            (0.1, cand(40, 50, 102, "quote")),  # the quotation rules are always kept
            (0.1, cand(60, 70, 103, "speech")),
        ],
        MODEL,
    )
    assert sorted(a.cue_start for a in kept) == [101, 102, 103]


def test_one_attribution_per_cue_and_per_content() -> None:
    kept = select_scored(
        [
            (0.7, cand(0, 40, 50, "broad")),
            (0.9, cand(0, 30, 50, "broad")),  # the same cue: the more probable one
            (0.8, cand(5, 40, 60, "broad")),  # most of a kept content, another cue outside it
        ],
        MODEL,
    )
    assert [(a.start, a.end) for a in kept] == [(0, 30)]


def test_a_rule_comes_before_the_broad_search_on_one_cue() -> None:
    kept = select_scored([(0.95, cand(0, 40, 50, "broad")), (0.5, cand(0, 30, 50, "reported"))], MODEL)
    assert [a.source for a in kept] == ["reported"]


def test_an_attribution_inside_anothers_content_stays() -> None:
    # "X said Y had warned that the front was collapsing": Y's cue is inside X's content
    outer = cand(10, 60, 5, "speech", "X")
    inner = cand(30, 60, 22, "reported", "Y")
    kept = select_scored([(1.0, outer), (0.9, inner)], MODEL)
    assert kept == [outer, inner]


def test_a_speech_threshold_drops_reported_speech_except_inside_another_claim() -> None:
    model = Model(weights={}, bias=0.0, threshold=0.6, rule_threshold=0.4, speech_threshold=0.5)
    outer = cand(10, 60, 5, "speech", "X")
    inner = cand(30, 60, 22, "speech", "Y")  # under the threshold, inside X's content: kept
    alone = cand(70, 90, 65, "speech", "Z")  # under the threshold on its own: dropped
    kept = select_scored([(0.9, outer), (0.3, inner), (0.3, alone)], model)
    assert kept == [outer, inner]
    assert select_scored([(0.3, alone)], MODEL) == [alone]  # no speech threshold: always kept
