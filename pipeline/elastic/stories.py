"""Stories in Elasticsearch: story records in <prefix>-stories, and story ids on the
documents (does I/O).

The same job as the embedded stories table (pipeline/sqlite/stories.py). Elasticsearch
has no transactions: writes wait for a refresh before the rebuild reads them, and two
workers rebuilding the same story at the same moment may leave the older result until
that story's next write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeline.document import Document
from pipeline.elastic.client import translated_errors
from pipeline.elastic.documents import ElasticIndex
from pipeline.elastic.records import from_es_source
from pipeline.errors import BadInput


class ElasticStories:
    """Story records in <prefix>-stories, and story ids on the documents."""

    def __init__(self, index: ElasticIndex) -> None:
        self.index = index

    def update_many(self, items: Sequence[tuple[Document, Mapping[str, tuple[int, str]]]]) -> None:
        for doc, labels in items:
            self.update(doc, labels)

    def update(self, doc: Document, labels: Mapping[str, tuple[int, str]]) -> None:
        """Apply story labels (doc -> (generation, story id)) and `doc`'s versions."""
        self._apply(labels, {v: doc.id for v in doc.versions})

    def mark_copies(self, shown_of: Mapping[str, str]) -> None:
        """Point each copy (key) at the copy search shows instead (value); copies not
        indexed yet are left alone: their own index task asks the near-duplicate store
        (`NearDuplicates.shown_instead`) after writing them."""
        self._apply({}, shown_of)

    def _apply(self, labels: Mapping[str, tuple[int, str]], shown_of: Mapping[str, str]) -> None:
        ids = sorted(set(labels) | set(shown_of))
        if not ids:
            return
        with translated_errors("stories update"):
            found = self.index.es.mget(
                index=self.index.alias(), ids=ids, source_includes=["story_id", "story_gen"]
            )["docs"]
        stored = {d["_id"]: d["_source"] for d in found if d.get("found")}
        touched: set[str] = set()
        actions = []
        for doc_id, (gen, story) in sorted(labels.items()):
            current = stored.get(doc_id)
            if current is None or (current.get("story_gen") or 0) > gen:
                continue  # not indexed yet (its own index task labels it), or a newer grouping won
            touched |= {story, current.get("story_id") or story}
            actions.append(self._update(doc_id, {"story_id": story, "story_gen": gen}))
        for copy, shown in sorted(shown_of.items()):
            if copy in stored:  # an older version or a copy: search lists the shown one only
                touched.add(stored[copy].get("story_id") or "")
                actions.append(self._update(copy, {"duplicate_of": shown}))
        refused = self.index.refreshing().bulk(actions)
        if refused:
            raise BadInput(f"documents index refused a story update: {refused[0][1]}")
        for story in sorted(touched - {""}):
            self._rebuild(story)

    def _update(self, doc_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return {"_op_type": "update", "_index": self.index.alias(), "_id": doc_id, "doc": change}

    def _rebuild(self, story: str) -> None:
        from pipeline.stories.record import to_story_record

        bodies = [
            {**from_es_source(d), "raw_text": ""}
            for d in self.index.scan("documents", {"term": {"story_id": story}})
        ]
        if not bodies:
            with translated_errors("stories update"):
                self.index.es.options(ignore_status=404).delete(index=self.index.alias("stories"), id=story)
            return
        self.index.write_records("stories", [to_story_record(story, bodies)])

    def all(self) -> Iterator[dict[str, Any]]:
        """Every story record, the biggest first, then the most recent."""
        records = [from_es_source(r, "stories") for r in self.index.scan("stories", {"match_all": {}})]
        records.sort(key=lambda r: r["id"])
        records.sort(key=lambda r: r["last_seen"], reverse=True)
        yield from sorted(records, key=lambda r: -r["n_documents"])

    def get(self, story_id: str) -> dict[str, Any] | None:
        return self.index.get(story_id, kind="stories")

    def story_of(self, doc_id: str) -> str:
        body = self.index.get(doc_id)
        return str(body.get("story_id", "")) if body else ""
