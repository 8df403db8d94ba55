"""Places, organisations and preferred spellings spaCy's small model does not know (pure).

The data is pipeline/data/gazetteer.json, read once from the installed package
(the only file this module touches). Look-ups are by folded name, so "Nato",
"NATO" and "the North Atlantic Alliance" all find NATO.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from pipeline.entities.names import fold, person_parts, skeleton, thing_name


@dataclass(frozen=True, slots=True)
class Gazetteer:
    things: dict[str, tuple[str, str]]  # folded name -> (canonical, label)
    people: dict[tuple[str, str], str]  # (first skeleton, last skeleton) -> preferred spelling
    heads: dict[str, frozenset[str]] = field(default_factory=dict)  # see `short_for`

    def short_for(self, name: str) -> frozenset[str]:
        """The organisations a one-word name may stand for, as the last word of one of
        their names ("Alliance": NATO, for "the North Atlantic Alliance")."""
        return self.heads.get(fold(thing_name(name)), frozenset())

    def thing(self, name: str) -> tuple[str, str] | None:
        """(canonical, label) of a known place or organisation, else None."""
        return self.things.get(fold(thing_name(name)))

    def person(self, name: str) -> str | None:
        """The preferred spelling of a well-known person's full name, else None."""
        parts = person_parts(name)
        if parts is None:
            return None
        return self.people.get((skeleton(parts[0]), skeleton(parts[1])))


@cache
def load_gazetteer() -> Gazetteer:
    raw = json.loads(resources.files("pipeline").joinpath("data/gazetteer.json").read_text("utf-8"))
    things: dict[str, tuple[str, str]] = {}
    for label in ("GPE", "LOC", "ORG"):
        for name in raw[label]:
            things[fold(name)] = (name, label)
    for alias, target in raw["aliases"].items():
        things.setdefault(fold(thing_name(alias)), things[fold(target)])
    people: dict[tuple[str, str], str] = {}
    for preferred, variants in raw["people"].items():
        for name in (preferred, *variants):
            parts = person_parts(name)
            if parts is not None:
                people[(skeleton(parts[0]), skeleton(parts[1]))] = preferred
    heads: dict[str, set[str]] = {}
    for folded, (canonical, label) in things.items():
        if label == "ORG" and " " in folded:
            heads.setdefault(folded.rsplit(" ", 1)[1], set()).add(canonical)
    return Gazetteer(
        things=things, people=people, heads={word: frozenset(names) for word, names in heads.items()}
    )
