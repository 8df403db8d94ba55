"""Plain-text boilerplate removal: lines scored by the line model, then sentences (pure).

Works at the levels boilerplate lives at: whole lines and runs of lines (scored
together by `LineModel`, which sees each line's neighbours), and sentences glued
to body text by a scraper ("…all the difference.The new secretary-general…"),
which are split apart and filtered by `patterns.SENTENCE_BOILERPLATE`.
Every kept piece is a verbatim slice of the input, so the offset map is exact.

A text that is an article as written (`is_article_as_written`: its lines are sentences
but for a few, a headline, a date stamp, a subheading, and nothing in it is furniture
by rule or bears a sign of it) has no page around it for the line model to read; it is
kept whole, however short: a one-sentence report is an article.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from pipeline.cleaning import patterns as pat
from pipeline.cleaning.features import (
    FEATURE_NAMES,
    LOCAL_NAMES,
    SENTENCE,
    PageScan,
    line_vetoes,
    model_view,
    scan_page,
)
from pipeline.cleaning.model import LineModel

Span = tuple[int, int, int]  # (text_start, raw_start, length)
# A page whose kept lines are all shorter than this has no article text.
MIN_PROSE_WORDS = 8

# A sentence boundary: end punctuation then a space, or glued straight to a capital
# letter ("difference.The"), which real prose never does except in abbreviations
# like "U.S." (excluded: a single capital letter before the dot).
_SENTENCE_END = re.compile(r"(?<=[a-z0-9])[.!?][\"”’)]*(?=[A-Z“\"‘])|[.!?][\"”’)]*(?=\s+[A-Z“\"‘(])")


class Line(NamedTuple):  # a tuple: pages have hundreds of lines and tuples are cheap to build
    start: int  # offset of the stripped line in the raw text
    text: str


@functools.cache
def default_model() -> LineModel:
    model = LineModel.load()
    if model.features != FEATURE_NAMES:
        raise RuntimeError(
            "the shipped line model was trained on other features: retrain it with bench/train_clean_model.py"
        )
    return model


# Two blocks a scraper glued together: a sentence end followed at once by a capital
# ("difference.The"), which prose never writes (abbreviations have a capital before
# the dot: "U.S.A").
_GLUED = re.compile(r"(?<=[a-z0-9][.!?])(?=[A-Z])")
# The same test led by the punctuation, which the regex engine scans for quickly: a
# page-wide search that tells whether any line needs cutting.
_ANY_GLUED = re.compile(r"[.!?](?<=[a-z0-9][.!?])(?=[A-Z])")


# A line's text without the white space around it: from a non-space character to the
# last one before a line break (the breaks of str.splitlines).
_LINE = re.compile(r"\S(?:[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*\S)?")

OPENING_SENTENCE_WORDS = 20  # titles are shorter: no first line of the bench's pages reaches it


def split_lines(raw: str) -> list[Line]:
    """Non-blank lines with their offsets, surrounding whitespace trimmed; glued blocks split."""
    return list(map(Line._make, zip(*_split(raw), strict=True)))


def _split(raw: str) -> tuple[list[int], list[str]]:
    """split_lines as two lists (starts, texts): cheaper to build for a whole page."""
    if _ANY_GLUED.search(raw) is None:  # the common case: nothing glued, one regex pass
        found = list(_LINE.finditer(raw))
        return list(map(re.Match.start, found)), list(map(re.Match.group, found))
    starts: list[int] = []
    texts: list[str] = []
    pos = 0
    for line in raw.splitlines(keepends=True):
        body = line.strip()
        if body:
            start = pos + len(line) - len(line.lstrip())
            cuts = [0, *(m.start() for m in _GLUED.finditer(body)), len(body)]
            for a, b in pairwise(cuts):
                starts.append(start + a)
                texts.append(body[a:b])
        pos += len(line)
    return starts, texts


LONG_LINE_WORDS = 250  # a line longer is a page or article written on one line...
LOST_BREAKS_SHARE = 0.8  # ...when such lines hold this share of its words,
LOST_BREAKS_LINES = 5  # or it has no more lines than this


def _sentences_of_long_lines(starts: list[int], texts: list[str]) -> tuple[list[int], list[str], list[int]]:
    """The lines, with each of more than LONG_LINE_WORDS words cut into its sentences when
    such lines hold most of the text (LOST_BREAKS_SHARE) or the text is a few lines (a glued
    "difference.The" cuts a line in two: LOST_BREAKS_LINES), and for each the line it came
    from. A page or article written on one line (its paragraph breaks lost) is else one
    unit to the line model, kept or dropped whole with the appeal or comment prompt inside
    it; as sentences, it is judged sentence by sentence. A long line on a page of many
    (a run of teasers, a transcript) is judged as a line: read as sentences, such blobs
    look like body (cross-validated text F1 0.925 where it is 0.933)."""
    # a line of so many words is longer in characters: most lines are not counted at all
    long = {
        i
        for i, text in enumerate(texts)
        if len(text) > LONG_LINE_WORDS and len(text.split()) > LONG_LINE_WORDS
    }
    if not long or (
        len(texts) > LOST_BREAKS_LINES
        and sum(len(texts[i].split()) for i in long) < LOST_BREAKS_SHARE * sum(len(t.split()) for t in texts)
    ):
        return starts, texts, list(range(len(texts)))
    out_starts: list[int] = []
    out_texts: list[str] = []
    block: list[int] = []
    for n, (start, text) in enumerate(zip(starts, texts, strict=True)):
        cuts = [0, len(text)]
        if n in long:
            cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
        for a, b in pairwise(cuts):
            piece = text[a:b]
            lead = len(piece) - len(piece.lstrip())
            if piece.strip():
                out_starts.append(start + a + lead)
                out_texts.append(piece.strip())
                block.append(n)
    return out_starts, out_texts, block


def furniture_by_rule(
    scan: PageScan, repeated: Callable[[list[str]], list[bool]] | None = None
) -> np.ndarray:
    """Lines that are furniture whatever the model says: vetoed by a general rule, or
    known as the outlet's own (`repeated`, given all the page's lines)."""
    vetoed = line_vetoes(scan)
    if repeated is not None:
        vetoed |= np.array(repeated(scan.lines), dtype=bool)
    return vetoed


def keep_scores(scan: PageScan, model: LineModel, vetoed: np.ndarray) -> np.ndarray:
    """Body probability per line; `vetoed` lines (furniture_by_rule) score 0."""
    keep, features = model_view(scan, vetoed)
    scores = np.zeros(len(scan.lines))
    scores[keep] = model.predict(features)
    scores[vetoed] = 0.0
    return scores


def sentence_pieces(line: Line) -> list[Line]:
    """The line minus glued boilerplate sentences and elision marks, as verbatim pieces."""
    if not pat.ELISION.search(line.text) and not pat.SENTENCE_BOILERPLATE_ANYWHERE.search(line.text):
        return [line]  # the common case: nothing to cut
    pieces: list[Line] = []
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(line.text)), len(line.text)]
    for a, b in pairwise(cuts):
        sentence = line.text[a:b]
        if pat.SENTENCE_BOILERPLATE.search(sentence.strip()):
            continue
        pos = a
        for m in pat.ELISION.finditer(sentence):  # "<...>" marks where the page cut text
            pieces.append(Line(line.start + pos, line.text[pos : a + m.start()]))
            pos = a + m.end()
        pieces.append(Line(line.start + pos, line.text[pos:b]))
    return _merge_adjacent(line, [p for p in _strip_pieces(pieces) if p.text])


def _strip_pieces(pieces: list[Line]) -> list[Line]:
    out = []
    for p in pieces:
        lead = len(p.text) - len(p.text.lstrip())
        out.append(Line(p.start + lead, p.text.strip()))
    return out


def _merge_adjacent(line: Line, pieces: list[Line]) -> list[Line]:
    """Rejoin consecutive kept sentences that only whitespace separated in the input.

    Glued sentences ("difference.The") stay apart and are joined later by a space.
    """
    out: list[Line] = []
    for piece in pieces:
        if out:
            prev = out[-1]
            gap = line.text[prev.start - line.start + len(prev.text) : piece.start - line.start]
            if gap and not gap.strip():
                out[-1] = Line(
                    prev.start,
                    line.text[prev.start - line.start : piece.start - line.start + len(piece.text)],
                )
                continue
        out.append(piece)
    return out


# The end of a sentence: a full stop, "!", "?" or an ellipsis, maybe inside closing
# quotes or brackets, including a quote turned the wrong way ("… the sequel. “"),
# which text rebuilt from tokens writes for a closing one.
_SENTENCE_CLOSE = re.compile(r"[.!?…][\"'”’“‘)\]\s]*$")
_ALPHA_WORD = re.compile(r"\b[^\W\d_]+\b")  # a word of letters only
# Signs that a line which is no sentence is page furniture (features.LOCAL_NAMES).
_FURNITURE_SIGNS = [LOCAL_NAMES.index(name) for name in
                    ("cta", "credit", "byline", "urlish", "comment_marker", "appeal")]  # fmt: skip
# An article as written may hold this many lines that are no sentences (a headline, a
# date stamp, a subheading, a short list), or this share of its lines if more.
ARTICLE_OTHER_LINES = 3
ARTICLE_OTHER_SHARE = 0.5


def reads_as_sentence(text: str) -> bool:
    """A line of prose: a sentence (it ends like one and holds a lower-case word), a
    lead-in ending in a colon or comma, or a long run of prose cut short (mostly
    lower-case words). Not a headline, a label or a date stamp."""
    words = _ALPHA_WORD.findall(text)
    lower = sum(1 for w in words if w.islower())
    if _SENTENCE_CLOSE.search(text):
        return lower >= 1
    if text.endswith((":", ",", ";")):
        return len(words) >= 4 and lower >= len(words) / 2
    return len(words) >= 12 and lower >= len(words) / 2


def reads_as_report(text: str) -> bool:
    """A sentence, or a headline that says what happened ("Esther Williams, swimming star,
    dies at 91"): six words or more, at least a third of them lower-case."""
    words = _ALPHA_WORD.findall(text)
    return reads_as_sentence(text) or (
        len(words) >= 6 and sum(1 for w in words if w.islower()) >= len(words) / 3
    )


def is_article_as_written(scan: PageScan, vetoed: np.ndarray) -> bool:
    """Whether a plain text is an article as written, with no page around it: it holds a
    sentence (or opens with a headline that says what happened), its lines after the
    first are sentences but for a few (a date stamp, a subheading, a short list), no
    rule marks any line as furniture and none of the few bears a sign of it (a call to
    action, a credit, a byline, an address, a comment marker, an appeal). A page copied
    whole from a site has menus, labels and notices between its paragraphs; a text like
    this has none, and nothing in it for the line model to tell the article from."""
    lines = scan.lines
    if vetoed.any():
        return False
    if not any(map(reads_as_report, lines[:2])) and not any(map(reads_as_sentence, lines)):
        return False  # labels and stamps only: no article
    limit = max(ARTICLE_OTHER_LINES, ARTICLE_OTHER_SHARE * (len(lines) - 1))
    other = 0
    for i in range(1, len(lines)):
        if not reads_as_sentence(lines[i]):
            other += 1
            if other > limit or scan.local[i, _FURNITURE_SIGNS].any():
                return False
    return True


def _is_opening_sentence(text: str) -> bool:
    """A first line that is a whole sentence of prose, not a page title.

    The model learnt that a page's first line is its <title> (true of scraped pages);
    a dropped text file often starts straight with the article's first sentence.
    """
    return len(text.split()) >= OPENING_SENTENCE_WORDS and text.rstrip()[-1:] in '.!?"”’'


LEAD_WORDS = 15  # a standfirst is a long sentence: teasers and captions above a body are shorter


def _prose_before_the_body(
    texts: list[str], sizes: np.ndarray, keep: np.ndarray, vetoed: np.ndarray
) -> np.ndarray:
    """The line right above the body's first kept paragraph (lines that are furniture by
    rule aside), when it reads as a sentence of LEAD_WORDS or more: the article's
    standfirst or lede, which the page sets apart (in bold, without a full stop) and the
    line model, trained on pages that give it as metadata, often scores low."""
    out = np.zeros(len(texts), dtype=bool)
    kept = np.flatnonzero(keep[1:]) + 1  # the first line is the page's title
    if not len(kept):
        return out
    i = int(kept[0]) - 1
    while i > 0 and vetoed[i]:
        i -= 1
    if i > 0 and sizes[i] >= LEAD_WORDS and reads_as_sentence(texts[i]):
        out[i] = True
    return out


def clean_text(
    raw: str,
    *,
    threshold: float,
    model: LineModel | None = None,
    repeated: Callable[[list[str]], list[bool]] | None = None,
) -> tuple[str, tuple[Span, ...]]:
    """Cleaned body (paragraphs joined by a blank line) and its offset map into `raw`.

    `repeated`, given all the page's lines, flags those known as the outlet's furniture.
    A hard-wrapped text wants `unwrap.unwrap` first, as `clean_boilerplate` gives it.
    """
    starts, texts, block = _sentences_of_long_lines(*_split(raw))
    if not texts:
        return "", ()
    scan = scan_page(texts)
    vetoed = furniture_by_rule(scan, repeated)
    if is_article_as_written(scan, vetoed):
        keep = np.ones(len(texts), dtype=bool)  # headline and all: nothing in it is furniture
    else:
        scores = keep_scores(scan, model or default_model(), vetoed)
        keep = scores >= threshold
        keep[0] |= _is_opening_sentence(texts[0])
        keep |= _prose_before_the_body(texts, scan.sizes, keep, vetoed)
        if not (scan.sizes[keep] >= MIN_PROSE_WORDS).any():
            return "", ()  # menus and labels only: no article on this page
    # only lines with a boilerplate phrase's word or an elision mark can lose a piece
    to_split = set(scan.with_word(SENTENCE)) | scan.containing("...", "…")
    parts: list[str] = []
    spans: list[Span] = []
    out = 0
    previous = -1
    for i in np.flatnonzero(keep).tolist():
        line = Line(starts[i], texts[i])
        pieces = sentence_pieces(line) if i in to_split else [line]
        if not pieces:
            continue
        if parts:
            gap = "\n\n"
            if block[i] == block[previous]:
                # the sentences of one long line (_sentences_of_long_lines) stay one
                # paragraph, with the blank between them as written when they touch
                between = raw[starts[previous] + len(texts[previous]) : pieces[0].start]
                gap = between if not between.strip() and i == previous + 1 else " "
            parts.append(gap)
            out += len(gap)
        previous = i
        for k, piece in enumerate(pieces):
            if k:
                parts.append(" ")
                out += 1
            spans.append((out, piece.start, len(piece.text)))
            parts.append(piece.text)
            out += len(piece.text)
    return "".join(parts), tuple(spans)
