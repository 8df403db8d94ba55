"""The write path: enriched documents into the index, the stories and the claims, one
write each, then their sources marked final in the ledger (does I/O, through the stores
it is given; no Celery here).

The tasks (workers/tasks.py) call it with their process's stores
(`workers.resources.get_write_stores`) and record what it refused; anything else can call
it with stores that fit pipeline/stores.py. Every write is keyed by content, so writing
a batch again (a retried message) does no harm.

A source that gave another document before (a file written again, a half-written file
taken too early) now gives this one: the document its previous version gave loses that
source and, when no source is left, is retired from the index, its story, its claims and
the near-duplicate index (`retire`), before the source is marked final.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

import structlog

from pipeline.claims.plan import stamped
from pipeline.document import Document
from pipeline.entities.rename import renamed
from pipeline.errors import TransientError
from pipeline.index import document_from_body, without_bulk
from pipeline.run import Stage, record_step, run_batch
from pipeline.search.names import entity_key
from pipeline.stores import (
    ClaimPlanner,
    ClaimsStore,
    ComponentLabels,
    DocumentIndex,
    EntityNames,
    NearDuplicateLookup,
    SourceLedger,
    StoriesStore,
)

# The logger these lines always had (they were the tasks'): operators' filters know it.
log = structlog.get_logger("newsflow.tasks")


@dataclass(frozen=True, kw_only=True)
class Stores:
    """Where a batch is written (stories, claims: None when not kept), and the shared state
    the write reads (story labels, copies) and marks (the ledger)."""

    index: DocumentIndex
    stories: StoriesStore | None
    story_store: ComponentLabels
    near_duplicates: NearDuplicateLookup
    claims: ClaimsStore | None
    claim_groups: ClaimPlanner  # plans what a batch changes in the claims
    ledger: SourceLedger
    names: EntityNames | None = None  # canonical names that settled later (None: never renamed)
    rename_every_s: float = 0.0  # a turn of renames at most this often (NEWSFLOW_RENAME_EVERY_S)


@dataclass(frozen=True)
class WriteResult:
    """What a write did: the documents written (their sources now final in the ledger), and
    (source, reason) for each document the index refused, for the caller to record as failed."""

    written: tuple[Document, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()
    # Renames wait out a rest (`follow_renames`): queue one turn (`carry_renames`) in this
    # many seconds. Set for one writer per rest; None for the others and when none wait.
    renames_due_in: float | None = None


class WriteBreaker:
    """After an inline index write fails for a transient reason, the batches of the next
    `pause_s` seconds go straight to the index queue: the NLP goes on while the index is
    down or hanging (a timeout costs NEWSFLOW_ES_TIMEOUT_S per batch), and the indexer
    retries the writes with backoff."""

    def __init__(self, pause_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.pause_s = pause_s
        self._clock = clock
        self._until = float("-inf")

    def is_open(self) -> bool:
        """Whether writes should skip the index for now."""
        return self._clock() < self._until

    def trip(self) -> None:
        self._until = self._clock() + self.pause_s


def enrich(
    docs: Iterable[Document],
    stages: Sequence[Stage],
    *,
    each_source: Callable[[str], AbstractContextManager[object]],
) -> Iterator[Document]:
    """Clean, extract entities and claims: `run_batch` (the batch's paragraphs parsed
    together), each document inside `each_source(doc.source)` (the caller's isolation of
    one input: a permanent failure is recorded for that input alone and the batch goes on).
    Yields each enriched document as the indices need it (`without_bulk`), once done."""
    for doc in run_batch(docs, stages, each_source=each_source):
        yield without_bulk(doc)


def write_unless_paused(docs: list[Document], stores: Stores, breaker: WriteBreaker) -> WriteResult | None:
    """`write_batch`, unless `breaker` is open or the write fails for a transient reason
    (which trips it): None then, and the caller hands the batch to the indexer."""
    if breaker.is_open():
        return None
    try:
        return write_batch(docs, stores)
    except TransientError as exc:  # the indexer retries it, with backoff, NLP done
        breaker.trip()
        log.warning(
            "index write failed; batches go to the indexer for a while",
            documents=len(docs),
            pause_s=breaker.pause_s,
            error=f"{type(exc).__name__}: {exc}",
        )
        return None


def write_batch(docs: list[Document], stores: Stores) -> WriteResult:
    """Write enriched documents to the search index, the stories and the claims tables, in
    one write each (idempotent: a document's id is its content), and mark them final.
    A document the index refuses comes back in `refused`, with the reason."""
    started = time.perf_counter()
    docs = settle_names(docs, stores.names)
    records = stores.ledger.get_many([doc.source for doc in docs])
    replaced = {
        doc.source: record.document
        for doc, record in zip(docs, records, strict=True)
        if record is not None and record.document and record.document != doc.id
    }
    all_sources = stores.ledger.add_doc_sources([(doc.id, doc.source) for doc in docs])
    result = write_documents(
        [
            record_step(replace(doc, sources=tuple(sources)), "index_document", started)
            for doc, sources in zip(docs, all_sources, strict=True)
        ],
        stores,
        replaced=replaced,
    )
    turn = follow_renames(stores, rest_s=stores.rename_every_s)
    if turn.waiting and stores.names is not None and stores.names.book_turn(stores.rename_every_s):
        return replace(result, renames_due_in=stores.rename_every_s)
    return result


def settle_names(docs: list[Document], names: EntityNames | None) -> list[Document]:
    """`docs` with any entity renamed since they were enriched under its name now."""
    if names is None:
        return docs
    current = names.current_names({entity_key(e.label, e.canonical) for d in docs for e in d.entities})
    return [renamed(doc, current) for doc in docs] if current else docs


@dataclass(frozen=True)
class RenameTurn:
    carried: int = 0  # renames carried into the index in this turn
    waiting: int = 0  # renames left waiting (a rest, another process's turn, more than a turn)


def follow_renames(stores: Stores, *, rest_s: float = 0.0) -> RenameTurn:
    """Documents already indexed under a name the registry has since improved ("Sibiga",
    then "Andrii Sybiha" learned) are written again under the new one: index, claims
    (regrouped under the new speaker) and story records. One process at a time, at most
    a hundred renames a turn; the cost of a rename is the documents that carry the old
    name, found by a search of the index. With `rest_s`, a turn at most once per `rest_s`
    across processes (the write path's: NEWSFLOW_RENAME_EVERY_S)."""
    if stores.names is None:
        return RenameTurn()
    with stores.names.renames(rest_s=rest_s) as pending:
        if pending:
            ids = stores.index.with_entities(pending)
            bodies = [body for doc_id in ids if (body := stores.index.get(doc_id)) is not None]
            docs = [renamed(document_from_body(body), pending) for body in bodies]
            refused: list[tuple[str, str]] = []
            _write_tables(docs, stores, refused)
            if refused:
                log.warning("renamed documents refused", refused=refused)
            log.info("renamed", names=dict(pending), doc_ids=ids)
    return RenameTurn(len(pending), stores.names.waiting())


def carry_renames(stores: Stores, *, patience_s: float = 30.0) -> int:
    """Every rename still waiting, turn after turn, without the rest (the end of
    `newsflow run`, and the delayed turn the write path queues); while another process
    holds the turn, waits for it up to `patience_s`. Returns how many are left waiting."""
    deadline = time.monotonic() + patience_s
    while True:
        turn = follow_renames(stores)
        if not turn.waiting or (not turn.carried and time.monotonic() > deadline):
            return turn.waiting
        if not turn.carried:
            time.sleep(0.2)  # another process's turn


def write_documents(
    docs: list[Document], stores: Stores, *, replaced: Mapping[str, str] | None = None
) -> WriteResult:
    """`write_batch` for documents whose `sources` were read from the ledger. When the same
    text is dropped twice and both copies are processed at once, the other worker may add
    its source after these were read and write before this does: each document whose
    sources grew meanwhile is written again, so the last write carries all of them.
    `replaced`: source -> the document its previous version gave (`retire`d once written)."""
    ledger = stores.ledger
    refused: list[tuple[str, str]] = []
    docs = written = _write_tables(docs, stores, refused)
    for attempt in range(4):
        now = ledger.doc_sources([doc.id for doc in written])
        grown = [
            replace(doc, sources=tuple(sources))
            for doc, sources in zip(written, now, strict=True)
            if tuple(sources) != doc.sources
        ]
        if not grown:
            break
        if attempt == 3:  # copies of one text keep arriving (five at once, at least)
            log.warning(
                "sources still growing after 3 rewrites; the index may miss some"
                " until the document is written again",
                doc_ids=[doc.id for doc in grown],
            )
            break
        log.info("sources grew while writing; writing again", doc_ids=[doc.id for doc in grown])
        written = _write_tables(grown, stores, refused)
        rejected = {doc.id for doc in grown} - {doc.id for doc in written}  # in `refused`
        docs = [doc for doc in docs if doc.id not in rejected]
    written_sources = {doc.source for doc in docs}
    retire({s: old for s, old in (replaced or {}).items() if s in written_sources}, stores)
    finished: dict[str, dict[str, dict[str, str]]] = {"done": {}, "duplicate": {}}
    for doc in docs:
        state = "duplicate" if any(s != doc.source for s in doc.sources) else "done"
        finished[state][doc.source] = {"document": doc.id}
    for state, updates in finished.items():
        ledger.mark_many(state, updates)
    for doc in docs:
        log.info(
            "indexed",
            source=doc.source,
            doc_id=doc.id,
            entities=len(doc.entities),
            claims=len(doc.claims),
            ms={s.stage: s.ms for s in doc.history},
        )
    return WriteResult(written=tuple(docs), refused=tuple(refused))


def retire(replaced: Mapping[str, str], stores: Stores) -> None:
    """Each source (key) now gives another document than the one (value) it gave before:
    that one loses the source; one left without any source is retired (its claims, its
    index entry, its place in its story and in the near-duplicate index), so search,
    stories and claims show only the new version. Idempotent: a retried batch does it
    again harmlessly."""
    pairs = sorted((old, source) for source, old in replaced.items())
    if not pairs:
        return
    left = dict(zip([old for old, _ in pairs], stores.ledger.remove_doc_sources(pairs), strict=True))
    if still := {old: sources for old, sources in left.items() if sources}:
        stores.index.set_sources(still)
    gone = sorted(old for old, sources in left.items() if not sources)
    if not gone:
        return
    _write_claims([Document(id=old, source="", raw_text="") for old in gone], stores)  # no claims
    stores.index.delete(gone)
    stories = stores.story_store.forget(gone)
    if stores.stories is not None:
        stores.stories.forget(gone, stories)
    reshown = stores.near_duplicates.forget(gone)  # copies hidden behind a retired one
    if reshown and stores.stories is not None:
        stores.stories.mark_copies(reshown)
    log.info("replaced", doc_ids=gone, sources=sorted(s for s, old in replaced.items() if old in gone))


def _write_tables(docs: list[Document], stores: Stores, refused: list[tuple[str, str]]) -> list[Document]:
    """One write each to the index, the stories and the claims; returns the documents
    written (for a document the index refuses, (source, reason) is added to `refused`)."""
    docs = _write_claims(docs, stores)  # first: the documents index shows each claim's group
    stories, store = stores.stories, stores.story_store
    # Labels of the documents each placement moved, the document's own included, which
    # the index writes with its body (none when stories are not kept).
    components = {doc.id: store.component_labels(doc.id) for doc in docs} if stories is not None else {}
    own = {d: labels[d] for d, labels in components.items() if d in labels}
    rejected = dict(stores.index.write(docs, own))
    refused += [
        (doc.source, f"index rejected the document: {rejected[doc.id]}") for doc in docs if doc.id in rejected
    ]
    if rejected:  # a refused document keeps no claims in the claims table either
        _write_claims([replace(doc, claims=()) for doc in docs if doc.id in rejected], stores)
    docs = [doc for doc in docs if doc.id not in rejected]
    if stories is not None:  # stories table or index, regrouped on write
        stories.update_many([(doc, components[doc.id]) for doc in docs])
        # A newer copy processed at the same time may have replaced some of these before
        # they were written (its write found no row to mark): mark them now.
        shown_of = stores.near_duplicates.shown_instead([doc.id for doc in docs])
        stories.mark_copies(
            {d.id: shown_of[d.id] for d in docs if d.id in shown_of and shown_of[d.id] != d.duplicate_of}
        )
    return docs


def _write_claims(docs: list[Document], stores: Stores) -> list[Document]:
    """Plan what `docs` change in the claim groups (once, for the batch), persist the plan
    in the claims table or index, and return `docs` with their claims' groups (as of this
    batch: a later one may move them; the claims table keeps the current ones)."""
    if (claims := stores.claims) is None:
        return docs
    with stores.claim_groups.planning(docs) as plan:
        claims.apply(plan)
    return stamped(docs, plan.fields)
