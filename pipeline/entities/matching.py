"""Many documents: does an entity of this document match one the registry knows? (pure)

The registry (pipeline/redis/entity_registry.py) finds candidates through
lookup keys, loads them as `Known` records and asks `decide`. The rules, strongest
first; the first that finds a candidate decides:

1. Same name. A person's full name matches when first and last names are the same
   up to transliteration: equal consonant skeletons and similar spellings
   (Andriy Sibiga = Andrii Sybiha, Vladimir = Volodymyr). Two full names with the
   same surname and different first names are never merged, whatever the context
   (siblings, spouses). Organisations and places match on the folded name (case,
   accents, "the", UK/US spelling), after the gazetteer has mapped exonyms and
   abbreviations (Kiev -> Kyiv, Nato -> NATO).
2. A short name with support from the context. A surname alone ("Sibiga" with no
   first name in the document) joins a known person with that surname, an acronym
   joins a known organisation with those initials, and "Saints" joins "New Orleans
   Saints", only when the document shares at least MIN_CONTEXT other entities with
   that candidate's earlier documents; among several, the one with most shared
   context wins, and a tie is not decided.
3. Otherwise a surname alone joins a known entry of just that surname (the same
   string), and anything else is a new entity.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.entities.local import GENERIC, LocalEntity
from pipeline.entities.names import (
    acronym,
    fold,
    is_acronym,
    person_parts,
    similar,
    skeleton,
    surname,
    words,
)


def _fitted() -> dict[str, Any]:
    """Parameters fitted on other data, replacing the shipped ones (NEWSFLOW_FITTED_PARAMS,
    a JSON file's "entities" object: set by bench/entities.py for each fold it scores)."""
    from config.settings import get_settings

    path = get_settings().fitted_params
    return dict(json.loads(Path(path).read_text(encoding="utf-8")).get("entities", {})) if path else {}


_FITTED = _fitted()
# Context: how many other entities a document must share with a candidate's earlier
# documents before a short name (surname, acronym, part of a name) may join it.
# ECB+ dev (bench/entities.py, order seed 1) barely tells them apart: 1 -> F1 0.8755,
# 2 -> 0.8752, 3 -> 0.8741, precision 0.992 throughout. 2, because in a real stream
# one shared entity (a country, "US") is weak evidence that two Smiths are one.
MIN_CONTEXT = int(_FITTED.get("min_context", 2))
SURNAME_SIMILARITY = 0.75  # translit surnames of one person: Sybiha/Sibiga 0.83, Rutte/Root 0.57
FIRST_NAME_SIMILARITY = 0.6  # Volodymyr/Vladimir 0.82; different names score lower
MAX_CONTEXT_WORDS = 60


@dataclass(frozen=True, slots=True)
class Known:
    """An entity the registry knows, as seen from the document being matched."""

    id: str
    canonical: str
    label: str
    forms: frozenset[str]  # folded name forms seen in earlier documents
    docs: int = 0
    context: int = 0  # entities this document shares with the entity's earlier documents


def kind(label: str) -> str:
    """Which entities may match at all: people, nationalities, everything else."""
    return label if label in ("PERSON", "NORP") else "THING"


def lookup_keys(e: LocalEntity) -> list[str]:
    """Registry index keys under which `e` is stored and its candidates are found."""
    if e.is_person:
        keys = [f"pl:{skeleton(surname(e.name))}"]
        parts = person_parts(e.name)
        if parts:
            keys.append(f"pf:{skeleton(parts[0])}:{skeleton(parts[1])}")
        return keys
    if e.label == "NORP":
        return [f"nn:{fold(f)}" for f in e.forms]
    keys = [f"n:{fold(f)}" for f in e.forms]
    letters = _letters(e.name) if is_acronym(e.name) else acronym(e.name)
    if letters:
        keys.append(f"a:{letters}")
    if e.label in ("ORG", "FAC"):
        keys += [f"w:{w}" for w in words(e.name) if w not in GENERIC and len(w) > 2]
    return list(dict.fromkeys(keys))


def context_words(entities: Iterable[LocalEntity]) -> list[str]:
    """The document's entities as context words: folded names, and surnames of people."""
    out: list[str] = []
    for e in entities:
        out.append(fold(e.name))
        if e.is_person and e.full:
            out.append(fold(surname(e.name)))
    return list(dict.fromkeys(out))[:MAX_CONTEXT_WORDS]


def own_words(e: LocalEntity) -> set[str]:
    """Context words that are the entity itself, never evidence for it."""
    own = {fold(f) for f in e.forms}
    if e.is_person:
        own |= {fold(surname(f)) for f in e.forms}
    return own


def decide(e: LocalEntity, candidates: Iterable[Known]) -> tuple[Known | None, str]:
    """The known entity `e` is, with the rule that decided, or (None, "new")."""
    same_kind = [c for c in candidates if kind(c.label) == kind(e.label)]
    if e.is_person:
        return _decide_person(e, same_kind)
    exact = [c for c in same_kind if {fold(f) for f in e.forms} & c.forms]
    if exact:
        return _most_documents(exact), "same name"
    if e.label == "NORP":
        return None, "new"
    short = [c for c in same_kind if _acronym_of(e, c) or _part_of(e, c)]
    return _by_context(short, "short name in context")


def _decide_person(e: LocalEntity, candidates: list[Known]) -> tuple[Known | None, str]:
    parts = person_parts(e.name)
    if parts is not None:
        same = [c for c in candidates if any(_same_person(parts, f) for f in c.forms)]
        if same:
            return _most_documents(same), "same name"
        # A known surname-only entry, and no other first name known for it.
        short = [c for c in candidates if _surname_only(c) and _surname_matches(parts[1], c)]
        return _by_context(short, "surname in context")
    word = fold(e.name)
    named = [c for c in candidates if _surname_matches(word, c)]
    chosen, rule = _by_context(named, "surname in context")
    if chosen is not None:
        return chosen, rule
    same_string = [c for c in named if word in c.forms and _surname_only(c)]
    return (_most_documents(same_string), "same name") if same_string else (None, "new")


def _same_person(parts: tuple[str, str], form: str) -> bool:
    other = person_parts(form)
    if other is None:
        return False
    (first, last), (first2, last2) = parts, other
    return (
        skeleton(last) == skeleton(last2)
        and similar(last, last2) >= SURNAME_SIMILARITY
        and skeleton(first) == skeleton(first2)
        and similar(first, first2) >= FIRST_NAME_SIMILARITY
    )


def _surname_only(c: Known) -> bool:
    return all(person_parts(f) is None for f in c.forms)


def _surname_matches(word: str, c: Known) -> bool:
    for form in c.forms:
        last = surname(form)
        if skeleton(last) == skeleton(word) and similar(last, word) >= SURNAME_SIMILARITY:
            return True
    return False


def _letters(name: str) -> str:
    return name.replace(".", "").replace(" ", "").upper()


def _acronym_of(e: LocalEntity, c: Known) -> bool:
    """One is the acronym of the other: ISW / Institute for the Study of War."""
    if is_acronym(e.name):
        return any(acronym(f) == _letters(e.name) for f in c.forms if not is_acronym(f))
    mine = acronym(e.name)
    return bool(mine) and any(f.replace(" ", "").upper() == mine for f in c.forms if len(f) <= 6)


def _part_of(e: LocalEntity, c: Known) -> bool:
    """One name is the first or last words of the other: Saints / New Orleans Saints."""
    if e.label not in ("ORG", "FAC") or c.label not in ("ORG", "FAC"):
        return False
    mine = words(e.name)
    for form in c.forms:
        theirs = form.split()
        short, long_ = sorted((mine, theirs), key=len)
        if len(short) == len(long_) or all(w in GENERIC for w in short):
            continue
        if long_[: len(short)] == short or long_[-len(short) :] == short:
            return True
    return False


def _by_context(candidates: list[Known], rule: str) -> tuple[Known | None, str]:
    supported = [c for c in candidates if c.context >= MIN_CONTEXT]
    if not supported:
        return None, "new"
    best = max(c.context for c in supported)
    top = [c for c in supported if c.context == best]
    return (top[0], rule) if len(top) == 1 else (None, "new")


def _most_documents(candidates: list[Known]) -> Known:
    return max(candidates, key=lambda c: (c.docs, -int(c.id.lstrip("e") or 0)))


def better_name(known: Known, e: LocalEntity) -> str:
    """The canonical name after `e` joined `known`: a full name replaces a surname alone,
    an acronym's spelled-out name (its initials: IBF, International Boxing Federation)
    replaces it; otherwise the first name stays. A longer span that merely starts with
    the acronym ("GMT Wladimir Klitschko", "IR The New Orleans Saints") is not its name."""
    if e.is_person and e.full and _surname_only(known):
        return e.name
    if (
        not e.is_person
        and is_acronym(known.canonical)
        and not is_acronym(e.name)
        and acronym(e.name) == known.canonical.replace(".", "").replace(" ", "").upper()
    ):
        return e.name
    if known.canonical.isupper() and not e.name.isupper() and fold(known.canonical) == fold(e.name):
        return e.name  # "GARY ROSS" from a headline, then "Gary Ross"
    return known.canonical
