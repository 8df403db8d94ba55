"""Who said what, in the usual shapes (pipeline/stages/claims.py with the real parser).

Uses the configured spaCy model (a dependency parse is the point of the stage);
entities are given, as the entity stage would give them.
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.claims.speakers import ministry_name
from pipeline.stages.claims import extract_claims
from tests.factories import make_document, make_entity

RUTTE = make_entity("Mark Rutte", variants=("Mark Rutte", "Rutte", "Mr Rutte"))
SYBIHA = make_entity("Andrii Sybiha", variants=("Andrii Sybiha", "Sybiha", "Andriy Sibiga", "Sibiga"))
XI = make_entity("Xi Jinping", variants=("Xi Jinping",))
STARMER = make_entity("Keir Starmer", variants=("Sir Keir Starmer", "Sir Keir"))
ENTITIES = (RUTTE, SYBIHA, XI, STARMER)


def claims_of(nlp: Any, text: str) -> list[tuple[str, str, str, str]]:
    doc = extract_claims(make_document(text, text=text, entities=ENTITIES), nlp=nlp)
    return [(c.kind, c.speaker, c.speaker_canonical, c.text) for c in doc.claims if c.kind != "statement"]


@pytest.mark.parametrize(
    ("text", "kind", "speaker", "canonical", "content"),
    [
        (
            "“We all need to do more,” Mr Rutte said.",
            "direct",
            "Mr Rutte",
            "Mark Rutte",
            "We all need to do more,",
        ),
        (
            "Mr Rutte said: “We all need to do more.”",
            "direct",
            "Mr Rutte",
            "Mark Rutte",
            "We all need to do more.",
        ),
        (
            "“We need such certainty,” said Ukrainian Foreign Minister Andriy Sibiga.",
            "direct",
            "Ukrainian Foreign Minister Andriy Sibiga",
            "Andrii Sybiha",
            "We need such certainty,",
        ),
        (
            "Sibiga said that Ukraine needs at least 19 additional air defense systems.",
            "reported",
            "Sibiga",
            "Andrii Sybiha",
            "that Ukraine needs at least 19 additional air defense systems",
        ),
        (
            "Mark Rutte has warned that Russia is not interested in peace.",
            "reported",
            "Mark Rutte",
            "Mark Rutte",
            "that Russia is not interested in peace",
        ),
        (
            "According to Mr Rutte, the alliance must send more air defence to Ukraine.",
            "reported",
            "Mr Rutte",
            "Mark Rutte",
            "the alliance must send more air defence to Ukraine",
        ),
        (
            "“Not providing guarantees was a strategic mistake,” Kyiv’s foreign ministry said.",
            "direct",
            "Kyiv’s foreign ministry",
            "Ukrainian foreign ministry",
            "Not providing guarantees was a strategic mistake,",
        ),
    ],
)
def test_one_claim(nlp: Any, text: str, kind: str, speaker: str, canonical: str, content: str) -> None:
    assert claims_of(nlp, text) == [(kind, speaker, canonical, content)]


@pytest.mark.parametrize(
    ("text", "speaker", "cue", "content"),
    [
        # a cue set off by commas inside the sentence: the content is both sides of it
        (
            "Russia is running out of shells, Mr Rutte said, and its gains have stalled.",
            "Mr Rutte",
            "said",
            "Russia is running out of shells and its gains have stalled",
        ),
        # cues that take an object or an infinitive rather than a clause
        (
            "Mr Rutte called for more air defence for Ukraine on Tuesday.",
            "Mr Rutte",
            "called for",
            "more air defence for Ukraine",
        ),
        (
            "Mr Rutte urged allies to send more air defence.",
            "Mr Rutte",
            "urged",
            "allies to send more air defence",
        ),
        # "on" is part of "called on", not of "said on Tuesday"
        (
            "Mr Rutte called on allies to send more air defence.",
            "Mr Rutte",
            "called on",
            "allies to send more air defence",
        ),
        (
            "Mr Rutte said on Tuesday that the alliance would hold.",
            "Mr Rutte",
            "said",
            "that the alliance would hold",
        ),
        # "added" reports a clause when one follows
        (
            "Mr Rutte added that the alliance would not be divided.",
            "Mr Rutte",
            "added",
            "that the alliance would not be divided",
        ),
        # a verb outside the cue list, with a speaker and a that-clause
        (
            "Mr Rutte stipulated that every member must spend two percent.",
            "Mr Rutte",
            "stipulated",
            "that every member must spend two percent",
        ),
        # a quoted fragment inside the reported clause does not make a direct quote
        (
            "Mr Rutte said that “a bomb” had gone off near the summit.",
            "Mr Rutte",
            "said",
            "that “a bomb” had gone off near the summit",
        ),
        # the writer's additions are not content: a non-restrictive clause, a second clause after ";"
        (
            "Mr Rutte said the summit would be held in The Hague, which hosted it in 1907.",
            "Mr Rutte",
            "said",
            "the summit would be held in The Hague",
        ),
        (
            "Mr Rutte said the allies had agreed; the details would follow later.",
            "Mr Rutte",
            "said",
            "the allies had agreed",
        ),
        # a speech noun with its owner and its clause
        (
            "Mr Rutte's warning that Russia could attack within five years went unheeded.",
            "Mr Rutte",
            "warning",
            "that Russia could attack within five years",
        ),
        # a dateline opening the paragraph is not the speaker
        (
            "BRUSSELS -- Mr Rutte, opening the summit on Tuesday, said the alliance would hold.",
            "Mr Rutte",
            "said",
            "the alliance would hold",
        ),
        # a headline in the "Speaker: what they said" style
        ("Rutte: NATO must spend more on defence", "Rutte", ":", "NATO must spend more on defence"),
    ],
)
def test_reported_shapes(nlp: Any, text: str, speaker: str, cue: str, content: str) -> None:
    doc = extract_claims(make_document(text, text=text, entities=ENTITIES), nlp=nlp)
    claims = [(c.speaker, c.cue, c.text) for c in doc.claims if c.kind == "reported"]
    assert claims == [(speaker, cue, content)]


def test_transcript_labels_are_speakers(nlp: Any) -> None:
    text = "RUTTE: We will stand with Ukraine.\n\nHOST: And the money?\n\nRUTTE: It will come."
    claims = [(c.kind, c.speaker_canonical, c.text) for c in claims_of_doc(nlp, text)]
    assert claims == [
        ("direct", "Mark Rutte", "We will stand with Ukraine."),
        ("direct", "Mark Rutte", "It will come."),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "NEW DELHI: India will buy more oil from Russia.",  # a dateline is not a speaker
        "Update: India will buy more oil from Russia.",
        "Mr Rutte was called a warmonger by Russian state media.",  # said about him, not by him
    ],
)
def test_not_spoken_by_the_name_in_front(nlp: Any, text: str) -> None:
    assert [c for c in claims_of_doc(nlp, text) if c.speaker_canonical == "Mark Rutte" or c.cue == ":"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an attribution inside another one's content is a claim of its own
        (
            "Mr Rutte said Sibiga had warned that the front was collapsing.",
            [
                ("Mark Rutte", "Sibiga had warned that the front was collapsing"),
                ("Andrii Sybiha", "that the front was collapsing"),
            ],
        ),
        (
            "Kyiv has said it will not cede territory, according to Mr Rutte.",
            [
                ("Mark Rutte", "Kyiv has said it will not cede territory"),
                ("Kyiv", "it will not cede territory"),
            ],
        ),
    ],
)
def test_nested_attributions(nlp: Any, text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted((c.speaker_canonical, c.text) for c in claims_of_doc(nlp, text)) == sorted(expected)


def claims_of_doc(nlp: Any, text: str) -> list[Any]:
    doc = extract_claims(make_document(text, text=text, entities=ENTITIES), nlp=nlp)
    return [c for c in doc.claims if c.kind != "statement"]


def test_split_quote_is_one_claim(nlp: Any) -> None:
    text = "“Every time you say that,” Mr Rutte said, “you give ammunition to the other side.”"
    ((kind, _, canonical, content),) = claims_of(nlp, text)
    assert (kind, canonical) == ("direct", "Mark Rutte")
    assert content.endswith("you give ammunition to the other side.")


def test_quote_over_two_paragraphs_is_one_claim(nlp: Any) -> None:
    text = (
        "Mr Rutte said: “Russia’s aggression shows no sign of abating.\n\n"
        "“He is using Ukraine as a testing ground for experimental missiles.”"
    )
    ((_, _, canonical, content),) = claims_of(nlp, text)
    assert canonical == "Mark Rutte"
    assert "abating" in content
    assert "testing ground" in content


def test_he_added_goes_to_the_last_speaker_not_the_last_name(nlp: Any) -> None:
    text = (
        "Mr Rutte said that Chinese President Xi Jinping “might get thoughts about something else”.\n\n"
        "He added: “We cannot have a deal which is not good for Ukraine.”"
    )
    assert [c[2] for c in claims_of(nlp, text)] == ["Mark Rutte", "Mark Rutte"]


def test_a_quote_paragraph_after_a_quote_keeps_its_speaker(nlp: Any) -> None:
    text = (
        "“Ukraine is entering another crucial winter,” Mr Rutte said in Brussels.\n\n"
        "“Putin is not interested in peace. He is pressing on, trying to take more territory.”"
    )
    assert [c[2] for c in claims_of(nlp, text)] == ["Mark Rutte", "Mark Rutte"]


def test_a_modified_role_is_not_guessed(nlp: Any) -> None:
    text = (
        "Mark Rutte warned such an agreement would be a threat to Europe.\n\n"
        "The next US President has repeatedly claimed that he would bring peace within 24 hours."
    )
    speakers = [c[2] for c in claims_of(nlp, text)]
    assert speakers[0] == "Mark Rutte"
    assert "Mark Rutte" not in speakers[1:]


def test_scare_quotes_are_part_of_the_reported_clause(nlp: Any) -> None:
    text = (
        "Putin is using Ukraine as a “testing ground for experimental missiles”, "
        "NATO’s secretary general has warned."
    )
    ((kind, speaker, _, content),) = claims_of(nlp, text)
    assert (kind, speaker) == ("reported", "NATO’s secretary general")
    assert content.startswith("Putin is using Ukraine")


def test_outlet_statement_with_an_actor_has_the_actor_as_speaker(nlp: Any) -> None:
    """ "The US announced …" is what the US announced, not the outlet's own statement (issue 19.3)."""
    text = "On Monday, the US announced a new weapons package for Ukraine worth $725m (£570m)."
    doc = extract_claims(make_document(text, text=text), nlp=nlp)
    ((claim),) = doc.claims
    assert (claim.kind, claim.speaker, claim.cue, [f.text for f in claim.figures]) == (
        "reported",
        "the US",
        "announced",
        ["$725m (£570m)"],
    )
    assert claim.text.endswith("(£570m)")


def test_outlet_statement_with_figures_has_no_speaker(nlp: Any) -> None:
    text = "More than half of the military aid comes from the United States, worth more than $61 billion."
    doc = extract_claims(make_document(text, text=text), nlp=nlp)
    ((claim),) = doc.claims
    assert (claim.kind, claim.speaker, [f.text for f in claim.figures]) == (
        "statement",
        "",
        ["more than $61 billion"],
    )


@pytest.mark.parametrize(
    ("phrase", "name"),
    [
        ("Kyiv's foreign ministry", "Ukrainian foreign ministry"),
        ("the Ukrainian Ministry of Foreign Affairs", "Ukrainian foreign ministry"),
        ("Russia’s defence ministry", "Russian defence ministry"),
        ("the ministry", ""),
        ("Atlantis's foreign ministry", ""),
    ],
)
def test_ministries_by_place_and_function(phrase: str, name: str) -> None:
    assert ministry_name(phrase) == name
