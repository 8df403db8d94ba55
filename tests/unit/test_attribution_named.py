"""A thing, a time or a remark is no speaker: the one the sentence names is (issue 19.3).

pipeline/claims/attribution/named.py with the real parser, on the rules' candidates alone
(select=rules_only), so the shipped model's choices do not hide what the repair does.
"""

from __future__ import annotations

from typing import Any

from pipeline.claims.attribution import find_attributions, rules_only


def speakers(nlp: Any, text: str) -> list[tuple[str, str]]:
    found, _ = find_attributions(text, nlp, select=rules_only)
    return [(a.speaker, text[a.start : a.end]) for a in found]


def test_a_relative_clause_hung_on_a_time_phrase_gives_way_to_the_named_author(nlp: Any) -> None:
    # the parse hangs "that called for" on "year": the relative pronoun resolved to "this year"
    text = (
        "It comes after Keith Kellogg, a former general recently named by Mr Trump as his special "
        "envoy, co-authored a paper earlier this year that called for putting off NATO membership "
        "for Ukraine “for an extended period”."
    )
    found = speakers(nlp, text)
    assert found
    assert [s for s, content in found if "putting off NATO membership" in content] == ["Keith Kellogg"]


def test_a_remark_inside_anothers_claim_is_no_speaker(nlp: Any) -> None:
    text = (
        "A US-based thinktank has said comments from inside Russia suggest Mr Putin will not "
        "engage in anything “that results in anything less than total Ukrainian capitulation”."
    )
    assert [s for s, _ in speakers(nlp, text)] == ["A US-based thinktank"]


def test_it_gives_way_to_the_subject_named_the_sentence_before(nlp: Any) -> None:
    text = (
        "It is not ruled out that Trump might try to bring Ukraine and Russia to the table. "
        "He could threaten to cut military aid to Ukraine if it refuses to cooperate, or threaten "
        "President Vladimir Putin with more sanctions."
    )
    found = speakers(nlp, text)
    assert found
    assert all(s.lower() != "it" for s, _ in found)


def test_a_person_stays_the_speaker(nlp: Any) -> None:
    text = "Mr Rutte said this year would decide the war."
    assert speakers(nlp, text) == [("Mr Rutte", "this year would decide the war")]
