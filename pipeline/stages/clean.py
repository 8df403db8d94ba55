"""Boilerplate removal for plain text and HTML: the `clean_boilerplate` stage (pure).

Plain text goes through our line model (`pipeline.cleaning.text`); HTML through
`pipeline.cleaning.html` (trafilatura with its metadata, and our plain-text cleaner
as a second opinion where trafilatura finds too little).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol

from pipeline.cleaning.html import clean_html
from pipeline.cleaning.outlet import find_outlet
from pipeline.cleaning.text import Span, clean_text
from pipeline.cleaning.unwrap import unwrap
from pipeline.document import Document, content_id
from pipeline.errors import SkipDocument


@dataclass(frozen=True, slots=True)
class CleanOptions:
    # Keep a line when the line model's body probability reaches this. Lower keeps more
    # (recall), higher keeps less (precision); 0.5 is the trained operating point.
    threshold: float = 0.5
    # A line seen in at least this share of an outlet's earlier documents (and in at
    # least `repeat_min_docs` of them) is that outlet's furniture (needs line_stats).
    repeat_share: float = 0.5
    repeat_min_docs: int = 3


DEFAULT_CLEAN = CleanOptions()


class LineStatsLike(Protocol):
    """Cross-document line counts per outlet (pipeline.redis.line_stats.LineStats)."""

    def observe(
        self, outlet: str, doc_key: str, lines: Sequence[str], *, share: float, min_docs: int
    ) -> list[bool]: ...


def clean_boilerplate(
    doc: Document, *, options: CleanOptions = DEFAULT_CLEAN, line_stats: LineStatsLike | None = None
) -> Document:
    """Strip page furniture from the input.

    Reads: raw_text, raw_format (and outlet, for cross-document line counts).
    Adds: text, text_map (plain text only), id, title; for HTML also author,
    published and outlet from the page's metadata; for plain text without an
    outlet, the outlet its own furniture names (copyright line, "Follow X on…"),
    never a headline's tail or a sentence's first word. A plain text that is an
    article as written (sentences, a headline, a date stamp) is kept whole.
    Never: changes raw_text, performs I/O itself (line_stats is a passed-in adapter).
    """
    outlet = doc.outlet
    if not outlet and doc.raw_format != "html":
        outlet = find_outlet(doc.raw_text)  # "© 2024 The Independent", "Follow Sky News on…"
    repeated = None
    if line_stats is not None and outlet:
        repeated = partial(
            line_stats.observe,
            outlet,
            doc.id,
            share=options.repeat_share,
            min_docs=options.repeat_min_docs,
        )
    text_map: tuple[Span, ...] = ()  # HTML text is rebuilt by trafilatura: no exact offsets
    meta: dict[str, str] = {}
    # a hard-wrapped text read a paragraph a line: the same length, so offsets into it hold
    raw = doc.raw_text if doc.raw_format == "html" else unwrap(doc.raw_text)
    if doc.raw_format == "html":
        result = clean_html(raw, threshold=options.threshold, repeated=repeated)
        text, meta = result.text, result.meta
    else:
        text, text_map = clean_text(raw, threshold=options.threshold, repeated=repeated)
    if not text.strip():
        raise SkipDocument("empty after cleaning")
    return replace(
        doc,
        id=content_id(text),
        text=text,
        text_map=text_map,
        title=doc.title or meta.get("title") or _first_line(raw),
        author=doc.author or meta.get("author", ""),
        published=doc.published or meta.get("published", ""),
        outlet=meta.get("outlet") or outlet,
    )


def _first_line(raw: str) -> str:
    for line in raw.splitlines():
        if line.strip() and len(line.split()) >= 4:
            return line.strip()[:300]
    return ""
