"""The typed document that flows through every stage (pure).

A Document is frozen: stages return a new one with `dataclasses.replace`.
`to_dict` / `from_dict` are the only serialisation, used for Celery messages,
the embedded index, `newsflow show --json` and `newsflow export` alike.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """A number inside a claim: "at least 19 air defence systems", "$725m"."""

    text: str
    value: float | None = None
    unit: str = ""  # "USD", "%", or the counted object ("air defence systems")
    modifier: str = ""  # "at least", "more than", "another", ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    """One place a document names an entity, for highlighting it there."""

    surface: str  # text[start:end] as written, any run of whitespace inside it as one space
    start: int  # offsets in the cleaned text
    end: int
    raw_start: int | None = None  # the same characters in the original input, or None when
    raw_end: int | None = None  # the cleaner did not copy them from there whole (HTML, say)


# Mentions kept per entity: enough to highlight a name throughout an article, while one
# name repeated through a long file cannot grow the record without end.
MAX_MENTIONS = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """One canonical entity as it appears in one document (mentions aggregated).

    `mentions` are the places it is named, in text order: the first MAX_MENTIONS of
    them (`count` is the number of all of them). Records written before mentions
    were kept have none.
    """

    canonical: str
    label: str  # PERSON, ORG, GPE, LOC, NORP, EVENT, ...
    surface: str  # the first surface form as written
    variants: tuple[str, ...] = ()  # every surface form seen in this document
    count: int = 1
    start: int = 0  # first mention: offset in the cleaned text
    end: int = 0
    raw_start: int | None = None  # same mention: offset in the original input
    mentions: tuple[Mention, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """Who said what: a direct quote, reported speech, or a statement of fact."""

    text: str
    kind: str  # "direct" | "reported" | "statement"
    speaker: str = ""  # surface form as written ("Mr Rutte", "Kyiv's foreign ministry")
    speaker_canonical: str = ""
    cue: str = ""  # "said", "warned", "according to"
    figures: tuple[Figure, ...] = ()
    start: int = 0  # offsets of `text` in the cleaned text
    end: int = 0
    raw_start: int | None = None  # offsets in the original input
    raw_end: int | None = None
    group: str = ""  # cross-document claim group id
    conflict: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Something a stage wants recorded. Never carries document text."""

    stage: str
    error: str  # exception class name or a short code, never a message with text


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One entry of a document's processing history."""

    stage: str
    ms: float
    at: str = ""  # ISO timestamp, UTC


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """An article on its way through the pipeline."""

    id: str  # sha256 prefix of the normalised content (cleaned text once cleaned)
    source: str  # the input this delivery came from: "file:/x.txt" path or URL
    raw_text: str
    raw_format: str = "text"  # "text" | "html"
    sources: tuple[str, ...] = ()  # every input that produced this same content
    received_at: str = ""
    text: str = ""  # cleaned body
    # Spans of `text` copied from `raw_text`: (text_start, raw_start, length).
    # Written by the cleaner; `raw_offset` uses it to map offsets back.
    text_map: tuple[tuple[int, int, int], ...] = ()
    title: str = ""
    outlet: str = ""
    author: str = ""
    published: str = ""  # ISO date when known
    language: str = ""
    entities: tuple[Entity, ...] = ()
    claims: tuple[Claim, ...] = ()
    story_id: str = ""
    duplicate_of: str = ""
    similarity: float | None = None
    versions: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    history: tuple[Step, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    # -- derived views ----------------------------------------------------
    def names(self, *labels: str) -> list[str]:
        """Canonical names of the entities with one of `labels`, in order."""
        return [e.canonical for e in self.entities if e.label in labels]

    @property
    def people(self) -> list[str]:
        return self.names("PERSON")

    @property
    def organisations(self) -> list[str]:
        return self.names("ORG", "NORP")

    @property
    def places(self) -> list[str]:
        return self.names("GPE", "LOC", "FAC")

    def raw_offset(self, offset: int) -> int | None:
        """Map an offset in `text` to the original input, or None if it was not copied."""
        # The spans are in text order and do not overlap: the one holding `offset` is the
        # last to start at or before it, or the one before that when the two touch (a scan
        # of every span per offset was quadratic: entities and claims each ask).
        last = bisect.bisect_right(self.text_map, offset, key=_text_start) - 1
        for text_start, raw_start, length in self.text_map[max(0, last - 1) : last + 1]:
            if text_start <= offset <= text_start + length:
                return raw_start + (offset - text_start)
        return None

    def raw_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where text[start:end] is in the original input; None when the input does not
        hold those characters there (not copied, as from HTML, or copied in two pieces
        with something removed between them)."""
        raw_start, raw_end = self.raw_offset(start), self.raw_offset(end)
        if raw_start is None or raw_end is None:
            return None
        if self.raw_text[raw_start:raw_end] != self.text[start:end]:
            return None
        return raw_start, raw_end

    # -- serialisation ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data = _to_jsonable(self)
        assert isinstance(data, dict)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Document:
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        kw["sources"] = tuple(kw.get("sources", ()))
        kw["versions"] = tuple(kw.get("versions", ()))
        kw["text_map"] = tuple(tuple(s) for s in kw.get("text_map", ()))
        kw["entities"] = tuple(
            _build(Entity, {**e, "mentions": tuple(_build(Mention, m) for m in e.get("mentions", ()))})
            for e in kw.get("entities", ())
        )
        kw["claims"] = tuple(
            _build(Claim, {**c, "figures": tuple(_build(Figure, f) for f in c.get("figures", ()))})
            for c in kw.get("claims", ())
        )
        kw["notes"] = tuple(_build(Note, n) for n in kw.get("notes", ()))
        kw["history"] = tuple(_build(Step, s) for s in kw.get("history", ()))
        kw["extra"] = dict(kw.get("extra", {}))
        return cls(**kw)


def _build(cls: type[T], data: Mapping[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names}
    return cls(**values)


_SCALARS = (str, int, float, bool, type(None))


def _to_jsonable(value: Any) -> Any:
    # Exact types first: every message and index write passes here, text_map has a tuple
    # per line, and the ABC checks below cost several times more per value.
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, tuple | list):
        return [_to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_to_jsonable(v) for v in value]
    return value


def _text_start(span: tuple[int, int, int]) -> int:
    return span[0]


def normalise_for_id(text: str) -> str:
    """What counts as "the same content": NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_id(text: str) -> str:
    """Deterministic document id: 16 bytes of sha256 over the normalised content."""
    return hashlib.sha256(normalise_for_id(text).encode("utf-8")).hexdigest()[:32]
