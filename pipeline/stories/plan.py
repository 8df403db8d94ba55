"""What a batch changes in the stories: labels on documents, and which records to rebuild (pure).

Both index back-ends (pipeline/sqlite/stories.py, pipeline/elastic/stories.py) read
their inputs, call these functions and persist what they return: the rules live here
once, so the embedded table and Elasticsearch cannot drift apart.

`plan_stories(items, stored, copies=...)`:
  items    each written document with the story labels of its component, as the story
           store gave them (doc -> (generation, story id), `StoryStore.component_labels`);
  stored   the labels the back-end holds, for the ids it can write: id -> (gen, story),
           or None when it holds the document without a label yet. An id left out is
           not written yet: nothing is decided about it now (its own write will be);
  copies   copy -> the copy search shows instead (`duplicate_of`), beside the ones the
           documents' own `versions` imply.
The rules, applied in the order of `items`, each seeing the labels the ones before set:
  * a label already stored is not written again (the index writes a document's label
    with its body: `DocumentIndex.write(docs, labels)`);
  * generation guard: a label older than the stored one is not applied (placements are
    serialised by the story store, writers are not: they may finish in any order);
  * newer placement, own row rewritten: the document just written carried the story it
    was given when processed; if the stored label is newer, the stored story goes back
    on the document (`restore`);
  * members that stay: a document of the component whose story did not change needs no
    rewrite, only its newer generation (`gens`), and its story no rebuild;
  * a document that moves (or is new, or is the one just written) gets the label
    (`labels`), and its old and new stories are rebuilt;
  * the story of every written document is rebuilt (its summary changed), and so is the
    story of every copy marked.

`story_records(members)`: story -> its record (`to_story_record` over the summaries of
its members that are written), or None when none is: the record goes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.document import Document
from pipeline.stories.record import story_member, to_story_record

Label = tuple[int, str]  # (the story store's generation that said so, story id)


@dataclass(frozen=True, kw_only=True)
class StoryPlan:
    """What to write: labels, generations, restored stories, summaries, copies, rebuilds."""

    labels: dict[str, Label] = field(default_factory=dict)  # moved, new, or just written
    gens: dict[str, Label] = field(default_factory=dict)  # same story, newer generation
    restore: dict[str, str] = field(default_factory=dict)  # just written; a newer story is stored
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # written: their summaries
    copies: dict[str, str] = field(default_factory=dict)  # copy -> the copy shown instead
    rebuild: frozenset[str] = frozenset()  # stories whose record must be rebuilt


def plan_stories(
    items: Sequence[tuple[Document, Mapping[str, Label]]],
    stored: Mapping[str, Label | None],
    *,
    copies: Mapping[str, str] | None = None,
) -> StoryPlan:
    """The plan for a batch (see the module docstring for the rules)."""
    now: dict[str, Label | None] = dict(stored)
    labels: dict[str, Label] = {}
    gens: dict[str, Label] = {}
    restore: dict[str, str] = {}
    members: dict[str, dict[str, Any]] = {}
    marks = dict(copies or {})
    rebuild: set[str] = set()
    for doc, component in items:
        for doc_id, (gen, story) in sorted(component.items()):
            if doc_id not in now:
                continue  # not written yet: its own write labels it
            row, own = now[doc_id], doc_id == doc.id
            if row == (gen, story):  # there already (the index wrote it with the body)
                continue
            if row is not None and row[0] > gen:  # a newer placement already labelled it
                if own:  # but the document was just rewritten with the story it carried
                    restore[doc_id] = row[1]
                continue
            if row is not None and row[1] == story and not own:
                if row[0] != gen:  # stays where it was: only the generation moves on
                    gens[doc_id] = now[doc_id] = (gen, story)
                continue
            if row is not None:
                rebuild.add(row[1])
            rebuild.add(story)
            labels[doc_id] = now[doc_id] = (gen, story)
            gens.pop(doc_id, None)
        members[doc.id] = story_member(doc)
        marks.update({version: doc.id for version in doc.versions})
    for doc_id, row in now.items():
        if row is not None and (doc_id in members or doc_id in marks):
            rebuild.add(row[1])  # a summary changed: a document written, a copy marked
    marks = {copy: shown for copy, shown in sorted(marks.items()) if copy in now}
    for copy, shown in marks.items():
        if copy in members:
            members[copy]["duplicate_of"] = shown
    return StoryPlan(
        labels=labels,
        gens=gens,
        restore={d: s for d, s in restore.items() if d not in labels},
        members=members,
        copies=marks,
        rebuild=frozenset(rebuild),
    )


def story_records(members: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, dict[str, Any] | None]:
    """story -> its record over the summaries (or bodies) of its written members; None
    when it has none (the record is deleted)."""
    return {
        story: to_story_record(story, summaries) if summaries else None
        for story, summaries in sorted(members.items())
    }
