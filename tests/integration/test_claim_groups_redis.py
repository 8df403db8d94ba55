"""Claim groups shared through a private real Redis (pipeline/redis/claim_groups.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from pipeline.claims.figures import parse_figures
from pipeline.claims.grouping import speaker_key
from pipeline.claims.plan import ClaimsPlan, stamped
from pipeline.claims.records import claim_key
from pipeline.document import Document
from pipeline.redis.claim_groups import ClaimGroups
from tests.factories import make_claim, make_document

pytestmark = pytest.mark.integration


@pytest.fixture
def clients(private_redis: str) -> Iterator[list[redis.Redis]]:
    """Two clients, as two workers would hold."""
    made = [redis.Redis.from_url(private_redis), redis.Redis.from_url(private_redis)]
    yield made
    for client in made:
        client.close()


def article(name: str, who: str, text: str) -> Document:
    claim = make_claim(text, kind="reported", speaker=who, speaker_canonical=who, figures=parse_figures(text))
    return make_document(f"article {name}", id=f"doc-{name}", claims=(claim,))


def assign(groups: ClaimGroups, doc: Document) -> tuple[Document, ClaimsPlan]:
    """The document with its claims' groups, and the plan (filed: nothing persists it here)."""
    with groups.planning([doc]) as plan:
        pass
    (stamped_doc,) = stamped([doc], plan.fields)
    return stamped_doc, plan


def test_two_workers_see_each_others_claims(clients: list[redis.Redis]) -> None:
    first, second = (ClaimGroups(c) for c in clients)
    a, _ = assign(
        first, article("a", "Andrii Sybiha", "Ukraine needed another 20 air defence systems for its grid")
    )
    c, plan = assign(
        second, article("c", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems for its grid")
    )
    assert c.claims[0].group == a.claims[0].group
    assert c.claims[0].conflict  # the second sees the disagreement at once
    assert not a.claims[0].conflict  # the first could not know yet: the second's plan tells the table
    assert plan.fields[claim_key(a, a.claims[0])].conflict


def test_other_speakers_are_not_mixed_in(clients: list[redis.Redis]) -> None:
    groups = ClaimGroups(clients[0])
    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    b, _ = assign(
        groups, article("b", "Vladimir Putin", "Putin is not interested in peace and wants more territory")
    )
    assert a.claims[0].group != b.claims[0].group


def test_claim_records_written_by_the_older_format_are_read(clients: list[redis.Redis]) -> None:
    """Before the compact record (a JSON list), each claim was a JSON object with every
    field named: a registry an older version filled still groups new claims with it."""
    import json

    groups = ClaimGroups(clients[0])
    a, _ = assign(
        groups, article("a", "Andrii Sybiha", "Ukraine needed another 20 air defence systems for its grid")
    )
    key = claim_key(a, a.claims[0])
    record = json.loads(clients[0].get(f"newsflow:claims:c:{key}"))
    assert isinstance(record, list)  # the compact format: no key, no document, no names
    speaker, text, outlet, group, conflict, figures = record
    clients[0].set(
        f"newsflow:claims:c:{key}",
        json.dumps(
            {
                "key": key,
                "doc": a.id,
                "speaker": speaker,
                "text": text,
                "figures": figures,
                "outlet": outlet,
                "group": group,
                "conflict": bool(conflict),
            }
        ),
    )
    c, plan = assign(
        groups, article("c", "Andrii Sybiha", "Ukraine needs at least 19 air defense systems for its grid")
    )
    assert c.claims[0].group == a.claims[0].group
    assert plan.fields[key].conflict


def test_document_claim_sets_written_by_the_older_format_are_read(clients: list[redis.Redis]) -> None:
    """A document's set keeps its claims' spans; older versions kept whole claim keys: a
    new version of a document filed by them still replaces its claims."""
    groups, client = ClaimGroups(clients[0]), clients[0]
    a, _ = assign(
        groups, article("a", "Mark Rutte", "Putin is not interested in peace and wants more territory")
    )
    key = claim_key(a, a.claims[0])
    assert {m.decode() for m in client.smembers("newsflow:claims:d:doc-a")} == {key.rsplit(":", 1)[1]}
    client.delete("newsflow:claims:d:doc-a")
    client.sadd("newsflow:claims:d:doc-a", key)  # as an older version filed it
    assign(groups, make_document("article a, again", id="doc-a", claims=()))  # a version with none
    assert client.get(f"newsflow:claims:c:{key}") is None  # the old version's claim is gone
    assert not client.exists("newsflow:claims:d:doc-a")
    assert not client.smembers("newsflow:claims:m:" + speaker_key("Mark Rutte"))
