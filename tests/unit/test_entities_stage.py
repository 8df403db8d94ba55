"""The entity stage on a blank spaCy pipeline whose entity ruler plays the model's part.

The ruler reproduces what the small English model does on the seeds: "Kyiv" as a
person, a photo credit as a person, a span running over a paragraph break.
"""

from __future__ import annotations

from typing import Any

import pytest
import spacy

from pipeline.document import Document, Entity
from pipeline.stages.entities import extract_entities
from tests.factories import make_document

PATTERNS: list[dict[str, Any]] = (
    [
        {"label": "PERSON", "pattern": name}
        for name in (
            "Mark Rutte",
            "Rutte",
            "Keir Starmer",
            "Keir",
            "Elon Musk's",
            "Musk’s",
            "Kyiv",
            "Kiev",
            "John Thys/Getty Images",
            "Andriy Sibiga",
            "Sibiga",
            "Michael Jordan",
            "Jordan",
        )
    ]
    + [
        {"label": "ORG", "pattern": name}
        for name in (
            "NATO",
            "Nato",
            "The Institute for the Study of War",
            "ISW",
            "the North Atlantic Alliance",
            "New Orleans Saints",
            "Saints",
            "Alliance",
            "Oreshnik",
        )
    ]
    + [{"label": "GPE", "pattern": name} for name in ("Ukraine", "US", "the United States", "New Orleans")]
    + [
        # what the model does at a paragraph break: one span over it
        {"label": "ORG", "pattern": [{"LOWER": "kyiv"}, {"IS_SPACE": True}, {"LOWER": "nato"}]},
    ]
)


@pytest.fixture(scope="module")
def nlp() -> Any:
    model = spacy.blank("en")
    model.add_pipe("entity_ruler").add_patterns(PATTERNS)
    return model


def run(nlp: Any, text: str) -> Document:
    return extract_entities(make_document(text, text=text), nlp=nlp)


def only(doc: Document, canonical: str) -> Entity:
    found = [e for e in doc.entities if e.canonical == canonical]
    assert len(found) == 1, [(e.canonical, e.label) for e in doc.entities]
    return found[0]


@pytest.mark.parametrize(
    ("text", "canonical", "label", "variants", "count"),
    [
        (
            "Mark Rutte spoke.\n\nMr Rutte said more. Then Rutte left.",
            "Mark Rutte",
            "PERSON",
            ("Mark Rutte", "Mr Rutte", "Rutte"),
            3,
        ),
        (
            "Sir Keir Starmer spoke. Later Sir Keir said it was right.",
            "Keir Starmer",
            "PERSON",
            ("Sir Keir Starmer", "Sir Keir"),
            2,
        ),
        # a possessive names the same person, and is not another way of writing the name
        (
            "He sold Elon Musk's shares. Musk’s fund bought them.",
            "Elon Musk",
            "PERSON",
            ("Elon Musk", "Musk"),
            2,
        ),
        (
            "The Institute for the Study of War (ISW) said so. ISW added more.",
            "Institute for the Study of War",
            "ORG",
            ("The Institute for the Study of War", "ISW"),
            3,
        ),
        (
            "Nato met. NATO agreed, as did the North Atlantic Alliance.",
            "NATO",
            "ORG",
            ("Nato", "NATO", "the North Atlantic Alliance"),
            3,
        ),
        ("Strikes on Kyiv went on. Officials in Kiev said so.", "Kyiv", "GPE", ("Kyiv", "Kiev"), 2),
        # "the Alliance" beside NATO is NATO: the last word of a name of NATO the gazetteer knows
        ("NATO ministers met. The Alliance agreed.", "NATO", "ORG", ("NATO", "Alliance"), 2),
        (
            "Aid from the United States came. The US said more.",
            "United States",
            "GPE",
            ("the United States", "US"),
            2,
        ),
        (
            "Foreign Minister Andriy Sibiga spoke. Sibiga said more.",
            "Andrii Sybiha",
            "PERSON",
            ("Andriy Sibiga", "Sibiga"),
            2,
        ),
        (
            "The New Orleans Saints won. The Saints play in New Orleans.",
            "New Orleans Saints",
            "ORG",
            ("New Orleans Saints", "Saints"),
            2,
        ),
    ],
)
def test_one_entity_per_name_with_every_surface_form(
    nlp: Any,
    text: str,
    canonical: str,
    label: str,
    variants: tuple[str, ...],
    count: int,
) -> None:
    entity = only(run(nlp, text), canonical)
    assert entity.label == label
    assert set(entity.variants) == set(variants)
    assert entity.count == count


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Rutte in Brussels. Photograph: John Thys/Getty Images", "John Thys/Getty Images"),
        ("They met in Kyiv\n\nNato ministers agreed.", "Kyiv\n\nNato"),
    ],
)
def test_no_photo_credits_and_no_spans_over_paragraph_breaks(nlp: Any, text: str, absent: str) -> None:
    doc = run(nlp, text)
    assert all(absent not in v for e in doc.entities for v in (e.canonical, *e.variants))
    assert all("\n" not in v for e in doc.entities for v in e.variants)


def test_a_place_is_never_a_person(nlp: Any) -> None:
    doc = run(nlp, "Kyiv said it would not accept that. Kiev agreed.")
    assert [(e.canonical, e.label) for e in doc.entities] == [("Kyiv", "GPE")]


def test_a_surname_that_is_a_place_stays_a_person_beside_the_full_name(nlp: Any) -> None:
    doc = run(nlp, "Michael Jordan scored. Jordan left the court.")
    assert [(e.canonical, e.label, e.count) for e in doc.entities] == [("Michael Jordan", "PERSON", 2)]


def test_offsets_point_at_the_first_mention_in_text_and_raw_input(nlp: Any) -> None:
    raw = "MENU\nMark Rutte spoke in Kyiv.\nRutte left."
    text = "Mark Rutte spoke in Kyiv.\n\nRutte left."
    doc = make_document(raw, text=text, text_map=((0, 5, 25), (27, 31, 11)))
    rutte = only(extract_entities(doc, nlp=nlp), "Mark Rutte")
    assert text[rutte.start : rutte.end] == "Mark Rutte"
    assert rutte.raw_start is not None
    assert raw[rutte.raw_start :].startswith("Mark Rutte")
    assert rutte.count == 2


def test_an_empty_text_has_no_entities(nlp: Any) -> None:
    assert run(nlp, "").entities == ()


def test_a_surname_takes_the_full_name_from_the_title(nlp: Any) -> None:
    doc = make_document("x", title="NATO chief Mark Rutte warns", text="Rutte said Nato must act.")
    entities = extract_entities(doc, nlp=nlp).entities
    people = [(e.canonical, e.variants) for e in entities if e.label == "PERSON"]
    assert people == [("Mark Rutte", ("Rutte",))]


def test_a_nationality_is_not_a_place() -> None:
    model = spacy.blank("en")
    model.add_pipe("entity_ruler").add_patterns([{"label": "GPE", "pattern": "Ukrainian"}])
    doc = extract_entities(make_document("x", text="The Ukrainian minister spoke."), nlp=model)
    assert [(e.canonical, e.label) for e in doc.entities] == [("Ukrainian", "NORP")]


def test_an_alliance_the_document_does_not_name_stays_itself(nlp: Any) -> None:
    doc = run(nlp, "The Alliance for Peace met. The Alliance agreed.")
    assert "NATO" not in [e.canonical for e in doc.entities]


def test_a_word_in_quotation_marks_is_not_an_organisation(nlp: Any) -> None:
    doc = run(nlp, "He meant a new ballistic weapon, nicknamed “Oreshnik”, fired at Dnipro. NATO said so.")
    assert [e.canonical for e in doc.entities] == ["NATO"]
