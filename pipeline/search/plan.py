"""A parsed query with its names resolved to entities: what each index then runs (pure).

`plan(query, index)` asks the index two things, in one round trip each:
`lookup(forms)` (lookup form -> entity keys, from the name keys of indexed documents) and
`forms_of(keys)` (entity key -> every `n:` form it was written in). It returns a `Plan`:
clauses that must all hold, each one of

- `Text(phrases)`: any of the phrases (a word or words in order, each in every UK/US
  spelling) in the title, the text or an entity's name;
- `Entity(keys, phrases, marks)`: a document that mentions any of the entities (however
  it spelled them), or whose text holds any of the phrases (what was typed and every
  spelling of two or more words seen anywhere, for the mention the model missed);
  ranked first; `marks` are the one-word spellings, marked in snippets only;
- `Keys(field, keys)`: a field filter on entity or speaker keys, nothing else;
- `Outlet(words)`, `Story(prefix)`, `Dates(field, gte, lt)`;
- `Not(clause)`, `AnyOf(clauses)`.

Bare words next to each other are looked up as names, longest first ("the North Atlantic
Alliance" -> NATO, "Mark Rutte urged" -> Mark Rutte + urged); a quoted phrase is looked up
whole. `highlight` lists the phrases worth marking in a snippet.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from pipeline.entities.names import fold
from pipeline.search import query as q
from pipeline.search.names import is_name_form, key_name, pick, query_forms, speaker_key
from pipeline.search.spelling import variants

MAX_NAME_WORDS = 6
MAX_PHRASE_SPELLINGS = 8


class NameIndex(Protocol):
    def lookup(self, forms: Collection[str]) -> Mapping[str, Collection[str]]: ...

    def forms_of(self, keys: Collection[str]) -> Mapping[str, Collection[str]]: ...


@dataclass(frozen=True, slots=True)
class Text:
    phrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Entity:
    keys: tuple[str, ...]
    phrases: tuple[str, ...]  # text that finds it where the model missed the mention
    marks: tuple[str, ...] = ()  # more spellings to mark in snippets; never decide a match


@dataclass(frozen=True, slots=True)
class Keys:
    field: str  # "entity_keys" | "speaker_keys"
    keys: tuple[str, ...]
    phrases: tuple[str, ...] = ()  # marked in snippets; never decide a match


@dataclass(frozen=True, slots=True)
class Outlet:
    words: str  # folded


@dataclass(frozen=True, slots=True)
class Story:
    prefix: str


@dataclass(frozen=True, slots=True)
class Dates:
    field: str  # "date" (published, else arrival) | "arrived"
    gte: str  # ISO day or ""
    lt: str


@dataclass(frozen=True, slots=True)
class Not:
    clause: Node


@dataclass(frozen=True, slots=True)
class AnyOf:
    clauses: tuple[Node, ...]


Node = Text | Entity | Keys | Outlet | Story | Dates | Not | AnyOf


@dataclass(frozen=True, slots=True)
class Plan:
    clauses: tuple[Node, ...]

    @property
    def highlight(self) -> tuple[str, ...]:
        """Every phrase of the clauses that are looked for (not excluded)."""
        out: list[str] = []

        def walk(node: Node) -> None:
            if isinstance(node, Text | Entity | Keys):
                out.extend(node.phrases)
            if isinstance(node, Entity):
                out.extend(node.marks)
            elif isinstance(node, AnyOf):
                for c in node.clauses:
                    walk(c)

        for clause in self.clauses:
            walk(clause)
        return tuple(dict.fromkeys(out))

    @property
    def entities(self) -> tuple[Entity, ...]:
        """The Entity clauses looked for: a document matching more of them ranks higher."""
        out: list[Entity] = []
        for clause in self.clauses:
            for node in clause.clauses if isinstance(clause, AnyOf) else (clause,):
                if isinstance(node, Entity) and node.keys:
                    out.append(node)
        return tuple(out)


def spellings(phrase: str) -> tuple[str, ...]:
    """A phrase in every UK/US spelling of its words (a few at most)."""
    combos = itertools.product(*(variants(w) for w in phrase.lower().split()))
    return tuple(" ".join(c) for c in itertools.islice(combos, MAX_PHRASE_SPELLINGS))


def plan(query: q.Query, index: NameIndex) -> Plan:
    """`query` with names resolved against `index` (see the module docstring)."""
    phrases = _lookup_phrases(query)
    values = [
        c.value
        for clause in query.clauses
        for c in _leaves(clause)
        if isinstance(c, q.Field) and c.name in (*q.ENTITY_FIELDS, "speaker")
    ]
    forms = sorted({f for p in (*phrases, *values) for f in query_forms(p)})
    hits = index.lookup(forms) if forms else {}
    named = {p: keys for p in phrases if (keys := pick(p, hits))}
    for clause in query.clauses:  # field filters keep only their kind
        for c in _leaves(clause):
            if isinstance(c, q.Field) and c.name in (*q.ENTITY_FIELDS, "speaker"):
                kinds = (c.name,) if c.name in q.ENTITY_FIELDS else ("person", "org")
                named[f"{c.name}:{c.value}"] = pick(c.value, hits, kinds)
    keys = sorted({k for found in named.values() for k in found})
    resolver = _Resolver(named, index.forms_of(keys) if keys else {})
    out: list[Node] = []
    run: list[str] = []
    for item in (*query.clauses, None):
        if isinstance(item, q.Words) and not item.quoted:
            run.append(item.text)
            continue
        out.extend(resolver.run(run))
        run = []
        if item is not None:
            out.append(resolver.node(item))
    return Plan(tuple(out))


class _Resolver:
    def __init__(self, named: Mapping[str, list[str]], written: Mapping[str, Collection[str]]) -> None:
        self.named = named  # phrase or "field:value" -> entity keys
        self.written = written  # entity key -> its lookup forms

    def run(self, words: list[str]) -> list[Node]:
        """Bare words in a row: the longest sequence naming an entity first, else a word."""
        out: list[Node] = []
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + MAX_NAME_WORDS), i, -1):
                phrase = " ".join(words[i:j])
                if self.named.get(phrase):
                    out.append(self.entity(phrase))
                    i = j
                    break
            else:
                out.append(Text(spellings(words[i])))
                i += 1
        return out

    def node(self, clause: q.Clause) -> Node:
        if isinstance(clause, q.Not):
            return Not(self.node(clause.clause))
        if isinstance(clause, q.AnyOf):
            return AnyOf(tuple(self.node(c) for c in clause.clauses))
        if isinstance(clause, q.Field):
            return self.field(clause)
        if self.named.get(clause.text):
            return self.entity(clause.text)
        return Text(spellings(clause.text))

    def entity(self, phrase: str) -> Entity:
        keys = self.named[phrase]
        forms = {
            f[2:] for k in keys for f in self.written.get(k, ()) if f.startswith("n:") and is_name_form(f[2:])
        }
        typed = fold(phrase.split(":", 1)[1] if ":" in phrase else phrase)
        # A one-word form is often also a word ("Weeks", "Bush", "Page"): as text it would
        # find every article using the word. It marks snippets; the entity key finds the
        # articles where it names the entity. Longer forms and what was typed also match text.
        matching = {f for f in forms if " " in f} | {typed}
        texts = {s for f in sorted(matching) for s in spellings(f)}
        marks = {s for f in sorted(forms - matching) for s in spellings(f)} - texts
        return Entity(tuple(keys), tuple(sorted(texts)), tuple(sorted(marks)))

    def field(self, f: q.Field) -> Node:
        if f.name in q.ENTITY_FIELDS:
            named = f"{f.name}:{f.value}"
            keys = self.named.get(named, [])
            return Keys("entity_keys", tuple(keys), self.entity(named).phrases if keys else ())
        if f.name == "speaker":
            named = f"speaker:{f.value}"
            found = self.named.get(named, [])
            speakers = {speaker_key(key_name(k)) for k in found} | {speaker_key(f.value)}
            phrases = self.entity(named).phrases if found else spellings(fold(f.value))
            return Keys("speaker_keys", tuple(sorted(speakers - {""})), phrases)
        if f.name == "outlet":
            return Outlet(fold(f.value))
        if f.name == "story":
            return Story(f.value)
        gte, lt = q.day_bounds(f.name, f.value)
        return Dates("arrived" if f.name.startswith("arrived") else "date", gte, lt)


def _leaves(clause: q.Clause) -> list[q.Words | q.Field]:
    if isinstance(clause, q.AnyOf):
        return [leaf for c in clause.clauses for leaf in _leaves(c)]
    if isinstance(clause, q.Not):
        return [clause.clause]
    return [clause]


def _lookup_phrases(query: q.Query) -> list[str]:
    """Every word sequence of the query that could name an entity: runs of bare words
    (each sequence of up to MAX_NAME_WORDS), quoted phrases and excluded or OR'ed words."""
    out: list[str] = []
    run: list[str] = []
    for clause in (*query.clauses, None):
        if isinstance(clause, q.Words) and not clause.quoted:
            run.append(clause.text)
            continue
        for i in range(len(run)):
            for j in range(i + 1, min(len(run), i + MAX_NAME_WORDS) + 1):
                out.append(" ".join(run[i:j]))
        run = []
        if clause is not None:
            out.extend(leaf.text for leaf in _leaves(clause) if isinstance(leaf, q.Words))
    return list(dict.fromkeys(out))
