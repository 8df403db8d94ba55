"""A story store's history and the index tasks that write it, in any interleaving, for the
stories writers' out-of-order tests (SQLite and Elasticsearch alike)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from pipeline.document import Document
from tests.factories import make_claim, make_document, make_entity

Label = tuple[int, str]


class HandLabels:
    """The story store as ElasticStories reads it, for labels given by hand (shared, so
    they may change under it): a story's members are the documents labelled with it;
    rebuild numbers grow (microseconds, as the store's do)."""

    def __init__(self, labels: dict[str, Label]) -> None:
        self.given = labels

    def labels(self, doc_ids: Iterable[str]) -> dict[str, Label]:
        return {d: self.given[d] for d in doc_ids if d in self.given}

    def changed_stories(self, doc_ids: Sequence[str]) -> set[str]:
        return {self.given[d][1] for d in doc_ids if d in self.given}

    def rebuild_view(self, stories: Sequence[str]) -> tuple[int, dict[str, list[str]]]:
        time.sleep(0.001)
        return time.time_ns() // 1000, {
            s: sorted(d for d, (_, story) in self.given.items() if story == s) for s in stories
        }


# Each placement: the document placed, and the stories of its component after it
# (document -> story). A alone; B joins A; C arrives and splits B off with it; N, a newer
# version of A (A becomes its copy), joins A's story. As in the story store, a placement
# labels, with the next generation, the document placed and those it moves.
PLACEMENTS = (
    ("a", {"a": "a"}),
    ("b", {"a": "a", "b": "a"}),
    ("c", {"a": "a", "b": "b", "c": "b"}),
    ("n", {"a": "a", "n": "a"}),
)
COPY, SHOWN = "a", "n"


class World(HandLabels):
    """The story store going through PLACEMENTS, one `place` at a time."""

    def __init__(self, tag: str) -> None:
        super().__init__({})
        self.tag = tag
        self.changed: dict[str, set[str]] = {}
        self.relabelled: dict[int, list[str]] = {}
        self.placed = 0

    def id(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def story(self, name: str) -> str:
        return f"s-{self.tag}-{name}"

    def document(self, i: int) -> Document:
        """The document of placement `i` as it was processed: with the story it was given."""
        name, labels = PLACEMENTS[i]
        return make_document(
            f"{self.tag} {name}",
            id=self.id(name),
            title=f"{name} title",
            outlet=name,
            entities=(make_entity("Mark Rutte"), make_entity(name, "GPE")),
            claims=(make_claim(f"{name} said so"),),
            versions=(self.id(COPY),) if name == SHOWN else (),
            story_id=self.story(labels[name]),
        )

    def place(self, i: int) -> None:
        name, labels = PLACEMENTS[i]
        before = self.members()
        moved = {
            self.id(d): (i + 1, self.story(s))
            for d, s in labels.items()
            if d == name or self.given.get(self.id(d), (0, ""))[1] != self.story(s)
        }
        self.given.update(moved)
        self.relabelled[i] = sorted(moved)
        after = self.members()
        self.changed[self.id(name)] = {s for s in {*before, *after} if before.get(s) != after.get(s)}
        self.placed = i + 1

    def members(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for d, (_, s) in self.given.items():
            out.setdefault(s, set()).add(d)
        return out

    def component_labels(self, i: int) -> dict[str, Label]:
        """What the index task of placement `i` reads: the labels, now, of the documents
        that placement labelled."""
        return self.labels(self.relabelled[i])

    def changed_stories(self, doc_ids: Sequence[str]) -> set[str]:
        return {s for d in doc_ids for s in self.changed.get(d, ())}

    def shown_instead(self, doc_id: str) -> dict[str, str]:
        """NearDuplicates.shown_instead: the copy is known once N was placed."""
        copy = self.id(COPY)
        return {copy: self.id(SHOWN)} if doc_id == copy and self.placed == len(PLACEMENTS) else {}


def schedules(n: int, seed: int = 15) -> Iterator[list[tuple[str, int]]]:
    """`n` interleavings of the placements (in order) and of each index task's two halves:
    "read" (read the component's labels, then write the body with its own) after its placement, and
    "write" (plan and write the stories, then mark late copies) some time after that.
    The first is every task right after its placement; the others are random."""
    rng = random.Random(seed)
    yield [(step, i) for i in range(len(PLACEMENTS)) for step in ("place", "read", "write")]
    for _ in range(n - 1):
        done: list[tuple[str, int]] = []
        ready = [("place", 0)]
        while ready:
            step, i = ready.pop(rng.randrange(len(ready)))
            done.append((step, i))
            if step == "place":
                ready.append(("read", i))
                if i + 1 < len(PLACEMENTS):
                    ready.append(("place", i + 1))
            elif step == "read":
                ready.append(("write", i))
        yield done


def with_sources(doc: Document, *more: str) -> Document:
    return replace(doc, sources=(*doc.sources, *more))
