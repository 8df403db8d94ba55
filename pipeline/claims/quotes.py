"""Where quotations open and close in a text (pure).

Handles straight (") and curly (“ ”) double marks, single marks used as quotes (‘…’ in
headlines and in the body of some outlets' copy, '…' in text typed without curly marks),
a mismatched closing mark (“…,’ he added), and the newspaper
convention for quotes over several paragraphs: a paragraph that opens a quote and
never closes it continues into the next paragraph that starts with an opening mark.
Offsets are those of the quoted words, without the marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.nlp import pieces

_OPEN_DOUBLE = '“"«„'
# Every character at which `_scan_paragraph` may open a quotation: an opening mark, a closing
# mark typed the wrong way round, an apostrophe of a '' pair.
_MARK = re.compile("[“\"«„”‘']")
_PARAGRAPH = re.compile(r"[^\n]+")


@dataclass(frozen=True, slots=True)
class Quote:
    start: int  # first quoted character
    end: int  # one past the last quoted character
    closed: bool  # False: the paragraph ended before a closing mark
    continues: bool = False  # this quote carries on an unclosed quote of the previous paragraph
    single: bool = False  # marked with ‘…’ rather than double marks


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty line; the cleaner separates paragraphs with blank lines.
    A line longer than `nlp.MAX_PARAGRAPH_CHARS` comes in pieces, as the parser reads it."""
    return [
        piece
        for m in _PARAGRAPH.finditer(text)
        if m.group().strip()
        for piece in pieces(text, m.start(), m.end())
    ]


def find_quotes(text: str) -> list[Quote]:
    """Every quotation in `text`, in order."""
    quotes: list[Quote] = []
    open_before = False
    straight_singles = _quotes_in_straight_singles(text)
    for p_start, p_end in paragraphs(text):
        found = _scan_paragraph(text, p_start, p_end, straight_singles)
        starts_open = text[p_start:p_end].lstrip()[:1] in _OPEN_DOUBLE
        for i, q in enumerate(found):
            if i == 0 and open_before and starts_open and q.start <= p_start + 2:
                q = Quote(q.start, q.end, q.closed, continues=True, single=q.single)
            quotes.append(q)
        if found or not _is_furniture(text[p_start:p_end]):
            open_before = bool(found) and not found[-1].closed and not found[-1].single
    return quotes


def _is_furniture(paragraph: str) -> bool:
    """A short line with no sentence end ("More on Russia") cannot close a running quote."""
    line = paragraph.strip()
    return len(line.split()) <= 6 and not line.endswith((".", "?", "!", "”", '"'))


# A straight single mark where a quotation could open: before a word, after a space.
_STRAIGHT_SINGLE_OPEN = re.compile(r"(?:^|(?<=[\s(\[—–-]))'(?=[A-Za-z])", re.M)
_DOUBLE_MARK = re.compile("[“\"«„]|''")


def _quotes_in_straight_singles(text: str) -> bool:
    """Whether `text` marks its quotations with straight single marks ('…', typed without
    curly marks in a British style): it opens more of them than it writes double marks.
    A text that quotes in double marks uses single ones for titles and quotes inside
    quotes ("… the book 'All Bets Are Off.'"), which are no claims of their own."""
    if "'" not in text:
        return False
    return len(_STRAIGHT_SINGLE_OPEN.findall(text)) > len(_DOUBLE_MARK.findall(text))


def _scan_paragraph(text: str, start: int, end: int, straight_singles: bool = False) -> list[Quote]:
    out: list[Quote] = []
    i = start
    while i < end:
        # only a mark can open a quotation: go to the next one (a scan of every character
        # was most of the cost)
        mark = _MARK.search(text, i, end)
        if mark is None:
            break
        i = mark.start()
        ch = text[i]
        if text.startswith("''", i) and _can_open(text, i, start):  # two apostrophes as a double mark
            pair_close = text.find("''", i + 2, end)
            if pair_close > i + 2:
                out.append(Quote(i + 2, pair_close, closed=True))
                i = pair_close + 2
                continue
        if (ch in _OPEN_DOUBLE and _can_open(text, i, start)) or _misturned_open(text, i, start, end):
            close = _find_double_close(text, i + 1, end, ch)
            if close is None:
                out.append(Quote(i + 1, _rstrip(text, i + 1, end), closed=False))
                return out
            out.append(Quote(i + 1, close, closed=True))
            i = close + 1
            continue
        if (ch == "‘" or (straight_singles and _opens_straight_single(text, i, end))) and _can_open(
            text, i, start
        ):
            single_close = _find_single_close(text, i + 1, end, ch)
            if single_close is not None and " " in text[i + 1 : single_close].strip():
                out.append(Quote(i + 1, single_close, closed=True, single=True))
                i = single_close + 1
                continue
        i += 1
    return out


def _can_open(text: str, i: int, start: int) -> bool:
    """An opening mark stands at the start of a paragraph or after a space or bracket."""
    if text[i] == "”":
        return False
    if text[i] in "“«„" and not text[i - 1].isalnum():
        return True  # a curly opening mark opens whatever stands before it: said,“Look …
    return i == start or text[i - 1] in " \t([{—–-:/" or text[i - 1] in _OPEN_DOUBLE + "‘"


def _misturned_open(text: str, i: int, start: int, end: int) -> bool:
    """A closing mark that opens its paragraph and is closed later in it (”Fear. I am … .” ―
    a name): a paragraph cannot begin by closing a quotation, so it is an opening mark
    typed the wrong way round."""
    return text[i] == "”" and not text[start:i].strip() and text.find("”", i + 1, end) != -1


def _find_double_close(text: str, i: int, end: int, opener: str) -> int | None:
    straight = opener == '"'
    for j in range(i, end):
        ch = text[j]
        if straight and ch in '"”':
            return j  # a straight mark closed with a curly one: "… to compete,” said X. "…"
        if not straight and ch in '”"':
            return j
    if straight:  # a straight mark closed with a curly one: He added: "… but he is wrong.”
        curly = text.find("”", i, end)
        if curly != -1:
            return curly
    # a curly quote closed with a single mark: “…,’ he added
    m = re.compile(r"[,.?!]’(?=\s|$)").search(text, i, end)
    return m.start() + 1 if m and not straight else None


def _opens_straight_single(text: str, i: int, end: int) -> bool:
    """A straight single mark before a word, as text typed without curly marks opens a
    quotation ('We will do more,' he said). Not the apostrophe of "'90s" (before a digit)
    or of "rock 'n' roll" (a quotation holds a space: `_scan_paragraph` checks), nor one
    of "''"; nor does one close at "the workers' union" (`_plural_possessive`)."""
    return text[i] == "'" and i + 1 < end and (text[i + 1].isalpha() or text[i + 1] in '“"')


def _plural_possessive(text: str, j: int, end: int) -> bool:
    """The straight mark at `j` ends a plural's possessive ("the workers' union"): after an
    s, before a space and a lower-case word."""
    return j + 2 < end and text[j - 1] == "s" and text[j + 1] == " " and text[j + 2].islower()


def _find_single_close(text: str, i: int, end: int, opener: str = "‘") -> int | None:
    closer = "’" if opener == "‘" else "'"
    for j in range(i, end):
        # the closing mark is also the apostrophe: a closing mark is not followed by a
        # letter (Kyiv’s, don't), and a straight one follows no space
        if text[j] == closer and (j + 1 >= end or not text[j + 1].isalpha()) and not text[j - 1].isspace():
            if closer == "'" and _plural_possessive(text, j, end):
                continue
            return j
        if text[j] == opener != closer:
            return None
    return None


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end
