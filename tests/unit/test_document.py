"""The Document record: ids from content, lossless serialisation, offsets back to the input."""

from __future__ import annotations

import json

import pytest

from pipeline.document import Document, Figure, Note, Step, content_id
from tests.factories import make_claim, make_document, make_entity


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Mark Rutte said.", "Mark   Rutte\nsaid."),  # whitespace
        ("NATO chief", "nato CHIEF"),  # case
        ("ﬁnance", "finance"),  # NFKC ligature
    ],
)
def test_same_normalised_content_has_the_same_id(a: str, b: str) -> None:
    assert content_id(a) == content_id(b)


def test_different_content_has_a_different_id() -> None:
    assert content_id("Rutte said 20.") != content_id("Rutte said 19.")


def test_a_fully_enriched_document_survives_a_trip_through_json() -> None:
    doc = make_document(
        text="Rutte said peace.",
        entities=(make_entity(variants=("Mr Rutte", "Rutte"), count=2, start=0, end=5),),
        claims=(make_claim(speaker="Rutte", figures=(Figure(text="20 systems", value=20.0),)),),
        notes=(Note(stage="extract_claims", error="ValueError"),),
        history=(Step(stage="clean_boilerplate", ms=1.5),),
        text_map=((0, 10, 17),),
        extra={"k": [1, 2]},
    )
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert again == doc


def test_unknown_keys_are_ignored_when_reading_old_or_newer_records() -> None:
    data = make_document().to_dict() | {"field_from_the_future": 1}
    assert Document.from_dict(data).id == make_document().id


@pytest.mark.parametrize(("clean_offset", "raw_offset"), [(0, 100), (4, 104), (12, 300), (30, None)])
def test_offsets_in_the_cleaned_text_map_back_to_the_input(clean_offset: int, raw_offset: int | None) -> None:
    doc = make_document(text_map=((0, 100, 10), (12, 300, 8)))
    assert doc.raw_offset(clean_offset) == raw_offset


def test_flat_entity_views_group_labels_for_facets() -> None:
    doc = make_document(
        entities=(
            make_entity("Mark Rutte", "PERSON"),
            make_entity("NATO", "ORG"),
            make_entity("Kyiv", "GPE"),
        )
    )
    assert (doc.people, doc.organisations, doc.places) == (["Mark Rutte"], ["NATO"], ["Kyiv"])
