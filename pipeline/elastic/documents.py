"""The Elasticsearch index: bulk writes, get, scan, count, search, through aliases (does I/O).

Same interface as `SqliteIndex` (write, get, count, iter_all, search), so the tasks and
the command line do not care which backend they talk to. Layout on the cluster:

    alias <prefix>-documents -> index <prefix>-documents-v1  (config/elasticsearch/documents.json)
    alias <prefix>-claims    -> index <prefix>-claims-v1     (claims.json)
    alias <prefix>-stories   -> index <prefix>-stories-v1    (stories.json)

Every write goes through the alias (`require_alias`, so a write before `newsflow es setup`
can never auto-create an unmapped index), which is what lets `reindex` build `-v2` and
switch the alias in one atomic step.

Errors: an unreachable cluster, a timeout, a 429 or a 5xx raise `TransientError`
(client.py); a document the cluster refuses (mapping conflict, strict mapping) comes
back from `write` as (id, reason) with Elasticsearch's own reason, and never blocks the
rest of the batch. A 429 on single items is first retried inside the bulk helper with
exponential backoff.

Works with an 8.x or 9.x cluster when the client's major version matches the cluster's
(`pip install "elasticsearch>=8.12,<9"` for an 8.x cluster): only APIs present in both
client lines are used.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError, helpers

from pipeline.document import Document
from pipeline.elastic.client import cluster_urls, error_reason, translated_errors
from pipeline.elastic.records import (
    DEFAULT_PREFIX,
    alias_name,
    from_es_source,
    now_iso,
    to_es_body,
    to_es_record,
)
from pipeline.elastic.search import name_pairs, names_request, search_hits, search_request
from pipeline.errors import BadInput, TransientError
from pipeline.search.plan import plan
from pipeline.search.query import parse
from pipeline.stores import Labels

# A document is written with its story label (story_id with its story_gen) as the story
# store gives it now; a label stored since (pipeline/elastic/stories.py) may be newer.
# The body replaces everything else; a newer stored label stays.
KEEP_STORY = """
def story = ctx._source.story_id; def gen = ctx._source.story_gen; def mine = params.body.story_gen;
ctx._source.clear(); ctx._source.putAll(params.body);
if (gen != null && (mine == null || ((Number) gen).longValue() > ((Number) mine).longValue())) {
  ctx._source.story_id = story; ctx._source.story_gen = gen;
}
"""
# Scripted updates of one document by two workers at once: Elasticsearch re-reads and
# reapplies the script this many times before it answers 409 (then retried by the task).
RETRY_ON_CONFLICT = 5


def _labelled(doc: Document, labels: Labels | None, stamp: str) -> dict[str, Any]:
    body = to_es_body(doc, indexed_at=stamp)
    if labels and doc.id in labels:
        body["story_gen"], body["story_id"] = labels[doc.id]
    return body


class ElasticIndex:
    """Documents (and claim and story records) in Elasticsearch, through aliases."""

    def __init__(
        self,
        es: Elasticsearch,
        *,
        prefix: str = DEFAULT_PREFIX,
        chunk_size: int = 500,
        chunk_bytes: int = 10_000_000,
        retries_429: int = 3,
        refresh: bool = False,
    ) -> None:
        self.es = es
        self.prefix = prefix
        self.chunk_size = chunk_size
        self.chunk_bytes = chunk_bytes
        self.retries_429 = retries_429
        # "wait_for" makes a write visible to search before it returns (tests, `run`).
        self.refresh: str | bool = "wait_for" if refresh else False

    def refreshing(self) -> ElasticIndex:
        """The same index whose writes wait until they are visible to search."""
        return ElasticIndex(
            self.es,
            prefix=self.prefix,
            chunk_size=self.chunk_size,
            chunk_bytes=self.chunk_bytes,
            retries_429=self.retries_429,
            refresh=True,
        )

    def alias(self, kind: str = "documents") -> str:
        return alias_name(self.prefix, kind)

    def close(self) -> None:
        self.es.close()

    # -- writing -------------------------------------------------------------
    def create_actions(
        self, docs: Sequence[Document], *, indexed_at: str | None = None, labels: Labels | None = None
    ) -> list[dict[str, Any]]:
        """The bulk actions that create `docs` where they are not indexed yet (pure), each
        with its story label from `labels` where there is one: one plain write each, where
        `bulk_actions` costs the node a read, a script and a copy of the body."""
        stamp = indexed_at or now_iso()
        return [
            {
                "_op_type": "create",
                "_index": self.alias("documents"),
                "_id": doc.id,
                "_source": _labelled(doc, labels, stamp),
            }
            for doc in docs
        ]

    def bulk_actions(
        self, docs: Sequence[Document], *, indexed_at: str | None = None, labels: Labels | None = None
    ) -> list[dict[str, Any]]:
        """The bulk actions that write `docs` (pure; JSON-safe, see the unit tests), each
        with its story label from `labels` where there is one: each replaces the whole
        stored body (`KEEP_STORY`), but for a newer story label it holds."""
        stamp = indexed_at or now_iso()
        return [
            {
                "_op_type": "update",
                "_index": self.alias("documents"),
                "_id": doc.id,
                "retry_on_conflict": RETRY_ON_CONFLICT,
                "scripted_upsert": True,
                "upsert": {},
                "script": {"source": KEEP_STORY, "params": {"body": _labelled(doc, labels, stamp)}},
            }
            for doc in docs
        ]

    def record_actions(
        self, kind: str, records: Iterable[Mapping[str, Any]], *, indexed_at: str | None = None
    ) -> list[dict[str, Any]]:
        """Bulk actions for claim or story records (each with an `id`)."""
        stamp = indexed_at or now_iso()
        return [
            {
                "_op_type": "index",
                "_index": self.alias(kind),
                "_id": str(record["id"]),
                "_source": to_es_record(record, indexed_at=stamp),
            }
            for record in records
        ]

    def write(self, docs: Sequence[Document], labels: Labels | None = None) -> list[tuple[str, str]]:
        """Upsert documents by id, each with its story label now (`labels`, unless the
        index holds a newer one). Returns (doc id, Elasticsearch's reason) for any refused.
        Most documents are new: they are created; the ones indexed already (written again:
        a rename, a copy's sources, a retried batch; `create` answers 409) are then
        replaced by the script that keeps a newer stored label."""
        stamp = now_iso()
        indexed: list[str] = []
        refused = self.bulk(self.create_actions(docs, labels=labels, indexed_at=stamp), conflicts=indexed)
        if again := [doc for doc in docs if doc.id in set(indexed)]:
            refused += self.bulk(self.bulk_actions(again, labels=labels, indexed_at=stamp))
        return refused

    def delete(self, doc_ids: Sequence[str]) -> None:
        """Remove documents; ids not here are ignored."""
        refused = self.bulk(
            [{"_op_type": "delete", "_index": self.alias("documents"), "_id": doc_id} for doc_id in doc_ids],
            done=(404,),
        )
        if refused:
            raise BadInput(f"the index refused to delete a document: {refused[0][1]}")

    def set_sources(self, sources: Mapping[str, Sequence[str]]) -> None:
        """Replace each document's sources (doc id -> sources), where it is indexed."""
        refused = self.bulk(
            [
                {
                    "_op_type": "update",
                    "_index": self.alias("documents"),
                    "_id": doc_id,
                    "retry_on_conflict": RETRY_ON_CONFLICT,
                    "doc": {"sources": list(srcs)},
                }
                for doc_id, srcs in sources.items()
            ],
            done=(404,),
        )
        if refused:
            raise BadInput(f"the index refused a document's sources: {refused[0][1]}")

    def write_records(self, kind: str, records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
        """Upsert claim or story records by id; returns (id, reason) for any refused."""
        return self.bulk(self.record_actions(kind, records))

    def bulk(
        self,
        actions: Iterable[dict[str, Any]],
        *,
        done: Collection[int] = (),
        conflicts: list[str] | None = None,
    ) -> list[tuple[str, str]]:
        """Stream `actions` in bounded chunks; return refused items, raise on transient faults.

        An item refused with 429 or 5xx after the helper's own retries, a version conflict
        (409: a concurrent write of the same record, after the update's own retries), or
        written before `es setup` created the alias, makes the whole call raise
        TransientError once the other items are written: the retry writes everything
        again, harmlessly, since each write replaces the record with the same id.
        `done`: statuses that count as written here (a versioned write that lost to a
        newer one, 409; a delete of what is gone, 404). `conflicts`, when given, collects
        the ids answered 409 instead (a `create` of what exists), for the caller to write.
        """
        rejected: list[tuple[str, str]] = []
        transient: list[str] = []
        with translated_errors("bulk write", es=self.es):
            for ok, item in helpers.streaming_bulk(
                self.es,
                actions,
                chunk_size=self.chunk_size,
                max_chunk_bytes=self.chunk_bytes,
                raise_on_error=False,
                raise_on_exception=True,
                max_retries=self.retries_429,
                initial_backoff=1,
                max_backoff=30,
                require_alias=True,
                refresh=self.refresh,
            ):
                result = next(iter(item.values()))
                status = int(result.get("status") or 0)
                if ok or status in done:
                    continue
                if status == 409 and conflicts is not None:
                    conflicts.append(str(result.get("_id")))
                    continue
                reason = error_reason(result.get("error"))
                if status in (409, 429) or status >= 500 or "index_not_found" in reason:
                    transient.append(f"{result.get('_id')}: {status} {reason}")
                else:
                    rejected.append((str(result.get("_id")), reason))
        if transient:
            raise TransientError(
                f"{len(transient)} item(s) not written to elasticsearch at {cluster_urls(self.es)},"
                f" will retry: {transient[0]}"
            )
        return rejected

    # -- reading -------------------------------------------------------------
    def get(self, doc_id: str, kind: str = "documents") -> dict[str, Any] | None:
        with translated_errors("get"):
            try:
                found = self.es.get(index=self.alias(kind), id=doc_id)
                return from_es_source(found["_source"], kind)
            except NotFoundError:
                pass
            if len(doc_id) < 6:
                return None
            # accept a unique prefix, as git (and SqliteIndex) do; a search sees the index as
            # of its last refresh, so it only names the id, which is then read in real time
            # (a record deleted since that refresh is not brought back)
            found = self.es.search(
                index=self.alias(kind), query={"prefix": {"id": doc_id}}, size=2, source=False
            )
        hits = found["hits"]["hits"]
        if len(hits) != 1 or hits[0]["_id"] == doc_id:
            return None
        return self.get(hits[0]["_id"], kind)

    def scan(self, kind: str, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every record of `kind` matching `query`, as stored (ES-only fields included)."""
        with translated_errors("scan"):
            for hit in helpers.scan(self.es, index=self.alias(kind), query={"query": query}):
                yield hit["_source"]

    def count(self, kind: str = "documents") -> int:
        with translated_errors("count"):
            return int(self.es.count(index=self.alias(kind))["count"])

    def iter_all(self, kind: str = "documents") -> Iterator[dict[str, Any]]:
        """Every record of `kind` by id, as `SqliteIndex.iter_all` (`newsflow export`) lists them."""
        query = {"query": {"match_all": {}}, "sort": [{"id": "asc"}]}
        with translated_errors("scan"):
            for hit in helpers.scan(self.es, index=self.alias(kind), query=query, preserve_order=True):
                yield from_es_source(hit["_source"], kind)

    def search(self, query: str, *, limit: int = 10, duplicates: bool = False) -> list[dict[str, Any]]:
        """Search in the query language of pipeline/search/query.py, as `SqliteIndex.search`:
        each hit has id, title, outlet, score, snippet, sources, story_id; documents that
        mention an entity the query names come first. Raises QueryError for a query that
        cannot run."""
        request = search_request(plan(parse(query), self), limit=limit, duplicates=duplicates)
        with translated_errors("search"):
            found = self.es.search(index=self.alias(), **request)
        return search_hits(found.body)

    # -- names (pipeline/search/plan.NameIndex) ------------------------------
    NAMES_PER_LOOKUP = 10_000

    def with_entities(self, keys: Iterable[str]) -> list[str]:
        """Ids of the documents that mention any of these entities (`kind:canonical`)."""
        keys = sorted(set(keys))
        if not keys:
            return []
        query = {"query": {"terms": {"entity_keys": keys}}, "_source": False}
        with translated_errors("scan"):
            return sorted(
                hit["_id"] for hit in helpers.scan(self.es, index=self.alias("documents"), query=query)
            )

    def lookup(self, forms: Collection[str]) -> dict[str, set[str]]:
        """Lookup form -> the entity keys indexed documents know it for."""
        return self._names("form", forms, by_form=True)

    def forms_of(self, keys: Collection[str]) -> dict[str, set[str]]:
        """Entity key -> every lookup form documents wrote it in."""
        return self._names("key", keys, by_form=False)

    def _names(self, pattern_of: str, values: Collection[str], *, by_form: bool) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        if not values:
            return found
        request = names_request("name_keys", pattern_of, values, self.NAMES_PER_LOOKUP)
        with translated_errors("search"):
            response = self.es.search(index=self.alias(), **request)
        for form, key in name_pairs(response.body):
            if by_form:
                found.setdefault(form, set()).add(key)
            else:
                found.setdefault(key, set()).add(form)
        return found
