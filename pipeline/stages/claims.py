"""Claims: who said what, and the figures in it (pure).

`extract_claims` finds direct quotes, reported speech and the outlet's own statements
of figures in one document. Grouping the same claim across outlets is not a stage: the
write path plans it once per batch (pipeline/claims/plan.py, over the registry in
pipeline/redis/claim_groups.py) and stamps the claims with their groups.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import replace
from itertools import accumulate
from typing import Any

from pipeline.claims.attribution import find_attributions
from pipeline.claims.attribution.model import Model
from pipeline.claims.attribution.span_model import SpanModel
from pipeline.claims.figures import parse_figures
from pipeline.claims.quotes import Quote, find_quotes, paragraphs
from pipeline.claims.speakers import resolve_speakers
from pipeline.document import Claim, Document

_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+(?=\s|$)|$)")


def extract_claims(
    doc: Document, *, nlp: Any, attribution_model: Model | None = None, span_model: SpanModel | None = None
) -> Document:
    """Add every claim in the cleaned text.

    Reads: text, entities, text_map.  Adds: claims (speaker as written and canonical,
    cue, content, kind, figures, offsets in the text and in the original input).
    `attribution_model` and `span_model` replace the shipped models (a bench fitting its own).
    Never: performs I/O, loads a model, groups across documents.
    """
    quotes = find_quotes(doc.text)  # read once: the attributions and the statements both need them
    attributions, mentions = find_attributions(
        doc.text, nlp, model=attribution_model, span_model=span_model, quotes=quotes
    )
    resolved = resolve_speakers(attributions, mentions, doc.entities, doc.text)
    claims = []
    for a, r in zip(attributions, resolved, strict=True):
        text = " ".join(doc.text[s:e].strip() for s, e in a.spans)
        claims.append(
            _claim(
                doc,
                text,
                a.start,
                a.end,
                kind=a.kind,
                speaker=r.speaker,
                speaker_canonical=r.canonical,
                cue=a.cue,
            )
        )
    claims += _statements(doc, [(c.start, c.end) for c in claims], quotes)
    claims.sort(key=lambda c: c.start)
    return replace(doc, claims=tuple(claims))


def claim_paragraphs(doc: Document) -> list[str]:
    """The texts `extract_claims` gives the model for `doc` (pipeline/run.py parses a
    batch's together): its paragraphs, as `find_attributions` reads them."""
    return [doc.text[s:e] for s, e in paragraphs(doc.text)]


def _claim(doc: Document, text: str, start: int, end: int, **kw: Any) -> Claim:
    return Claim(
        text=text,
        figures=parse_figures(text),
        start=start,
        end=end,
        raw_start=doc.raw_offset(start),
        raw_end=doc.raw_offset(end),
        **kw,
    )


def _statements(doc: Document, taken: list[tuple[int, int]], quotes: list[Quote]) -> list[Claim]:
    """Sentences outside any quote (`quotes`: the text's) or attribution that state figures
    on the outlet's authority."""
    covered = _Spans(taken + [(q.start, q.end) for q in quotes])
    out = []
    for p_start, p_end in paragraphs(doc.text):
        for m in _SENTENCE.finditer(doc.text, p_start, p_end):
            start = m.start() + len(m.group()) - len(m.group().lstrip())
            end = m.end()
            if covered.overlap(start, end):
                continue
            text = doc.text[start:end]
            figures = parse_figures(text)
            if figures:
                out.append(
                    Claim(
                        text=text,
                        kind="statement",
                        figures=figures,
                        start=start,
                        end=end,
                        raw_start=doc.raw_offset(start),
                        raw_end=doc.raw_offset(end),
                    )
                )
    return out


class _Spans:
    """(start, end) spans, asked whether any overlaps a range: sorted by start, with the
    largest end so far, so a question is one bisection (a scan of every claim and quote
    per sentence was quadratic in a long text)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self.starts = [s for s, _ in spans]
        self.max_end = list(accumulate((e for _, e in spans), max))

    def overlap(self, start: int, end: int) -> bool:
        """Whether some span has s < end and start < e."""
        i = bisect.bisect_left(self.starts, end)
        return i > 0 and self.max_end[i - 1] > start
