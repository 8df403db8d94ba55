"""Boilerplate removal for plain text and HTML (pure).

First version: HTML goes through trafilatura; plain text keeps the lines that read
like prose (long enough, ending in sentence punctuation) and drops the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.document import Document, content_id
from pipeline.errors import SkipDocument


@dataclass(frozen=True, slots=True)
class CleanOptions:
    min_words: int = 8  # a line with fewer words is kept only if it ends like a sentence


DEFAULT_CLEAN = CleanOptions()
_SENTENCE_END = re.compile(r"[.!?:\"”’')]\s*$")


def clean_boilerplate(doc: Document, *, options: CleanOptions = DEFAULT_CLEAN) -> Document:
    """Strip page furniture from the input.

    Reads: raw_text, raw_format.  Adds: text, text_map, title (and HTML metadata).
    Never: changes raw_text, performs I/O.
    """
    if doc.raw_format == "html":
        text, text_map, meta = _clean_html(doc.raw_text), (), {}
    else:
        text, text_map = _clean_text(doc.raw_text, options)
        meta = {}
    if not text.strip():
        raise SkipDocument("empty after cleaning")
    title = doc.title or meta.get("title") or _first_line(doc.raw_text)
    return replace(doc, id=content_id(text), text=text, text_map=text_map, title=title)


def _clean_text(raw: str, options: CleanOptions) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    kept: list[str] = []
    spans: list[tuple[int, int, int]] = []
    pos = 0
    out = 0
    for line in raw.splitlines(keepends=True):
        body = line.strip()
        start = pos + (len(line) - len(line.lstrip()))
        pos += len(line)
        if not body:
            continue
        words = len(body.split())
        if words >= options.min_words and _SENTENCE_END.search(body):
            if kept:
                out += 2  # "\n\n" between paragraphs
            spans.append((out, start, len(body)))
            kept.append(body)
            out += len(body)
    return "\n\n".join(kept), tuple(spans)


def _clean_html(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False) or ""


def _first_line(raw: str) -> str:
    for line in raw.splitlines():
        if line.strip() and len(line.split()) >= 4:
            return line.strip()[:300]
    return ""
