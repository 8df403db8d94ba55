"""Big, realistic plain-text inputs made from the seed articles (pure; reads seeds/ once).

`big_text(n_bytes)` writes the five seed articles again and again, each copy with its
people renamed (a new first name and surname per copy and person) and its numbers
changed, so a big input reads like many different articles of one beat: names and
figures keep changing, the places, organisations and page furniture repeat. Used by
the scaling test (tests/quality/test_scaling.py) and bench/big_files.py.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = sorted((REPO / "seeds" / "documents").glob("*.txt"))

_SYLLABLES = (
    "ka",
    "ren",
    "dor",
    "val",
    "mi",
    "sto",
    "lan",
    "ber",
    "fa",
    "gro",
    "hel",
    "tis",
    "mar",
    "op",
    "ul",
    "ven",
    "zi",
    "ra",
    "bel",
    "co",
    "dru",
    "nes",
    "pa",
    "qui",
    "sar",
    "tam",
    "bo",
    "wik",
    "ly",
    "ge",
)
_NUMBER = re.compile(r"\d+")


@functools.cache
def _name_words() -> tuple[str, ...]:
    """Every word of the seed people's names and name variants (Mark, Rutte, Sybiha…)."""
    gold = json.loads((REPO / "seeds" / "gold.json").read_text(encoding="utf-8"))
    words: set[str] = set()
    for e in gold["entities"]:
        if e["type"] == "PERSON":
            for name in (e["canonical"], *e["variants"]):
                words |= {w for w in re.findall(r"[A-Z][a-z]+", name) if w not in ("Mr", "Sir", "President")}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))  # the same order in every process


def _invented(n: int, length: int) -> str:
    """A made-up capitalised name, distinct for every n below 30**length (base-30 syllables)."""
    n = n * 7919 % len(_SYLLABLES) ** length  # 7919 is prime to 30: a shuffle, not a counter
    parts = []
    for _ in range(length):
        parts.append(_SYLLABLES[n % len(_SYLLABLES)])
        n //= len(_SYLLABLES)
    return "".join(parts).capitalize()


def _copy(text: str, k: int) -> str:
    """Copy k of a seed: people renamed, numbers changed (copy 0 is the seed itself)."""
    if k == 0:
        return text
    names = _name_words()
    rename = {w: _invented(k * len(names) + i, 3) for i, w in enumerate(names)}
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")
    text = pattern.sub(lambda m: rename[m.group()], text)
    return _NUMBER.sub(lambda m: str(int(m.group()) + 3 * k) if len(m.group()) < 9 else m.group(), text)


@functools.cache
def _seeds() -> tuple[str, ...]:
    return tuple(p.read_text(encoding="utf-8") for p in SEEDS)


def big_text(n_bytes: int) -> str:
    """About `n_bytes` (UTF-8) of article text: copies of the seeds, each a little different."""
    parts: list[str] = []
    size = 0
    k = 0
    while size < n_bytes:
        for seed in _seeds():
            part = _copy(seed, k).strip() + "\n\n"
            parts.append(part)
            size += len(part.encode("utf-8"))
            if size >= n_bytes:
                break
        k += 1
    return "".join(parts)


def big_shape(n_bytes: int, shape: str) -> tuple[str, str]:
    """(raw input, raw_format) of about `n_bytes` in one of the shapes a big input comes in:
    "text" (`big_text`), "oneline" (the same text without a single line break: no
    paragraphs at all) or "html" (its paragraphs as <p> of one page, with a menu and a footer)."""
    if shape == "text":
        return big_text(n_bytes), "text"
    if shape == "oneline":
        return " ".join(big_text(n_bytes).split()), "text"
    if shape == "html":
        paragraphs = [p.strip() for p in big_text(int(n_bytes * 0.9)).split("\n\n") if p.strip()]
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        menu = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
        return (
            f"<!DOCTYPE html><html><head><title>{html.escape(paragraphs[0][:80])}</title></head>"
            f"<body><nav><ul>{menu}</ul></nav><article><h1>{html.escape(paragraphs[0][:80])}</h1>\n"
            f"{body}\n</article><footer><p>© 2024 The Seed Times. All rights reserved.</p>"
            f"</footer></body></html>"
        ), "html"
    raise ValueError(f"unknown shape {shape!r}: text, oneline or html")
