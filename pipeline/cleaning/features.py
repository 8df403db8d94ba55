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
    "title_ratio", "digit_ratio", "all_caps", "cta", "credit", "byline", "date", "urlish",
    "bullet", "duplicate", "is_title", "prose", "short",
)  # fmt: skip
CONTEXT_NAMES = (
    "rel_pos", "prose_before", "prose_after", "log_short_run", "window_prose",
    "prev_log_words", "next_log_words", "prev_ends", "next_ends", "first", "last",
)  # fmt: skip
FEATURE_NAMES = LOCAL_NAMES + CONTEXT_NAMES


def effective_words(line: str, words: Sequence[str] | None = None) -> int:
    """Word count that also works for scripts without spaces (two CJK characters ≈ a word)."""
    n = len(_WORD.findall(line) if words is None else words)
    if line.isascii():
        return n
    cjk = len(_CJK.findall(line))
    return max(n - (1 if cjk else 0) + cjk // 2, 1 if n else 0)


def _local(line: str, words: list[str], key: str, counts: Counter[str], title: str) -> list[float]:
    # Counting with C-level regex scans, map() and set lookups: this runs on every line.
    lower_line = line.lower()
    lower = key.split()
    n = effective_words(line, words)
    alpha = [w for w in words if w[0].isalpha()]
    n_alpha = max(len(alpha), 1)
    chars = len(line)
    ends = 1.0 if _SENT_END.search(line) else 0.0
    return [
        math.log1p(n),
        math.log1p(chars),
        ends,
        sum(map(pat.STOPWORDS.__contains__, lower)) / n_alpha,
        math.log1p(len(_SENT_PUNCT.findall(line))),
        math.log1p(line.count(",") + line.count("、")),
        len(_CAP_WORD.findall(line)) / n_alpha,
        len(_DIGIT.findall(line)) / max(chars, 1),
        1.0 if line.isupper() else 0.0,
        1.0 if pat.is_call_to_action(lower) else 0.0,
        1.0 if pat.is_credit(lower_line, lower) else 0.0,
        1.0 if pat.is_byline(lower_line, lower) else 0.0,
        1.0 if n <= 12 and pat.is_date(lower_line, lower) else 0.0,
        1.0 if pat.URLISH.search(line) else 0.0,
        1.0 if _BULLET.search(line) else 0.0,
        1.0 if counts[key] > 1 else 0.0,
        1.0 if key and key == title else 0.0,
        1.0 if n >= 12 and ends else 0.0,
        1.0 if n <= 5 else 0.0,
    ]


def line_features(lines: Sequence[str]) -> npt.NDArray[np.float64]:
    """Feature matrix (one row per line, columns in FEATURE_NAMES order)."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    words = [_WORD.findall(line) for line in lines]
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

    def shift(a: npt.NDArray[np.float64], k: int) -> npt.NDArray[np.float64]:
        out = np.zeros_like(a)
        if k > 0:
            out[k:] = a[:-k]
        else:
            out[:k] = a[-k:]
        return out

    pos = np.arange(n, dtype=np.float64)
    context = np.column_stack([
        pos / max(n - 1, 1),
        before,
        after,
        np.log1p(run),
        window,
        shift(log_words, 1),
        shift(log_words, -1),
        shift(ends, 1),
        shift(ends, -1),
        (pos == 0).astype(np.float64),
        (pos == n - 1).astype(np.float64),
    ])
    return np.hstack([local, context])
