"""Per-line features for the plain-text boilerplate model (pure).

A page is a list of non-blank lines. Each line gets local features (length,
punctuation, stop-word density, capitalisation, furniture patterns) and context
features (its neighbours, the run of short lines it sits in, how much prose lies
before and after it, whether it repeats elsewhere on the page). The model in
`pipeline.cleaning.model` turns them into a keep probability.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pipeline.cleaning import patterns as pat

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_SENT_END = re.compile(r"[.!?。！？…][\"'”’)\]]*$")
_SENT_PUNCT = re.compile(r"[.!?。！？](?:\s|$)")
_CAP_WORD = re.compile(r"\b[A-ZÀ-ÖØ-ÞА-ЯЁ]\w*")
_DIGIT = re.compile(r"\d")
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
    "before_heading", "log_after_heading",
)  # fmt: skip
FEATURE_NAMES = LOCAL_NAMES + CONTEXT_NAMES


def is_sentence_end(line: str) -> bool:
    """Whether the line ends like a sentence (full stop, ! or ?, maybe after a quote)."""
    return _SENT_END.search(line) is not None


def effective_words(line: str, words: Sequence[str] | None = None) -> int:
    """Word count that also works for scripts without spaces (two CJK characters ≈ a word)."""
    n = len(_WORD.findall(line) if words is None else words)
    if line.isascii():
        return n
    cjk = len(_CJK.findall(line))
    return max(n - (1 if cjk else 0) + cjk // 2, 1 if n else 0)


def _may_be_comment_marker(line: str) -> bool:
    # substring checks are far cheaper than the regex, which only runs when one holds
    return len(line) < 14 or ":" in line or "ago" in line or "says" in line or "wrote" in line


def _local(line: str, words: list[str], key: str, counts: Counter[str], title: str) -> list[float]:
    # Counting with C-level regex scans, map() and set lookups: this runs on every line.
    lower_line = line.lower()
    lower = key.split()
    n = effective_words(line, words)
    n_alpha = max(len(words) - sum(map(str.isdigit, words)), 1)
    caps = len(_CAP_WORD.findall(line))
    chars = len(line)
    ends = 1.0 if _SENT_END.search(line) else 0.0
    cta = pat.call_to_action_hits(lower)
    first = sum(map(pat.FIRST_PERSON.__contains__, lower))
    second = sum(map(pat.SECOND_PERSON.__contains__, lower))
    return [
        math.log1p(n),
        math.log1p(chars),
        ends,
        sum(map(pat.STOPWORDS.__contains__, lower)) / n_alpha,
        math.log1p(len(_SENT_PUNCT.findall(line))),
        math.log1p(line.count(",") + line.count("、")),
        caps / n_alpha,
        len(_DIGIT.findall(line)) / max(chars, 1),
        1.0 if line.isupper() else 0.0,
        1.0 if cta and n <= 15 else 0.0,
        cta / n if n else 0.0,
        1.0 if pat.is_credit(lower_line, lower) else 0.0,
        1.0 if pat.is_byline(lower_line, lower) else 0.0,
        1.0 if n <= 12 and pat.is_date(lower_line, lower) else 0.0,
        1.0 if ("." in line or "@" in line or "#" in line) and pat.URLISH.search(line) else 0.0,
        1.0 if _BULLET.search(line) else 0.0,
        1.0 if counts[key] > 1 else 0.0,
        1.0 if key and key == title else 0.0,
        1.0 if n >= 12 and ends else 0.0,
        1.0 if n <= 5 else 0.0,
        first / n_alpha,
        second / n_alpha,
        # appeal vocabulary counts only when the site speaks to or for its readers
        math.log1p(sum(map(pat.APPEAL_WORDS.__contains__, lower))) if first or second else 0.0,
        1.0 if n <= 8 and not ends and caps == n_alpha > 1 else 0.0,
        1.0 if line.endswith(":") else 0.0,
        1.0 if n <= 8 and _may_be_comment_marker(line) and pat.COMMENT_MARKER.search(line) else 0.0,
        1.0 if ": " in line and pat.GLUED_DATELINE.search(line) else 0.0,
    ]


def line_words(lines: Sequence[str]) -> list[list[str]]:
    return [_WORD.findall(line) for line in lines]


def line_features(lines: Sequence[str], words: Sequence[list[str]] | None = None) -> npt.NDArray[np.float64]:
    """Feature matrix (one row per line, columns in FEATURE_NAMES order).

    `words` is `line_words(lines)` when the caller already has it.
    """
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    if words is None:
        words = line_words(lines)
    keys = [" ".join(w).lower() for w in words]
    counts = Counter(keys)
    title = keys[0]
    local = np.array(
        [_local(line, w, k, counts, title) for line, w, k in zip(lines, words, keys, strict=True)],
        dtype=np.float64,
    )
    local[0, LOCAL_NAMES.index("is_title")] = 0.0  # the first line is the title itself
    log_words = local[:, 0]
    ends = local[:, 2]
    prose = local[:, LOCAL_NAMES.index("prose")]
    short = local[:, LOCAL_NAMES.index("short")]

    def shift(a: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64]:
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
    run = np.zeros(n)
    i = 0
    while i < n:
        j = i
        while j < n and short[j]:
            j += 1
        if j > i:
            run[i:j] = j - i
            i = j
        else:
            i += 1
    cum = np.concatenate([[0.0], np.cumsum(prose)])
    lo, hi = np.clip(np.arange(n) - 3, 0, n), np.clip(np.arange(n) + 4, 0, n)
    window = (cum[hi] - cum[lo]) / 7.0

    pos = np.arange(n, dtype=np.float64)
    cta = local[:, LOCAL_NAMES.index("cta")]
    colon = local[:, LOCAL_NAMES.index("ends_colon")]
    # a colon-ended label ("Read more from X:", "Related:") heads the short lines after it
    near_colon = np.maximum.reduce([shift(colon, 1), shift(colon, 2), shift(colon, 3)])
    comments = local[:, LOCAL_NAMES.index("comment_marker")]
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


def model_view(
    lines: Sequence[str], words: Sequence[list[str]], vetoed: npt.NDArray[np.bool_]
) -> tuple[list[int], npt.NDArray[np.float64]]:
    """The lines the model scores and their features.

    Vetoed lines are left out, so that a caption taken out of the middle of an article
    does not look like the article's end; the first line stays (it is read as the title).
    """
    keep = [i for i, v in enumerate(vetoed) if not v or i == 0]
    return keep, line_features([lines[i] for i in keep], [words[i] for i in keep])


def line_vetoes(lines: Sequence[str], words: Sequence[list[str]] | None = None) -> npt.NDArray[np.bool_]:
    """Lines that a general rule marks as furniture (`patterns.is_vetoed`), and the
    short line right after a media label or player notice (the media's title or caption)."""
    if words is None:
        words = line_words(lines)
    sizes = [effective_words(line, w) for line, w in zip(lines, words, strict=True)]
    vetoed = np.array([pat.is_vetoed(line, n) for line, n in zip(lines, sizes, strict=True)], dtype=bool)
    for i in range(1, len(lines)):
        if sizes[i] <= 25 and not lines[i].endswith(".") and pat.is_media_label(lines[i - 1]):
            vetoed[i] = True
    # "Read more from X:" heads a list of headlines: short lines without a full stop.
    for i, line in enumerate(lines):
        if line.endswith(":") and sizes[i] <= 8 and pat.call_to_action_hits(line.lower().split()):
            j = i + 1
            while j < len(lines) and sizes[j] <= 15 and not _SENT_END.search(lines[j]):
                vetoed[j] = True
                j += 1
    # An appeal for support comes as a block: its neighbours that speak as the site
    # ("we know how important it is…") belong to it.
    appeal = [pat.is_appeal(line) for line in lines]
    for i in [i for i, a in enumerate(appeal) if a]:
        vetoed[i] = True
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and not appeal[j] and pat.speaks_as_site(lines[j]):
                vetoed[j] = True
                j += step
    return vetoed
