"""HTML boilerplate removal: trafilatura, a line filter, and a plain-text fallback (pure).

trafilatura (recall-leaning settings, comments excluded) finds the main content and
the page's metadata. Its output lines then pass our general furniture rules
(vetoes, short call-to-action lines without a full stop: "SEE MORE: …", "Order
Reprints"), which trafilatura sometimes lets through. Where trafilatura finds
next to nothing, the page's visible text (html-text, one block per line) goes
through our plain-text cleaner instead, so a page is not indexed with an empty body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.cleaning import patterns as pat
from pipeline.cleaning.features import is_sentence_end, line_vetoes, scan_page
from pipeline.cleaning.text import clean_text

# Below this many words trafilatura is taken to have missed the article.
MIN_WORDS = 30
FAVOR_RECALL = True
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class HtmlResult:
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    fallback: bool = False  # True when the plain-text cleaner produced the text


def clean_html(
    html: str, *, threshold: float, repeated: Callable[[list[str]], list[bool]] | None = None
) -> HtmlResult:
    from trafilatura import bare_extraction

    # a trafilatura Document (or None); typed loosely because the library types it as a union
    extracted: Any = bare_extraction(
        html,
        include_comments=False,
        favor_recall=FAVOR_RECALL,
        with_metadata=True,
        # the page's own date, without htmldate's slow whole-page search
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    meta: dict[str, str] = {}
    text = ""
    if extracted is not None:
        meta = {
            "title": extracted.title or "",
            "author": extracted.author or "",
            "published": extracted.date or "",
            "outlet": extracted.sitename or "",
        }
        text = filter_lines(extracted.text or "", repeated)
    if len(_WORD.findall(text)) < MIN_WORDS:
        import html_text

        fallback, _ = clean_text(html_text.extract_text(html), threshold=threshold, repeated=repeated)
        if len(_WORD.findall(fallback)) > len(_WORD.findall(text)):
            return HtmlResult(fallback, {k: v for k, v in meta.items() if v}, fallback=True)
    return HtmlResult(text, {k: v for k, v in meta.items() if v})


def filter_lines(text: str, repeated: Callable[[list[str]], list[bool]] | None = None) -> str:
    """trafilatura's lines minus furniture by our general rules, paragraphs joined by a blank line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    scan = scan_page(lines)
    vetoed = line_vetoes(scan)
    flags = repeated(lines) if repeated is not None else [False] * len(lines)
    kept = []
    for line, veto, seen, size in zip(lines, vetoed, flags, scan.sizes.tolist(), strict=True):
        short_cta = (
            size <= 15
            and not is_sentence_end(line)
            and pat.call_to_action_hits(_WORD.findall(line.lower())) > 0
        )
        if not (veto or seen or short_cta):
            kept.append(line)
    return "\n\n".join(kept)
