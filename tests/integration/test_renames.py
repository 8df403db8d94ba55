"""A name the registry improves later ("Sibiga", then "Andrii Sybiha") is carried into the
documents already indexed under the old one: by the write path at most once per
NEWSFLOW_RENAME_EVERY_S (each turn searches the index), by one delayed turn for what
waits meanwhile, and by `carry_renames` before `newsflow run` reports. Real Redis
registry and stores, embedded index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from pipeline.document import Document
from pipeline.entities.local import LocalEntity, Mention
from pipeline.redis.claim_groups import ClaimGroups
from pipeline.redis.entity_registry import RedisEntityRegistry
from pipeline.redis.ledger import Ledger
from pipeline.redis.story_store import NearDuplicates, StoryStore
from pipeline.sqlite.index import SqliteIndex
from pipeline.write import Stores, carry_renames, write_batch
from tests.factories import make_document, make_entity

pytestmark = pytest.mark.integration

REST_S = 60.0


def local(name: str, label: str = "PERSON") -> LocalEntity:
    mention = Mention(surface=name, name=name, label=label, start=0, end=len(name))
    return LocalEntity(name=name, label=label, mentions=[mention])


def article(n: int, *people: str) -> Document:
    return make_document(
        f"Article {n}: " + ", ".join(people) + " met in Brussels.",
        id=f"d{n}",
        source=f"/drop/{n}.txt",
        sources=(f"/drop/{n}.txt",),
        entities=[make_entity(name) for name in people],
    )


@pytest.fixture
def stores(client: Any, tmp_path: Path) -> Stores:
    return Stores(
        index=SqliteIndex(tmp_path / "index.db"),
        stories=None,
        story_store=StoryStore(client),
        near_duplicates=NearDuplicates(client),
        claims=None,
        claim_groups=ClaimGroups(client),
        ledger=Ledger(client),
        names=RedisEntityRegistry(client),
        rename_every_s=REST_S,
    )


def people_in(stores: Stores, doc_id: str) -> set[str]:
    body = stores.index.get(doc_id)
    assert body is not None
    return {e["canonical"] for e in body["entities"] if e["label"] == "PERSON"}


def learn(stores: Stores, doc_id: str, *people: str) -> None:
    """The entity stage's part: the registry sees a document's people."""
    assert isinstance(stores.names, RedisEntityRegistry)
    stores.names.resolve(doc_id, [local(p) for p in people] + [local("NATO", "ORG")])


def test_a_turn_carries_at_once_then_renames_wait_out_the_rest_and_one_delayed_turn_is_booked(
    stores: Stores,
) -> None:
    learn(stores, "d1", "Sibiga", "Kellogg", "Mark Rutte")
    write_batch([article(1, "Sibiga", "Kellogg", "Mark Rutte")], stores)

    learn(stores, "d2", "Andrii Sybiha", "Mark Rutte")  # a better name: a rename waits
    result = write_batch([article(2, "Andrii Sybiha", "Mark Rutte")], stores)
    assert people_in(stores, "d1") == {"Andrii Sybiha", "Kellogg", "Mark Rutte"}  # the first turn: at once
    assert result.renames_due_in is None  # nothing left waiting

    learn(stores, "d3", "Keith Kellogg", "Mark Rutte")  # another, within the rest
    first = write_batch([article(3, "Keith Kellogg", "Mark Rutte")], stores)
    assert people_in(stores, "d1") == {"Andrii Sybiha", "Kellogg", "Mark Rutte"}  # waits
    assert first.renames_due_in == REST_S  # this writer queues the delayed turn...
    second = write_batch([article(4, "Keith Kellogg")], stores)
    assert second.renames_due_in is None  # ...and only this one

    assert carry_renames(stores) == 0  # the delayed turn (or `newsflow run` before it reports)
    assert people_in(stores, "d1") == {"Andrii Sybiha", "Keith Kellogg", "Mark Rutte"}


def test_without_a_rest_every_write_carries_what_waits(stores: Stores) -> None:
    stores = replace(stores, rename_every_s=0.0)
    learn(stores, "d1", "Sibiga", "Kellogg", "Mark Rutte")
    write_batch([article(1, "Sibiga", "Kellogg", "Mark Rutte")], stores)
    for n, better in ((2, "Andrii Sybiha"), (3, "Keith Kellogg")):
        learn(stores, f"d{n}", better, "Mark Rutte")
        assert write_batch([article(n, better, "Mark Rutte")], stores).renames_due_in is None
    assert people_in(stores, "d1") == {"Andrii Sybiha", "Keith Kellogg", "Mark Rutte"}


def test_carry_renames_waits_for_another_process_turn_then_reports_what_is_left(
    stores: Stores, client: redis.Redis
) -> None:
    learn(stores, "d1", "Sibiga", "Mark Rutte")
    write_batch([article(1, "Sibiga", "Mark Rutte")], stores)
    learn(stores, "d2", "Andrii Sybiha", "Mark Rutte")
    client.set("newsflow:entities:renames:lock", "another process", px=60_000)  # its turn, for a while
    assert carry_renames(stores, patience_s=0.5) == 1  # not carried: still waiting, and said so
    assert people_in(stores, "d1") == {"Sibiga", "Mark Rutte"}
    client.delete("newsflow:entities:renames:lock")
    assert carry_renames(stores, patience_s=0.5) == 0
    assert people_in(stores, "d1") == {"Andrii Sybiha", "Mark Rutte"}
