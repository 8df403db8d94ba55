"""Per-line features for the plain-text boilerplate model (pure).

A page is a list of non-blank lines. Each line gets local features (length,
punctuation, stop-word density, capitalisation, furniture patterns) and context
features (its neighbours, the run of short lines it sits in, how much prose lies
before and after it, whether it repeats elsewhere on the page). The model in
`pipeline.cleaning.model` turns them into a keep probability.

Speed: this runs on every line of every page, so a page is scanned as a whole
(`scan_page`): character counts come from the page's code points with numpy, word
counts from one regex pass and one dict lookup per word (a bit per word list). The
rarer pattern tests (credits, bylines, bios…) run only on the lines that a word
list or a substring search points to, so every feature equals its per-line
definition at a fraction of the cost.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter

import numpy as np
import numpy.typing as npt

from pipeline.cleaning import patterns as pat

Array = npt.NDArray[np.float64]

_WORD = re.compile(r"\w+")
_WORDS_NL = re.compile(r"\w+|\n")  # a page's words, with its line ends
_SENT_END = re.compile(r"[.!?。！？…][\"'”’)\]]*$")
_CLOSERS = "\"'”’)]"
_ENDERS = frozenset(".!?。！？…")
_BULLET = re.compile(r"^[\s•·*>»|\-–—]+|\s[|•·»]\s")

LOCAL_NAMES = (
    "log_words", "log_chars", "ends_sentence", "stop_ratio", "log_sentences", "log_commas",
    "title_ratio", "digit_ratio", "all_caps", "cta", "cta_density", "credit", "byline", "date", "urlish",
    "bullet", "duplicate", "is_title", "prose", "short", "first_person", "second_person",
    "appeal", "name_list", "ends_colon", "comment_marker", "glued_dateline",
)  # fmt: skip
CONTEXT_NAMES = (
    "prose_before", "prose_after", "log_short_run", "window_prose",
    "prev_log_words", "next_log_words", "prev_ends", "next_ends", "first",
    "prev_cta", "next_cta", "prev_colon", "near_colon", "comment_density",
    "before_heading", "log_after_heading", "relative_position", "words_vs_page", "words_vs_longest",
    "stop_vs_page",
)  # fmt: skip
FEATURE_NAMES = LOCAL_NAMES + CONTEXT_NAMES
_COL = {name: i for i, name in enumerate(LOCAL_NAMES)}

# One bit per word list: a page's words are looked up once, in this dict.
_WORD_LISTS = (
    pat.STOPWORDS, pat.FIRST_PERSON, pat.SECOND_PERSON, pat.APPEAL_WORDS, pat.CTA_WORDS,
    pat.CREDIT_WORDS, pat.BYLINE_WORDS, pat.DATE_WORDS, pat.BYLINE_FIRST, pat.AUTHOR_BIO_WORDS,
    pat.SENTENCE_BOILERPLATE_WORDS, pat.COMMENT_MARKER_WORDS, pat.LABEL_WORDS, pat.MEDIA_LABEL_WORDS,
    pat.CTA_PHRASE_STARTS,
)  # fmt: skip
(
    STOP, FIRST, SECOND, APPEAL, CTA, CREDIT, BYLINE, DATE, BYLINE_FIRST, BIO, SENTENCE,
    COMMENT, LABEL, MEDIA, CTA_START,
) = (1 << k for k in range(len(_WORD_LISTS)))  # fmt: skip
_LIST_BITS = np.array([1 << k for k in range(len(_WORD_LISTS))], dtype=np.int64)
_WORD_BITS: dict[str, int] = {}
for _k, _words in enumerate(_WORD_LISTS):
    for _w in _words:
        _WORD_BITS[_w] = _WORD_BITS.get(_w, 0) | 1 << _k


def is_sentence_end(line: str) -> bool:
    """Whether the line ends like a sentence (full stop, ! or ?, maybe after a quote)."""
    return _SENT_END.search(line) is not None


def _ends_sentence(line: str) -> bool:  # is_sentence_end without the regex
    last = line.rstrip(_CLOSERS)[-1:]
    return last != "" and last in _ENDERS


def _may_be_comment_marker(line: str) -> bool:
    # substring checks are far cheaper than the regex, which only runs when one holds
    return len(line) < 14 or ":" in line or "ago" in line or "says" in line or "wrote" in line


@dataclass(frozen=True)
class PageScan:
    """What the features and the vetoes need to know about each line of a page."""

    lines: list[str]
    keys: list[str]  # the line's words, lower-cased, joined by single spaces
    sizes: npt.NDArray[np.int64]  # effective word counts
    local: Array  # LOCAL_NAMES columns ("duplicate" and "is_title" depend on the view: 0 here)
    lowered: str  # the lines, lower-cased, joined by "\n"
    lower_starts: npt.NDArray[np.int64]  # offset of each line in `lowered`
    word_hits: Callable[[int], npt.NDArray[np.int64]]  # per line, how many words of a word list

    def containing(self, *needles: str) -> set[int]:
        """Lines whose lower-cased text contains one of `needles`."""
        text, found = self.lowered, []
        for needle in needles:
            i = text.find(needle)
            while i != -1:
                found.append(i)
                i = text.find(needle, i + 1)
        return set((np.searchsorted(self.lower_starts, found, side="right") - 1).tolist())

    def with_word(self, bit: int) -> list[int]:
        """Lines holding a word of the word list `bit` (STOP, CTA, BIO…)."""
        return np.flatnonzero(self.word_hits(bit)).tolist()


def _codepoints(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


# Character classes, one bit each, looked up by code point in one table.
CJK_CHAR, DIGIT_CHAR, COMMA_CHAR, MARK_CHAR, SPACE_CHAR, CAPITAL_CHAR, BULLET_CHAR, COLON_CHAR = (
    1 << k for k in range(8)
)
_CHAR_COLUMNS = np.array([CJK_CHAR, DIGIT_CHAR, COMMA_CHAR], dtype=np.uint8)  # counted per line


@functools.cache
def _char_table() -> npt.NDArray[np.uint8]:
    """Class bits of every character of the Basic Multilingual Plane (built once, ~10 ms)."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for lo, hi in ((0x3040, 0x30FF), (0x3400, 0x9FFF), (0xAC00, 0xD7AF)):  # kana, CJK, hangul
        table[lo : hi + 1] |= CJK_CHAR
    for lo, hi in ((0x41, 0x5A), (0xC0, 0xD6), (0xD8, 0xDE), (0x410, 0x42F), (0x401, 0x401)):
        table[lo : hi + 1] |= CAPITAL_CHAR  # A-Z À-Ö Ø-Þ А-Я Ё: the capitals of the title-case count
    chars = [chr(c) for c in range(0x10000)]
    table[[c for c, ch in enumerate(chars) if ch.isdecimal()]] |= DIGIT_CHAR  # regex \d
    table[[c for c, ch in enumerate(chars) if ch.isspace()]] |= SPACE_CHAR  # regex \s
    marked = {",、": COMMA_CHAR, ".!?。！？": MARK_CHAR, "•·*>»|-–—": BULLET_CHAR, ":": COLON_CHAR}
    for text, bit in marked.items():
        table[[ord(c) for c in text]] |= bit
    return table


def _classes(cp: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    table = _char_table()
    classes = table[np.minimum(cp, 0xFFFF)]
    astral = np.flatnonzero(cp > 0xFFFF)  # rare: emoji, old scripts, mathematical digits
    if len(astral):
        classes[astral] = [
            (DIGIT_CHAR if chr(c).isdecimal() else 0) | (SPACE_CHAR if chr(c).isspace() else 0)
            for c in cp[astral].tolist()
        ]
    return classes


def _sums_by_group(values: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Row sums of `values` over consecutive groups of `counts` rows (empty groups sum to 0)."""
    if len(values) == 0:
        return np.zeros((len(counts), *values.shape[1:]), dtype=np.int64)
    offsets = np.cumsum(counts) - counts
    sums = np.add.reduceat(values, np.minimum(offsets, len(values) - 1), axis=0)
    sums[counts == 0] = 0
    return sums


def scan_page(lines: Sequence[str]) -> PageScan:
    """Local features of every line of a page, computed for the whole page at once.

    Character counts come from the page's code points (numpy), word counts from one
    regex pass and one dict lookup per word; the exact per-line pattern tests run only
    on the lines a word list or a substring search points to.
    """
    lines = list(lines)
    n = len(lines)
    lens = np.fromiter(map(len, lines), dtype=np.int64, count=n)
    page = "\n".join(lines)
    starts = _starts(lens)
    cp = _codepoints(page)
    classes = _classes(cp)
    # a sentence mark followed by white space or the line's end
    following = np.append(classes[1:], SPACE_CHAR)
    mark_spaced = (classes & MARK_CHAR != 0) & (following & SPACE_CHAR != 0)
    colon_space = (classes & COLON_CHAR != 0) & (np.append(cp[1:], 10) == 32)  # ": "
    per_char = np.column_stack([(classes[:, None] & _CHAR_COLUMNS) != 0, mark_spaced, colon_space])
    # each line's characters and the "\n" after it (which counts in no column)
    cjk, digits, commas, sentences, colon_spaces = _sums_by_group(per_char.astype(np.int64), lens + 1)[:n].T

    # words: each word's line, its lower-cased form, and its word-list bits
    tokens = _WORDS_NL.findall(page)
    first_cp = _codepoints("".join(map(itemgetter(0), tokens)))
    nl = first_cp == 10
    word_first = first_cp[~nl]  # first character of each word
    word_line = np.cumsum(nl)[~nl]
    spaced = " ".join(tokens)
    joined = spaced.lower()
    keys = list(map(str.strip, joined.split("\n")))
    lower = joined.split()
    n_words = np.bincount(word_line, minlength=n)
    bits = np.fromiter(map(_WORD_BITS.get, lower, repeat(0)), dtype=np.int64, count=len(lower))
    if "US" in page:  # "US" in capitals is the country ("the US president"), not the pronoun
        bits[[i for i, w in enumerate(spaced.split()) if w == "US"]] &= ~FIRST
    hits_by_list = _sums_by_group(((bits[:, None] & _LIST_BITS) != 0).astype(np.int64), n_words)

    def word_hits(bit: int) -> npt.NDArray[np.int64]:
        return hits_by_list[:, bit.bit_length() - 1]

    sizes = np.where(cjk > 0, np.maximum(n_words - 1 + cjk // 2, n_words > 0), n_words).astype(np.int64)
    # words of digits only (str.isdigit): they start with a digit or a non-ASCII character
    maybe = np.flatnonzero(((word_first >= 48) & (word_first <= 57)) | (word_first >= 128))
    is_number = map(str.isdigit, [lower[i] for i in maybe.tolist()])
    numeric = maybe[np.fromiter(is_number, dtype=bool, count=len(maybe))]
    digit_words = np.bincount(word_line[numeric], minlength=n)
    n_alpha = np.maximum(n_words - digit_words, 1)
    caps = _sums_by_group((_classes(word_first) & CAPITAL_CHAR != 0).astype(np.int64), n_words)
    ends = np.fromiter(map(_ends_sentence, lines), dtype=np.float64, count=n)
    cta = word_hits(CTA).astype(np.float64)
    for i in np.flatnonzero((bits[:-1] & CTA_START) != 0).tolist():  # two-word phrases within a line
        if word_line[i] == word_line[i + 1] and (lower[i], lower[i + 1]) in pat.CTA_PHRASES:
            cta[word_line[i]] += 1
    first, second = word_hits(FIRST), word_hits(SECOND)

    local = np.zeros((n, len(LOCAL_NAMES)))
    col = _COL
    local[:, col["log_words"]] = np.log1p(sizes)
    local[:, col["log_chars"]] = np.log1p(lens)
    local[:, col["ends_sentence"]] = ends
    local[:, col["stop_ratio"]] = word_hits(STOP) / n_alpha
    local[:, col["log_sentences"]] = np.log1p(sentences)
    local[:, col["log_commas"]] = np.log1p(commas)
    local[:, col["title_ratio"]] = caps / n_alpha
    local[:, col["digit_ratio"]] = digits / np.maximum(lens, 1)
    local[:, col["all_caps"]] = np.fromiter(map(str.isupper, lines), dtype=np.float64, count=n)
    local[:, col["cta"]] = (cta > 0) & (sizes <= 15)
    local[:, col["cta_density"]] = np.where(sizes > 0, cta / np.maximum(sizes, 1), 0.0)
    local[:, col["prose"]] = (sizes >= 12) & (ends > 0)
    local[:, col["short"]] = sizes <= 5
    local[:, col["first_person"]] = first / n_alpha
    local[:, col["second_person"]] = second / n_alpha
    # appeal vocabulary counts only when the site speaks to or for its readers
    local[:, col["appeal"]] = np.where((first > 0) | (second > 0), np.log1p(word_hits(APPEAL)), 0.0)
    local[:, col["name_list"]] = (sizes <= 8) & (ends == 0) & (caps == n_alpha) & (n_alpha > 1)
    local[:, col["ends_colon"]] = np.fromiter(map(str.endswith, lines, repeat(":")), dtype=bool, count=n)

    lowered = page.lower()
    lower_starts = starts
    if len(lowered) != len(page):  # lower-casing changed some lengths: recount
        lower_starts = _starts(np.array([len(s) for s in lowered.split("\n")], dtype=np.int64))
    scan = PageScan(lines, keys, sizes, local, lowered, lower_starts, word_hits)

    # The rarer patterns: a word list or a substring points to the lines where the
    # exact per-line test can hold; the test runs on those only.
    def mark(name: str, rows: Iterable[int], test: Callable[[int], object]) -> None:
        for i in rows:
            if test(i):
                local[i, col[name]] = 1.0

    with_words = np.flatnonzero(n_words)
    opener = (np.cumsum(n_words) - n_words)[with_words]  # index in `lower` of each line's first word
    byline_rows = set(scan.with_word(BYLINE)) | set(with_words[(bits[opener] & BYLINE_FIRST) != 0].tolist())
    sizes_list = sizes.tolist()
    mark("credit", scan.with_word(CREDIT), lambda i: pat.is_credit(lines[i].lower(), keys[i].split()))
    mark("byline", sorted(byline_rows), lambda i: pat.is_byline(lines[i].lower(), keys[i].split()))
    mark(
        "date",
        scan.with_word(DATE),
        lambda i: sizes_list[i] <= 12 and pat.is_date(lines[i].lower(), keys[i].split()),
    )
    mark(
        "urlish",
        scan.containing("://", "www.", ".com", "@", "#"),
        lambda i: ("." in lines[i] or "@" in lines[i] or "#" in lines[i]) and pat.URLISH.search(lines[i]),
    )
    nonempty = np.flatnonzero(lens)
    bullet_rows = nonempty[classes[starts[nonempty]] & BULLET_CHAR != 0].tolist()  # by the first character
    mark("bullet", set(bullet_rows) | scan.containing("|", "•", "·", "»"), lambda i: _BULLET.search(lines[i]))
    mark(
        "comment_marker",
        np.flatnonzero((sizes <= 8) & (word_hits(COMMENT) > 0)).tolist(),
        lambda i: _may_be_comment_marker(lines[i]) and pat.COMMENT_MARKER.search(lines[i]),
    )
    colon_rows = np.flatnonzero(colon_spaces).tolist()
    mark("glued_dateline", colon_rows, lambda i: pat.GLUED_DATELINE.search(lines[i]))
    return scan


def _starts(lens: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.concatenate([[0], np.cumsum(lens + 1)[:-1]]).astype(np.int64)


def line_features(scan: PageScan, rows: Sequence[int] | None = None) -> Array:
    """Feature matrix for the page's lines `rows` (all by default), read as one page:
    one row per line, columns in FEATURE_NAMES order."""
    if rows is None:
        rows = range(len(scan.lines))
    rows = list(rows)
    n = len(rows)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    keys = [scan.keys[i] for i in rows]
    counts = Counter(keys)
    local = scan.local[rows]
    local[:, _COL["duplicate"]] = [counts[k] > 1 for k in keys]
    title = keys[0]
    if title:
        local[1:, _COL["is_title"]] = [k == title for k in keys[1:]]  # the first line is the title itself
    log_words = local[:, 0]
    ends = local[:, 2]
    prose = local[:, _COL["prose"]]
    short = local[:, _COL["short"]]

    def shift(a: Array, k: int) -> Array:
        out = np.zeros_like(a)
        if k > 0:
            out[k:] = a[:-k]
        else:
            out[:k] = a[-k:]
        return out

    # Prose mass (characters of sentence-like lines) before and after each line, as shares.
    mass = prose * np.exp(local[:, 1])
    total = mass.sum() or 1.0
    before = (np.cumsum(mass) - mass) / total
    after = 1.0 - before - mass / total

    # Length of the run of short lines this line belongs to (link lists, menus).
    edges = np.flatnonzero(np.diff(np.concatenate([[0], short, [0]])))
    run = np.zeros(n)
    for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        run[a:b] = b - a
    cum = np.concatenate([[0.0], np.cumsum(prose)])
    lo, hi = np.clip(np.arange(n) - 3, 0, n), np.clip(np.arange(n) + 4, 0, n)
    window = (cum[hi] - cum[lo]) / 7.0

    pos = np.arange(n, dtype=np.float64)
    stop = local[:, _COL["stop_ratio"]]
    weights = np.expm1(log_words)  # the page's mean stop-word share, per word
    cta = local[:, _COL["cta"]]
    colon = local[:, _COL["ends_colon"]]
    # a colon-ended label ("Read more from X:", "Related:") heads the short lines after it
    near_colon = np.maximum.reduce([shift(colon, 1), shift(colon, 2), shift(colon, 3)])
    comments = local[:, _COL["comment_marker"]]
    ccum = np.concatenate([[0.0], np.cumsum(comments)])
    lo, hi = np.clip(np.arange(n) - 6, 0, n), np.clip(np.arange(n) + 7, 0, n)
    comment_density = (ccum[hi] - ccum[lo]) / 13.0
    # The page's title (first line) usually reappears as the article's heading; what
    # comes before that heading is navigation.
    heading = _heading_index(keys)
    before_heading = (pos < heading).astype(np.float64) if heading else np.zeros(n)
    after_heading = np.log1p(np.maximum(pos - heading, 0)) if heading else np.zeros(n)
    context = np.column_stack(
        [
            before,
            after,
            np.log1p(run),
            window,
            shift(log_words, 1),
            shift(log_words, -1),
            shift(ends, 1),
            shift(ends, -1),
            (pos == 0).astype(np.float64),
            shift(cta, 1),
            shift(cta, -1),
            shift(colon, 1),
            near_colon,
            comment_density,
            before_heading,
            after_heading,
            # Page-relative measures: what counts as long, or as wordy with function words,
            # differs from site to site; how a line compares with its own page carries across.
            pos / max(n - 1, 1),
            log_words - np.median(log_words),
            log_words - log_words.max(),
            stop - np.average(stop, weights=weights) if weights.sum() else np.zeros(n),
        ]
    )
    return np.hstack([local, context])


def _heading_index(keys: Sequence[str]) -> int:
    """Index of the first later line that repeats the title line (0 when none does).

    A page title is often "Headline - Site" or "Site | Headline": a line of at least
    three words that the title contains, or that contains the title, counts.
    """
    title = keys[0]
    if not title:
        return 0
    for i, key in enumerate(keys[1:200], start=1):
        if key.count(" ") >= 2 and (key in title or title in key):
            return i
    return 0


def model_view(scan: PageScan, vetoed: npt.NDArray[np.bool_]) -> tuple[list[int], Array]:
    """The lines the model scores and their features.

    Vetoed lines are left out, so that a caption taken out of the middle of an article
    does not look like the article's end; the first line stays (it is read as the title).
    """
    keep = [i for i, v in enumerate(vetoed.tolist()) if not v or i == 0]
    return keep, line_features(scan, keep)


def _continues(line: str, following: str) -> bool:
    """Whether `following` carries on the sentence `line` started: `line` ends with no
    stop or colon and `following` opens with a lower-case letter."""
    return not line.endswith((":", ".", "!", "?")) and following[:1].islower()


def line_vetoes(scan: PageScan) -> npt.NDArray[np.bool_]:
    """Lines that a general rule marks as furniture (`patterns.is_vetoed`), and the
    short line right after a media label or player notice (the media's title or caption)."""
    lines, sizes = scan.lines, scan.sizes.tolist()
    n = len(lines)
    vetoed = np.zeros(n, dtype=bool)
    # the lines where one of is_vetoed's tests can hold, by its size limits and words
    size, hits = scan.sizes, scan.word_hits
    maybe = (
        ((size <= 6) & (hits(LABEL) > 0))
        | ((size <= 3) & (hits(MEDIA) > 0))
        | ((size <= 15) & (hits(SENTENCE) > 0))
        | ((size <= 60) & (hits(BIO) > 0))
    )
    maybe |= (size <= 12) & (scan.local[:, _COL["log_commas"]] > 0)  # NAME_LIST: "A B, C D"
    for i in np.flatnonzero(maybe).tolist():
        vetoed[i] = pat.is_vetoed(lines[i], sizes[i])
    for i in scan.with_word(MEDIA):
        j = i + 1
        if j >= n or not pat.is_media_label(lines[i]):
            continue
        if _continues(lines[i], lines[j]):
            # "Photos" / "which were released online…": a sentence broken at the line's end
            # (hard-wrapped text), not a label over a caption
            vetoed[i] = False
        elif sizes[j] <= 25 and not lines[j].endswith("."):
            vetoed[j] = True
    # "Read more from X:" heads a list of headlines: short lines without a full stop.
    for i in np.flatnonzero(scan.local[:, _COL["ends_colon"]]).tolist():
        if sizes[i] <= 8 and pat.call_to_action_hits(lines[i].lower().split()):
            j = i + 1
            while j < n and sizes[j] <= 15 and not scan.local[j, _COL["ends_sentence"]]:
                vetoed[j] = True
                j += 1
    # An appeal for support comes as a block: its neighbours that speak as the site
    # ("we know how important it is…") belong to it.
    appeals = [i for i in sorted(scan.containing(*pat.APPEAL_STEMS)) if pat.is_appeal(lines[i])]
    appeal = set(appeals)
    for i in appeals:
        vetoed[i] = True
        for step in (-1, 1):
            j = i + step
            while 0 <= j < n and j not in appeal and pat.speaks_as_site(lines[j]):
                vetoed[j] = True
                j += step
    return vetoed
