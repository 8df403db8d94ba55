"""What a user types into search: the query language, UK/US spellings, and how a name
typed in any spelling is resolved to the entities indexed documents know.

Names are resolved against a real embedded index holding documents built with the
factories (no model needed): the same `lookup`/`forms_of` Elasticsearch answers with
aggregations (tests/integration/test_index_contract.py runs both on the seeds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.document import Entity
from pipeline.search import plan as sp
from pipeline.search.claims import claim_queries, speaker_names
from pipeline.search.names import entity_key, pick, query_forms
from pipeline.search.query import AnyOf, Field, Not, QueryError, Words, day_bounds, parse
from pipeline.search.spelling import variants
from pipeline.sqlite.index import SqliteIndex
from tests.factories import make_claim, make_document, make_entity


# ------------------------------------------------------------------ the language
def test_bare_words_must_all_match_and_quotes_keep_words_together() -> None:
    query = parse('Rutte "air defence systems" Kyiv\'s O’Brien')
    assert query.clauses == (
        Words(("Rutte",)),
        Words(("air", "defence", "systems"), quoted=True),
        Words(("Kyiv's",)),  # one word, as both indices read it
        Words(("O’Brien",)),
    )


def test_or_binds_tighter_than_the_spaces_and_minus_excludes() -> None:
    query = parse("Rutte OR Stoltenberg Ukraine -Trump")
    assert query.clauses == (
        AnyOf((Words(("Rutte",)), Words(("Stoltenberg",)))),
        Words(("Ukraine",)),
        Not(Words(("Trump",))),
    )
    # "or" in lower case is a word; an OR with nothing on one side joins nothing
    assert parse("OR war or peace OR").clauses == (Words(("war",)), Words(("or",)), Words(("peace",)))


def test_fields_take_a_word_or_a_quoted_value_and_unknown_prefixes_are_words() -> None:
    query = parse('speaker:"Mark Rutte" Person:Sibiga outlet:guardian -place:Kiev http://x')
    assert query.clauses == (
        Field("speaker", "Mark Rutte"),
        Field("person", "Sibiga"),
        Field("outlet", "guardian"),
        Not(Field("place", "Kiev")),
        Words(("http", "x"), quoted=True),
    )


@pytest.mark.parametrize(
    ("field", "value", "bounds"),
    [
        ("after", "2024-12-04", ("2024-12-04", "")),
        ("after", "2024-12", ("2024-12-01", "")),
        ("before", "2024", ("", "2024-01-01")),  # before is exclusive: nothing of 2024
        ("arrived-before", "2025-2-3", ("", "2025-02-03")),
    ],
)
def test_dates_are_days_months_or_years(field: str, value: str, bounds: tuple[str, str]) -> None:
    assert day_bounds(field, value) == bounds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "after:2024-13-01",
            "after:2024-13-01 is not a date: write after:YYYY-MM-DD (or YYYY-MM, or YYYY), "
            "for example after:2024-12-01",
        ),
        ("before:yesterday", "before:yesterday is not a date"),
        ("-Trump", "nothing to search for"),
        ("?! ...", "nothing to search for"),
        ("person: Rutte", "person: needs a value, for example person:Rutte"),
    ],
)
def test_a_query_that_cannot_run_says_what_to_type(text: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# -------------------------------------------------------------------- spelling
@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("defence", "defense"),
        ("defense", "defence"),
        ("organisation", "organization"),
        ("analysed", "analyzed"),
        ("labour", "labor"),
        ("centre", "center"),
        ("travelled", "traveled"),
        ("catalogue", "catalog"),
        ("programme", "program"),
        ("grey", "gray"),
    ],
)
def test_a_word_is_searched_in_its_british_and_american_spellings(word: str, other: str) -> None:
    assert variants(word)[0] == word
    assert other in variants(word)


@pytest.mark.parametrize("word", ["four", "hour", "prize", "filled", "acre", "peace", "Rutte"])
def test_a_spelling_rule_never_turns_a_word_into_another_real_word(word: str) -> None:
    assert variants(word) == (word.lower(),)


# ----------------------------------------------------------------------- names
def person(canonical: str, *variants: str) -> Entity:
    return make_entity(canonical, variants=variants or (canonical,), surface=(variants or (canonical,))[0])


def place(canonical: str, written: str) -> Entity:
    return make_entity(canonical, "GPE", variants=(written,), surface=written)


@pytest.fixture
def index(tmp_path: Path) -> SqliteIndex:
    idx = SqliteIndex(tmp_path / "index.sqlite3")
    idx.write(
        [
            make_document(
                "a",
                id="a",
                text="Mr Rutte met Andrii Sybiha in Kyiv.",
                entities=(person("Mark Rutte", "Mr Rutte"), person("Andrii Sybiha"), place("Kyiv", "Kyiv")),
                claims=(make_claim("we must", speaker="Mr Rutte", speaker_canonical="Mark Rutte"),),
            ),
            make_document(
                "b",
                id="b",
                text="Sibiga said Kiev would decide.",
                entities=(person("Andrii Sybiha", "Sibiga"), place("Kyiv", "Kiev")),
            ),
            make_document("c", id="c", text="Joe Root scored a century.", entities=(person("Joe Root"),)),
        ]
    )
    return idx


def test_a_surname_in_another_spelling_names_the_person_but_a_similar_skeleton_does_not(
    index: SqliteIndex,
) -> None:
    hits = index.lookup(query_forms("Sibiga"))
    assert pick("Sibiga", hits) == [entity_key("PERSON", "Andrii Sybiha")]
    assert pick("Rutte", index.lookup(query_forms("Rutte"))) == [entity_key("PERSON", "Mark Rutte")]
    # Root and Rutte share a consonant skeleton; the surnames are not one spelling
    assert pick("Root", index.lookup(query_forms("Root"))) == [entity_key("PERSON", "Joe Root")]


def test_a_field_keeps_only_its_kind_of_entity(index: SqliteIndex) -> None:
    hits = index.lookup(query_forms("Kiev"))
    assert pick("Kiev", hits) == ["place:Kyiv"]
    assert pick("Kiev", hits, ["person"]) == []


def test_a_plan_looks_for_the_entity_in_every_spelling_documents_wrote(index: SqliteIndex) -> None:
    (kyiv,) = sp.plan(parse("Kiev"), index).clauses
    assert isinstance(kyiv, sp.Entity)
    assert kyiv.keys == ("place:Kyiv",)
    assert kyiv.phrases == ("kiev",)  # what was typed also finds a mention the model missed
    assert kyiv.marks == ("kyiv",)  # a spelling documents wrote: marked in snippets
    assert {h["id"] for h in index.search("Kiev")} == {"a", "b"}


def test_the_longest_words_in_a_row_that_name_an_entity_are_one_name(index: SqliteIndex) -> None:
    clauses = sp.plan(parse("Mr Rutte met"), index).clauses
    assert [type(c) for c in clauses] == [sp.Entity, sp.Text]
    assert clauses[0].keys == ("person:Mark Rutte",)  # type: ignore[union-attr]


def test_words_that_name_nothing_are_searched_as_words(index: SqliteIndex) -> None:
    assert sp.plan(parse("century"), index).clauses == (sp.Text(("century",)),)
    assert sp.plan(parse("defence"), index).clauses == (sp.Text(("defence", "defense")),)


def test_field_filters_find_the_documents_the_extraction_tied_to_a_name(index: SqliteIndex) -> None:
    def found(query: str) -> list[str]:
        return sorted(h["id"] for h in index.search(query))

    assert found("person:Sibiga") == ["a", "b"]
    assert found("speaker:Rutte") == ["a"]
    assert found("person:Kiev") == []
    assert found("Kiev -Sibiga") == []  # both Kyiv articles name him, one as Sybiha
    assert found("Kyiv -Rutte") == ["b"]
    assert found("Root OR Sibiga") == ["a", "b", "c"]


def test_a_claims_search_is_asked_in_every_spelling_of_the_names_in_it(index: SqliteIndex) -> None:
    queries = claim_queries("Kiev decide", index)
    assert queries[0] == "kiev decide"  # as typed first
    assert "kyiv decide" in queries
    with pytest.raises(QueryError, match="words and names only"):
        claim_queries("Kiev -Rutte", index)


def test_a_speaker_filter_means_the_canonical_names_it_names(index: SqliteIndex) -> None:
    assert speaker_names("Sibiga", index) == ["Andrii Sybiha"]
    assert speaker_names("nobody known", index) == ["nobody known"]


def test_a_name_that_is_a_place_outright_does_not_also_mean_a_similar_surname() -> None:
    forms = query_forms("France")
    hits = {f: ({"place:France"} if f.startswith("n:") else {"person:James Franco"}) for f in forms}
    assert pick("France", hits) == ["place:France"]
    # a person found outright keeps the people whose surname is a similar spelling
    forms = query_forms("Zelenskiy")
    hits = {f: ({"person:Zelenskiy"} if f.startswith("n:") else {"person:Volodymyr Zelensky"}) for f in forms}
    assert pick("Zelenskiy", hits) == ["person:Volodymyr Zelensky", "person:Zelenskiy"]
