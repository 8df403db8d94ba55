"""The write path without Celery or services: what it writes, marks and hands back refused."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeline.claims.plan import ClaimsPlan, StoredClaim, plan_claims
from pipeline.document import Document
from pipeline.errors import BadInput, SkipDocument
from pipeline.run import Stage
from pipeline.write import Stores, enrich, write_batch
from tests.factories import make_claim, make_document


class FakeIndex:
    def __init__(self, refuse: Mapping[str, str]) -> None:
        self.refuse = refuse
        self.written: list[Document] = []

    def write(self, docs: Sequence[Document], labels: object = None) -> list[tuple[str, str]]:
        self.written += [d for d in docs if d.id not in self.refuse]
        return [(d.id, self.refuse[d.id]) for d in docs if d.id in self.refuse]


class FakeLedger:
    def __init__(self) -> None:
        self.sources: dict[str, list[str]] = {}
        self.marked: dict[str, dict[str, Any]] = {}

    def add_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        for doc_id, source in pairs:
            self.sources.setdefault(doc_id, [])
            if source not in self.sources[doc_id]:
                self.sources[doc_id].append(source)
        return [sorted(self.sources[doc_id]) for doc_id, _ in pairs]

    def get_many(self, sources: Sequence[str]) -> list[None]:
        return [None] * len(sources)  # no source gave a document before

    def remove_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        raise AssertionError("nothing is replaced here")

    def doc_sources(self, doc_ids: Sequence[str]) -> list[list[str]]:
        return [sorted(self.sources[doc_id]) for doc_id in doc_ids]

    def mark_many(self, state: str, updates: Mapping[str, Mapping[str, Any]]) -> None:
        for source, fields in updates.items():
            self.marked[source] = {"state": state, **fields}


class FakeClaims:
    """The claims table (claim key -> document) and its registry (every claim, planned whole)."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}
        self.registry: dict[str, StoredClaim] = {}

    @property
    def written(self) -> list[str]:
        return sorted(set(self.rows.values()))

    @contextlib.contextmanager
    def planning(self, docs: Sequence[Document]) -> Iterator[ClaimsPlan]:
        plan = plan_claims(docs, self.registry, gen=1)
        yield plan
        self.registry = {k: v for k, v in self.registry.items() if k not in plan.deleted} | dict(plan.claims)

    def apply(self, plan: ClaimsPlan) -> int:
        self.rows = {k: d for k, d in self.rows.items() if k not in plan.deleted}
        self.rows |= {r["id"]: r["doc_id"] for r in plan.records}
        return len(plan.records)


def stores(index: FakeIndex, ledger: FakeLedger, claims: FakeClaims) -> Stores:
    return Stores(
        index=index,
        stories=None,
        story_store=None,
        near_duplicates=None,  # type: ignore[arg-type]
        claims=claims,
        claim_groups=claims,
        ledger=ledger,
    )


def quoted(text: str, source: str) -> Document:
    """A document with one claim."""
    return make_document(text, source=source, claims=(make_claim(text, speaker="Someone", end=len(text)),))


def test_a_refused_document_comes_back_with_its_reason_and_the_others_are_written_and_final() -> None:
    good, bad = quoted("One article.", "/a"), quoted("Another one.", "/b")
    index, ledger, claims = FakeIndex({bad.id: "mapper_parsing_exception"}), FakeLedger(), FakeClaims()

    result = write_batch([good, bad], stores(index, ledger, claims))

    assert result.refused == (("/b", "index rejected the document: mapper_parsing_exception"),)
    assert [d.id for d in result.written] == [good.id]
    assert [d.id for d in index.written] == claims.written == [good.id]
    assert ledger.marked == {"/a": {"state": "done", "document": good.id}}
    assert result.written[0].history[-1].stage == "index_document"


def test_a_second_source_of_one_text_is_marked_duplicate() -> None:
    first = make_document("Same text.", source="/a")
    ledger = FakeLedger()
    ledger.add_doc_sources([(first.id, "/a")])
    second = make_document("Same text.", source="/b")

    result = write_batch([second], stores(FakeIndex({}), ledger, FakeClaims()))

    assert result.written[0].sources == ("/a", "/b")
    assert ledger.marked == {"/b": {"state": "duplicate", "document": first.id}}


def test_enrich_leaves_out_an_input_its_isolation_swallowed_and_drops_the_bulk() -> None:
    def stage(doc: Document) -> Document:
        if doc.source == "/bad":
            raise BadInput("undecodable")
        return doc

    seen: list[tuple[str, str]] = []

    @contextlib.contextmanager
    def each_source(source: str) -> Iterator[None]:
        try:
            yield
        except (BadInput, SkipDocument) as exc:
            seen.append((source, type(exc).__name__))

    docs = [make_document("Good.", source="/good"), make_document("Bad.", source="/bad")]
    enriched = list(enrich(docs, (Stage("check", stage),), each_source=each_source))

    assert [d.source for d in enriched] == ["/good"]
    assert enriched[0].raw_text == ""
    assert [s.stage for s in enriched[0].history] == ["check"]
    assert seen == [("/bad", "BadInput")]
