"""Stories in Elasticsearch: story records in <prefix>-stories, and story ids on the
documents (does I/O).

The same job as the embedded stories table (pipeline/sqlite/stories.py), with the same
planner (pipeline/stories/plan.py); Elasticsearch has no transactions, so each write
carries its own guard, and nothing waits for a refresh:

* inputs are read in real time only: the documents' stored labels and member summaries
  by id (`mget`), a story's members from the story store in Redis (`rebuild_view`),
  never from a search (a search sees writes only after a refresh);
* a label is applied by a script only if its generation is newer than the stored one
  (`_LABEL`), and a document's body write keeps a stored label (`KEEP_STORY` in
  documents.py), so labels applied in any order end at the newest;
* a story record is written with Elasticsearch's external versioning, the version being
  the rebuild number the story store gave when its members were read: of two rebuilds
  of one story, the one that read later wins, whichever lands last. A rebuild follows
  every change to a record's inputs (the stories each placement changed, the story of
  every document written and every copy marked), so the last one reads them all;
* a version conflict on a label or a body (two writers of one document) is retried by
  Elasticsearch (`retry_on_conflict`), then by the task (TransientError), never
  recorded as bad input; one on a record means a later rebuild is already there.
A deleted record's version is remembered for `index.gc_deletes` (60 s by default): a
rebuild whose write lands later than that after its read could bring back an emptied
story, until that story's next change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from pipeline.document import Document
from pipeline.elastic.client import translated_errors
from pipeline.elastic.documents import RETRY_ON_CONFLICT, ElasticIndex
from pipeline.elastic.records import from_es_source, now_iso
from pipeline.errors import BadInput
from pipeline.stories.plan import Label, plan_stories, story_records
from pipeline.stories.record import MEMBER_FIELDS

Labels = Mapping[str, Label]
_MGET = 1_000  # ids per mget request
# A label: applied only when newer than the one stored (a slower writer's is dropped).
_LABEL = """
if (ctx._source.story_gen == null || ((Number) ctx._source.story_gen).longValue() < params.gen) {
  ctx._source.story_id = params.story; ctx._source.story_gen = params.gen;
} else { ctx.op = 'noop'; }
"""


class StoryMembers(Protocol):
    """What the writer reads of the story store (pipeline/redis/story_store.StoryStore)."""

    def labels(self, doc_ids: Iterable[str]) -> dict[str, Label]: ...

    def changed_stories(self, doc_ids: Sequence[str]) -> set[str]: ...

    def rebuild_view(self, stories: Sequence[str]) -> tuple[int, dict[str, list[str]]]: ...


class ElasticStories:
    """Story records in <prefix>-stories, and story ids on the documents.

    `members`: the story store, which writing needs (reading does not)."""

    def __init__(self, index: ElasticIndex, members: StoryMembers | None = None) -> None:
        self.index = index
        self.members = members

    # -- writing -------------------------------------------------------------
    def update(self, doc: Document, labels: Labels) -> None:
        """Apply story labels (doc -> (generation, story id)) and `doc`'s versions."""
        self.update_many([(doc, labels)])

    def update_many(self, items: Sequence[tuple[Document, Labels]]) -> None:
        """`update` for each (document, labels): one mget, one bulk of label updates, one
        rebuild of every story touched."""
        self._write(items, {})

    def mark_copies(self, shown_of: Mapping[str, str]) -> None:
        """Point each copy (key) at the copy search shows instead (value); copies not
        indexed yet are left alone: their own index task asks the near-duplicate store
        (`NearDuplicates.shown_instead`) after writing them."""
        if shown_of:
            self._write([], shown_of)

    def forget(self, doc_ids: Sequence[str], stories: Iterable[str] = ()) -> None:
        """Documents taken out of their stories (replaced by a new version of their source,
        gone from the story store and the documents index): rebuild `stories`, the ones the
        story store says they were in, from the members left."""
        self.rebuild(set(stories) - {""})

    def _write(self, items: Sequence[tuple[Document, Labels]], shown_of: Mapping[str, str]) -> None:
        store = self._store()
        ids = sorted(
            {d for _, labels in items for d in labels}
            | set(shown_of)
            | {v for doc, _ in items for v in doc.versions}
            | {doc.id for doc, _ in items}
        )
        stored: dict[str, Label | None] = {}  # the documents indexed, with their labels
        for source in self._mget(ids, ["story_id", "story_gen"]).values():
            gen = source.get("story_gen")
            stored[source["_id"]] = (int(gen), str(source.get("story_id") or "")) if gen else None
        plan = plan_stories(items, stored, copies=shown_of)
        # `restore` needs no write here: the body write kept the newer stored label.
        actions = [
            self._update(d, {"script": {"source": _LABEL, "params": {"gen": gen, "story": story}}})
            for d, (gen, story) in sorted({**plan.gens, **plan.labels}.items())
        ]
        actions += [
            self._update(copy, {"doc": {"duplicate_of": shown}}) for copy, shown in plan.copies.items()
        ]
        self._bulk(actions)
        rebuild = set(plan.rebuild) | store.changed_stories([doc.id for doc, _ in items])
        # A copy's summary changed: its story now (read after the mark) lists it.
        rebuild |= {story for _, story in store.labels(plan.copies).values()}
        self.rebuild(rebuild - {""})

    def rebuild(self, stories: Iterable[str]) -> None:
        """Rebuild the records of `stories` from their members in the story store and the
        members' summaries (their written ones): reads a story's members only."""
        wanted = sorted(stories)
        if not wanted:
            return
        number, members = self._store().rebuild_view(wanted)
        found = self._mget(sorted({m for ms in members.values() for m in ms}), list(MEMBER_FIELDS))
        records = story_records(
            {s: [from_es_source(found[m]) for m in ms if m in found] for s, ms in members.items()}
        )
        alias, at = self.index.alias("stories"), now_iso()
        versioned = {"version": number, "version_type": "external"}
        actions = [
            {"_op_type": "delete", "_index": alias, "_id": story, **versioned}
            if record is None
            else {**self.index.record_actions("stories", [record], indexed_at=at)[0], **versioned}
            for story, record in records.items()
        ]
        self._bulk(actions, done=(404, 409))  # gone already; a later rebuild is there

    def _store(self) -> StoryMembers:
        if self.members is None:
            raise TypeError("ElasticStories needs the story store to write: ElasticStories(index, store)")
        return self.members

    def _mget(self, ids: Sequence[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """id -> its stored source (`fields` of it, and `_id`), for the documents indexed."""
        found = {}
        for at in range(0, len(ids), _MGET):
            with translated_errors("stories update"):
                docs = self.index.es.mget(
                    index=self.index.alias(), ids=list(ids[at : at + _MGET]), source_includes=fields
                )["docs"]
            found.update({d["_id"]: {**d["_source"], "_id": d["_id"]} for d in docs if d.get("found")})
        return found

    def _update(self, doc_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return {
            "_op_type": "update",
            "_index": self.index.alias(),
            "_id": doc_id,
            "retry_on_conflict": RETRY_ON_CONFLICT,
            **change,
        }

    def _bulk(self, actions: list[dict[str, Any]], *, done: tuple[int, ...] = ()) -> None:
        refused = self.index.bulk(actions, done=done)
        if refused:
            raise BadInput(f"the index refused a story update: {refused[0][1]}")

    # -- reading -------------------------------------------------------------
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
