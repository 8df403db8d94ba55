"""Hard-wrapped plain text read back as one line a paragraph (pure).

Text written by `fmt`, e-mail clients and some wire services breaks every line at a fixed
width: a paragraph is several lines, each cut where the next word would not fit. The
cleaner judges a page line by line, and a line of a wrapped paragraph is a fragment (few
words, no sentence end), which it reads as page furniture: a hard-wrapped article lost
nearly all its body. `unwrap` makes each such line break a space before the cleaner reads
the page. Nothing else changes and the length stays the same, so an offset into the
result is the same offset into the text as written.
"""

from __future__ import annotations

import re
from itertools import pairwise

MIN_LINES = 6  # fewer lines than this tell no width
WIDTHS = (30, 120)  # the widths text is wrapped at, in characters
LONGER_SHARE = 0.05  # at most this share of the lines may run past the width
WRAPPED_SHARE = 0.3  # at least this share of the words must be on lines cut short of the next word
SENTENCE_END_SHARE = 0.5  # at most this share of those lines may end a sentence
BLANK_SHARE = 0.1  # blank lines a line of text, at least, where blank lines set paragraphs apart

# A line that opens an item of its own, never the rest of the line before it.
_ITEM = re.compile(r"(?:[-*•]\s|\d{1,3}[.)]\s|[A-Z][A-Z ]{2,}:)")
_BREAK = re.compile(r"\r\n|\n|\r")
_ENDS = re.compile(r"(?:[.!?][\"'”’)]*|[”’\"'])$")  # a sentence's end, or a closing quotation mark


def unwrap(raw: str) -> str:
    """`raw` with each line break inside a hard-wrapped paragraph made a space, or `raw`
    itself when it is not hard-wrapped.

    The width is the length most lines stop within (the 90th percentile). A break wraps
    when the line before it is full: the first word of the next line would not have fit
    on it. The text counts as wrapped when at least WRAPPED_SHARE of its words are on lines
    that break so (a page's menus and labels are many short lines, but few of its words),
    few lines run past the width, and most lines that break so end mid-sentence (a text of
    a sentence a line, its lines of a length, breaks at each one's end). A blank line, an
    indented line, a list item or a label ("WASHINGTON:") starts a paragraph of its own.
    Where only line breaks set paragraphs apart, see `_one_line_after`."""
    lines = _lines(raw)
    lengths = sorted(len(text) for _, _, text in lines if text.strip())
    if len(lengths) < MIN_LINES:
        return raw
    width = lengths[int(0.9 * (len(lengths) - 1))]
    if not WIDTHS[0] <= width <= WIDTHS[1]:
        return raw
    if sum(n > width + 10 for n in lengths) > LONGER_SHARE * len(lengths):
        return raw
    # paragraphs set apart by blank lines, or by line breaks alone (see `_one_line_after`)
    blanks = sum(not text.strip() for _, _, text in lines) >= BLANK_SHARE * len(lengths)
    joins: list[int] = []  # where the breaks to make spaces start
    joined_words = ended = 0
    for k, ((_, end, text), (_, _, after)) in enumerate(pairwise(lines)):
        if _wraps(text, after, width) and (blanks or not _one_line_after(lines, k, width)):
            joins.append(end)
            joined_words += len(text.split())
            ended += bool(_ENDS.search(text))
    if ended > SENTENCE_END_SHARE * len(joins):
        return raw  # lines that end sentences: a paragraph a line, as long as each other
    if joined_words < WRAPPED_SHARE * sum(len(text.split()) for _, _, text in lines):
        return raw
    out = list(raw)
    for end in joins:
        m = _BREAK.match(raw, end)
        if m is not None:
            out[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(out)


def _lines(raw: str) -> list[tuple[int, int, str]]:
    """(start, end before its line break, text without trailing blanks) of each line."""
    out = []
    pos = 0
    for m in _BREAK.finditer(raw):
        out.append((pos, m.start(), raw[pos : m.start()].rstrip()))
        pos = m.end()
    out.append((pos, len(raw), raw[pos:].rstrip()))
    return out


def _wraps(line: str, after: str, width: int) -> bool:
    """Whether the break between `line` and the `after` it is only the width running out."""
    if not line.strip() or not after.strip() or after[:1].isspace() or _ITEM.match(after):
        return False
    next_word = after.split(None, 1)[0]
    return len(line) + 1 + len(next_word) > width


def _one_line_after(lines: list[tuple[int, int, str]], k: int, width: int) -> bool:
    """Where only line breaks set paragraphs apart, whether line k+1 is a paragraph of one
    line after a paragraph whose last line, line k, happens to be full: line k ends a
    sentence or a quotation, line k+1 opens with a capital or a quotation mark and does
    not wrap itself ("Your support helps us to tell the story", "Comments"). Read into
    the paragraph before, such a line of furniture made the cleaner drop that paragraph
    too; a break at every sentence's end instead left pieces of paragraphs it dropped
    (both tried on the seeds, wrapped at 60-100 columns)."""
    text, after = lines[k][2], lines[k + 1][2]
    if not _ENDS.search(text) or not (after[:1].isupper() or after[:1] in "\"“‘'"):
        return False
    return k + 2 >= len(lines) or not _wraps(after, lines[k + 2][2], width)
