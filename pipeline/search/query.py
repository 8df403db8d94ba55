"""What a user types into search, parsed (pure).

The language is the one web search taught everybody:

    Rutte Putin               both words (in the title, the text or an entity's name)
    "air defence systems"     the words together, in this order
    Rutte OR Stoltenberg      either (OR in capitals; binds tighter than the spaces)
    Rutte -Trump              exclusion: no article that mentions Trump
    person:Rutte              an entity field: person:, org:, place: (any spelling of the name)
    speaker:"Mark Rutte"      articles with a claim by that speaker
    outlet:guardian           the outlet's name holds these words
    story:s-1a2b              one story (a unique prefix of its id is enough)
    after:2024-12-01          published on or after that day (arrival when the date is
    before:2024-12-31         unknown); before: is exclusive; arrived-after:/arrived-before:
                              use the arrival time only. YYYY and YYYY-MM work too.

`parse` gives a `Query`: clauses that must all hold. An unknown `word:` prefix is just
words. A malformed date or a query with nothing to look for raises `QueryError`, whose
message says what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ENTITY_FIELDS = ("person", "org", "place")
DATE_FIELDS = ("after", "before", "arrived-after", "arrived-before")
FIELDS = (*ENTITY_FIELDS, "speaker", "outlet", "story", *DATE_FIELDS)


class QueryError(ValueError):
    """A query that cannot be run; the message says what to type instead."""


@dataclass(frozen=True, slots=True)
class Words:
    """A bare word (one token) or a quoted phrase (its tokens, in order)."""

    tokens: tuple[str, ...]
    quoted: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass(frozen=True, slots=True)
class Field:
    """`name:value`, value as typed (its quotes removed)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    clause: Words | Field


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`a OR b OR c`."""

    clauses: tuple[Words | Field | Not, ...]


Clause = Words | Field | Not | AnyOf


@dataclass(frozen=True, slots=True)
class Query:
    clauses: tuple[Clause, ...]

    @property
    def positive(self) -> bool:
        """Whether anything is looked for (a query of exclusions alone finds nothing)."""
        return any(not isinstance(c, Not) for c in self.clauses)


_TOKEN = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[A-Za-z][\w-]*):(?:"(?P<fq>[^"]*)"?|(?P<fv>[^\s"]*))'
    r'|"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))'
)
_WORD = re.compile(r"\w+(?:['’]\w+)*")  # O'Brien and Kyiv's are one word each, as both indices read them


def parse(text: str) -> Query:
    """The query `text` means (see the module docstring)."""
    items: list[Clause | str] = []
    for m in _TOKEN.finditer(text):
        if m["word"] == "OR" and not m["neg"]:
            items.append("OR")
            continue
        clause = _clause(m)
        if clause is not None:
            items.append(Not(clause) if m["neg"] else clause)
    query = Query(tuple(_join_ors(items)))
    if not query.positive:
        raise QueryError(
            "nothing to search for: give at least one word or filter that is not "
            "excluded with '-' (for example: Rutte -Trump)"
        )
    return query


def _clause(m: re.Match[str]) -> Words | Field | None:
    name = (m["field"] or "").lower()
    if name in FIELDS:
        value = (m["fq"] if m["fq"] is not None else m["fv"] or "").strip()
        if not value:
            raise QueryError(f"{name}: needs a value, for example {name}:{_EXAMPLE[name]}")
        if name in DATE_FIELDS:
            day_bounds(name, value)  # check it now: the error names what was typed
        return Field(name, value)
    raw = m.group(0).lstrip("-")
    if m["phrase"] is not None:
        tokens = tuple(_WORD.findall(m["phrase"]))
        return Words(tokens, quoted=True) if tokens else None
    tokens = tuple(_WORD.findall(raw))  # "foo:bar" -> foo bar
    if not tokens:
        return None
    return Words(tokens, quoted=len(tokens) > 1)


_EXAMPLE = {
    "person": "Rutte",
    "org": "NATO",
    "place": "Kyiv",
    "speaker": '"Mark Rutte"',
    "outlet": "guardian",
    "story": "s-1a2b3c",
    "after": "2024-12-01",
    "before": "2024-12-31",
    "arrived-after": "2024-12-01",
    "arrived-before": "2024-12-31",
}


def _join_ors(items: list[Clause | str]) -> list[Clause]:
    """`a OR b c` -> [AnyOf(a, b), c]; an OR with nothing on one side is a plain word."""
    out: list[Clause | str] = []
    pending_or = False
    for item in items:
        if item == "OR":
            if out and not isinstance(out[-1], str):
                pending_or = True
            continue
        assert not isinstance(item, str)
        if pending_or and not isinstance(item, AnyOf):
            last = out.pop()
            assert not isinstance(last, str)
            left = last.clauses if isinstance(last, AnyOf) else (last,)
            out.append(AnyOf((*left, item)))
        else:
            out.append(item)
        pending_or = False
    return [c for c in out if not isinstance(c, str)]


def day_bounds(name: str, value: str) -> tuple[str, str]:
    """(gte, lt) ISO dates of a date filter: after:2024-12 -> ('2024-12-01', '');
    before:2024 -> ('', '2024-01-01'). Raises QueryError for what is not a date."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value)
    try:
        if m is None:
            raise ValueError(value)
        day = date(int(m[1]), int(m[2] or 1), int(m[3] or 1))
    except ValueError:
        raise QueryError(
            f"{name}:{value} is not a date: write {name}:YYYY-MM-DD "
            f"(or YYYY-MM, or YYYY), for example {name}:{_EXAMPLE[name]}"
        ) from None
    iso = day.isoformat()
    return (iso, "") if name.endswith("after") else ("", iso)
