"""A document written under a name the registry has since improved, renamed (pure)."""

from __future__ import annotations

from pipeline.document import Mention
from pipeline.entities.rename import renamed
from tests.factories import make_claim, make_document, make_entity


def mention(surface: str, start: int) -> Mention:
    return Mention(surface=surface, start=start, end=start + len(surface))


def test_the_entity_and_its_claims_take_the_name_now() -> None:
    doc = make_document(
        entities=(
            make_entity(
                "Sibiga",
                variants=("Sibiga",),
                count=2,
                start=4,
                mentions=(mention("Sibiga", 4), mention("Sibiga", 40)),
            ),
            make_entity("Kyiv", "GPE"),
        ),
        claims=(
            make_claim("we need certainty", speaker="Sibiga", speaker_canonical="Sibiga"),
            make_claim("ready", speaker="Kyiv", speaker_canonical="Kyiv"),
        ),
    )
    out = renamed(doc, {"person:Sibiga": "Andrii Sybiha"})
    assert [e.canonical for e in out.entities] == ["Andrii Sybiha", "Kyiv"]
    assert out.entities[0].variants == ("Sibiga",)  # as the article wrote it
    assert out.entities[0].mentions == doc.entities[0].mentions
    assert [c.speaker_canonical for c in out.claims] == ["Andrii Sybiha", "Kyiv"]
    assert [c.speaker for c in out.claims] == ["Sibiga", "Kyiv"]


def test_an_entity_already_under_the_new_name_absorbs_the_renamed_one() -> None:
    doc = make_document(
        entities=(
            make_entity(
                "Andrii Sybiha",
                variants=("Andrii Sybiha",),
                count=1,
                start=0,
                mentions=(mention("Andrii Sybiha", 0),),
            ),
            make_entity(
                "Sibiga",
                variants=("Sibiga",),
                count=2,
                start=30,
                mentions=(mention("Sibiga", 30), mention("Sibiga", 60)),
            ),
        )
    )
    (merged,) = renamed(doc, {"person:Sibiga": "Andrii Sybiha"}).entities
    assert merged.canonical == "Andrii Sybiha"
    assert merged.count == 3
    assert merged.variants == ("Andrii Sybiha", "Sibiga")
    assert [m.start for m in merged.mentions] == [0, 30, 60]


def test_only_that_kind_of_entity_is_renamed_and_nothing_else_changes() -> None:
    doc = make_document(entities=(make_entity("Jordan", "GPE"), make_entity("Jordan")))
    out = renamed(doc, {"person:Jordan": "Michael Jordan"})
    assert [(e.canonical, e.label) for e in out.entities] == [("Jordan", "GPE"), ("Michael Jordan", "PERSON")]
    assert renamed(doc, {"person:Rutte": "Mark Rutte"}) is doc
    assert renamed(doc, {}) is doc
