"""The embedded claims table as the write path fills it: plans from the claim-group
registry in a private real Redis, applied to the table. Groups and conflicts come from
stored claims, whatever the order."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from pipeline.claims.figures import parse_figures
from pipeline.claims.records import to_claim_records
from pipeline.document import Document
from pipeline.redis.claim_groups import ClaimGroups
from pipeline.sqlite.claims import SqliteClaims
from tests.factories import make_claim, make_document

pytestmark = pytest.mark.integration


def article(name: str, *claims: tuple[str, str]) -> Document:
    return make_document(
        f"article {name}",
        id=f"doc-{name}",
        source=f"/drop/{name}.txt",
        sources=(f"/drop/{name}.txt",),
        outlet=f"Outlet {name.upper()}",
        claims=tuple(
            make_claim(
                text,
                kind="reported",
                speaker=who,
                speaker_canonical=who,
                cue="said",
                figures=parse_figures(text),
                start=100 * n,
                end=100 * n + len(text),
            )
            for n, (who, text) in enumerate(claims)
        ),
    )


A = article(
    "a",
    ("Andrii Sybiha", "Ukraine needed another 20 air defence systems to protect its power grid"),
    ("Mark Rutte", "Putin is not interested in peace and is trying to take more territory"),
)
B = article(
    "b", ("Mark Rutte", "Mr. Putin is not interested in peace, he is trying to seize new territories")
)
C = article(
    "c", ("Andrii Sybiha", "Ukraine needs at least 19 additional air defense systems to protect the grid")
)


class Table(SqliteClaims):
    """The table with the write path's `write`: plan with the registry, apply, file."""

    def __init__(self, path: Path, registry: ClaimGroups) -> None:
        super().__init__(path)
        self.registry = registry

    def write(self, doc: Document) -> int:
        with self.registry.planning([doc]) as plan:
            return self.apply(plan)


@pytest.fixture
def table(tmp_path: Path, client: redis.Redis) -> Iterator[Table]:
    table = Table(tmp_path / "index.sqlite3", ClaimGroups(client))
    yield table
    table.close()


def groups(table: SqliteClaims) -> set[tuple[str, tuple[str, ...], bool]]:
    return {(g["speaker"], tuple(g["sources"]), g["conflict"]) for g in table.groups()}


@pytest.mark.parametrize("order", list(itertools.permutations([A, B, C])))
def test_groups_and_conflicts_do_not_depend_on_arrival_order(
    table: Table, order: tuple[Document, ...]
) -> None:
    for doc in order:
        table.write(doc)
    assert groups(table) == {
        ("Andrii Sybiha", ("/drop/a.txt", "/drop/c.txt"), True),
        ("Mark Rutte", ("/drop/a.txt", "/drop/b.txt"), False),
    }


def stamped(doc: Document, group: str) -> Document:
    """The document as a worker hands it over: claims stamped with a provisional group."""
    return replace(doc, claims=tuple(replace(c, group=group, conflict=False) for c in doc.claims))


def test_group_ids_are_settled_whatever_the_order_and_the_provisional_stamp(
    tmp_path: Path, client: redis.Redis
) -> None:
    settled = []
    for n, order in enumerate(itertools.permutations([A, B, C])):
        table = Table(tmp_path / f"index-{n}.sqlite3", ClaimGroups(client, prefix=f"order{n}"))
        for doc in order:
            table.write(stamped(doc, f"provisional-{doc.id}"))
        settled.append({(c["doc_id"], c["start"]): c["group"] for c in table.claims()})
        table.close()
    assert all(ids == settled[0] for ids in settled)
    assert not any(group.startswith("provisional") for group in settled[0].values())
    # the two reports of each statement share one id, the two statements have different ids
    group = settled[0]
    assert group["doc-a", 0] == group["doc-c", 0] != group["doc-a", 100] == group["doc-b", 0]


def test_a_later_article_makes_an_earlier_group_conflicting(table: Table) -> None:
    table.write(A)
    assert not any(g["conflict"] for g in table.groups())
    table.write(C)
    (conflicting,) = table.groups(conflicts=True)
    assert {f["text"] for f in conflicting["figures"]} == {
        "another 20 air defence systems",
        "at least 19 additional air defense systems",
    }


def test_rewriting_a_document_replaces_its_claims(table: Table) -> None:
    table.write(A)
    table.write(A)
    assert len(table.claims()) == 2


def test_speaker_filter_and_full_text_search(table: Table) -> None:
    for doc in (A, B, C):
        table.write(doc)
    assert {g["speaker"] for g in table.groups(speaker="rutte")} == {"Mark Rutte"}
    assert {h["doc_id"] for h in table.search("seize")} == {"doc-b"}


def test_claim_records_carry_who_what_where_and_outlet() -> None:
    (record, _) = to_claim_records(A)
    claim = A.claims[0]
    assert record["id"] == f"doc-a:{claim.start}-{claim.end}"
    assert (record["speaker_canonical"], record["kind"], record["outlet"]) == (
        "Andrii Sybiha",
        "reported",
        "Outlet A",
    )
    assert record["figures"][0] == {
        "text": "another 20 air defence systems",
        "value": 20.0,
        "unit": "air defence systems",
        "modifier": "another",
    }
    assert record["sources"] == ["/drop/a.txt"]


def test_a_speaker_with_many_claims_is_regrouped_around_the_new_document_only(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.redis.claim_groups as module

    monkeypatch.setattr(module, "EXACT_REGROUP_MAX", 2)  # past this, the bounded path runs
    topics = [
        "defence budgets must rise to two percent",
        "the Arctic needs more patrols",
        "cyber attacks on hospitals are growing",
        "Sweden's accession strengthens the north",
        "China supplies parts for Russian drones",
    ]
    others = [article(f"x{n}", ("Mark Rutte", topic)) for n, topic in enumerate(topics)]
    for doc in [A, *others, B, C]:
        table.write(doc)
    groups = {(g["speaker"], tuple(g["sources"]), g["conflict"]) for g in table.groups()}
    assert ("Mark Rutte", ("/drop/a.txt", "/drop/b.txt"), False) in groups
    assert ("Andrii Sybiha", ("/drop/a.txt", "/drop/c.txt"), True) in groups
    assert sum(1 for speaker, _, _ in groups if speaker == "Mark Rutte") == 6  # the five others stay apart


def statement(name: str, text: str) -> Document:
    """An article whose only claim is the outlet's own statement."""
    claim = make_claim(text, kind="statement", figures=parse_figures(text), start=0, end=len(text))
    return make_document(
        f"article {name}",
        id=f"doc-{name}",
        source=f"/drop/{name}.txt",
        sources=(f"/drop/{name}.txt",),
        outlet=f"Outlet {name}",
        claims=(claim,),
    )


def test_past_the_exact_bound_outlet_statements_still_meet_through_the_same_figure(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.redis.claim_groups as module

    monkeypatch.setattr(module, "EXACT_REGROUP_MAX", 2)
    monkeypatch.setattr(module, "CANDIDATES", 3)  # fewer than the other statements
    for n in range(8):  # statements with other figures, or the same number of something else
        table.write(statement(f"x{n}", f"The United States sent {n + 1} billion dollars of aid to Kyiv."))
        table.write(statement(f"y{n}", f"Officials counted 725 people at rally number {n} in Kyiv."))
    table.write(statement("a", "On Monday, the US announced a new weapons package for Ukraine worth $725m."))
    table.write(statement("b", "The United States unveiled a $725m weapons package for Ukraine on Monday."))
    sources = [tuple(g["sources"]) for g in table.groups()]
    assert ("/drop/a.txt", "/drop/b.txt") in sources


def test_an_index_file_from_before_plans_opens_and_takes_new_plans(
    tmp_path: Path, client: redis.Redis
) -> None:
    import sqlite3

    path = tmp_path / "index.sqlite3"
    old = Table(path, ClaimGroups(client))
    old.write(A)
    old.close()
    with sqlite3.connect(path) as db:  # as an earlier version left it: match keys, no generation
        db.execute("ALTER TABLE claims DROP COLUMN gen")
        db.execute("DROP TABLE schema_versions")  # files of that time kept no versions
        db.execute("CREATE TABLE claim_keys (speaker_key TEXT, key TEXT, claim_id TEXT)")
        db.execute("INSERT INTO claim_keys VALUES ('andrii sybiha', 'ukrain', 'doc-a:0-75')")
    table = Table(path, ClaimGroups(client))
    assert len(table.claims()) == 2
    table.write(C)
    assert ("Andrii Sybiha", ("/drop/a.txt", "/drop/c.txt"), True) in groups(table)
    Table(path, ClaimGroups(client)).close()  # opening it again changes nothing
    assert len(table.claims()) == 3
    table.close()


def test_two_claims_starting_at_one_offset_are_two_rows(table: Table) -> None:
    # "X said Y had promised Z": a claim nested in another can start where it starts.
    outer = make_claim(
        "the minister had promised 20 systems, officials said",
        kind="reported",
        speaker="officials",
        cue="said",
        start=10,
        end=62,
    )
    inner = make_claim(
        "the minister had promised 20 systems",
        kind="reported",
        speaker="the minister",
        cue="promised",
        start=10,
        end=46,
    )
    doc = make_document("article n", id="doc-n", claims=(outer, inner))

    assert table.write(doc) == 2
    assert len(table.claims(doc_id="doc-n")) == 2
