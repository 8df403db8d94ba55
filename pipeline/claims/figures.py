"""Numbers inside a claim as structured values (pure).

"another 20 air defence systems" -> Figure(value=20, unit="air defence systems", modifier="another")
"$725m (£570m)"                  -> Figure(value=725e6, unit="USD")
"more than $61 billion"          -> Figure(value=61e9, unit="USD", modifier="more than")
"20%"                            -> Figure(value=20, unit="%")
Dates, years, clock times and durations are not figures: they say when, not how much.
"""

from __future__ import annotations

import math
import re

from pipeline.calendar import MONTH_ABBREVIATIONS, MONTHS
from pipeline.document import Figure


def _words(text: str) -> frozenset[str]:
    """A word list written as running text (easier to read and edit than a literal)."""
    return frozenset(text.split())


_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
}
_SCALE = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
    "tn": 1e12,
    "trillion": 1e12,
}
_CURRENCY = {"$": "USD", "us$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "₴": "UAH", "₽": "RUB"}
_CURRENCY_WORDS = {
    "dollars": "USD",
    "euros": "EUR",
    "pounds": "GBP",
    "hryvnias": "UAH",
    "roubles": "RUB",
    "rubles": "RUB",
    "yuan": "CNY",
}
_MODIFIERS = (
    "at least",
    "at most",
    "more than",
    "less than",
    "fewer than",
    "up to",
    "nearly",
    "almost",
    "about",
    "around",
    "roughly",
    "approximately",
    "over",
    "under",
    "some",
    "another",
    "an additional",
    "an extra",
    "only",
    "just",
    "exactly",
    "as many as",
)
_NOT_OBJECTS = _words("""
years year months month weeks week days day hours hour minutes minute seconds second decades
decade centuries century times o'clock am pm a.m. p.m. percent per
""")
_MONTHS = frozenset(MONTHS + MONTH_ABBREVIATIONS)
_STOP = _words("""
to of in on at for from by with and or but that which who as than the a an is are was were be
been has have had will would could should can may might its their his her our this these those
it they
""")
_DEFINITE = _words("the these those their its his her our your my both all")
_ADJ_MODIFIERS = ("additional", "more", "new", "extra", "further")

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_WORD_NUM = r"(?:" + "|".join(sorted(_WORDS, key=len, reverse=True)) + r")"
_MOD = r"(?:(?P<mod>" + "|".join(m.replace(" ", r"\s+") for m in _MODIFIERS) + r")\s+)?"
_MONEY = re.compile(
    _MOD
    + r"(?P<cur>US\$|\$|£|€|¥|₴|₽)\s?(?P<num>"
    + _NUM
    + r")\s?(?P<scale>k|m|mn|bn|b|tn|thousand|million|billion|trillion)?\b"
    r"(?P<conv>\s*\((?:US\$|\$|£|€)\s?"
    + _NUM
    + r"\s?(?:k|m|mn|bn|b|tn|thousand|million|billion|trillion)?\))?",
    re.IGNORECASE,
)
_PERCENT = re.compile(_MOD + r"(?P<num>" + _NUM + r")\s?(?:%|per\s?cent\b|percent\b)", re.IGNORECASE)
_COUNT = re.compile(
    _MOD
    + r"(?<![\w$£€.,-])(?P<num>"
    + _NUM
    + r"|"
    + _WORD_NUM
    + r")(?P<scale>\s(?:thousand|million|billion))?"
    r"(?P<obj>(?:\s[A-Za-z][\w-]*){1,5})",
    re.IGNORECASE,
)

# What every figure holds: a digit or a number in words (most sentences have neither).
_ANY_NUMBER = re.compile(r"\d|" + _WORD_NUM, re.IGNORECASE)
# What a sum of money holds (a currency sign) and a percentage ("%", "per cent", "percent").
_ANY_CURRENCY = re.compile(r"[$£€¥₴₽]")
_ANY_PERCENT = re.compile(r"%|per", re.IGNORECASE)


def parse_figures(text: str) -> tuple[Figure, ...]:
    """Every figure in `text`, in order of appearance."""
    if _ANY_NUMBER.search(text) is None:
        return ()  # no figure without a number: spare the three patterns below
    found: list[tuple[int, int, Figure]] = []
    # (each pattern runs only on a text that holds what it needs)
    for m in _MONEY.finditer(text) if _ANY_CURRENCY.search(text) else ():
        value = _number(m.group("num")) * _SCALE.get((m.group("scale") or "").lower(), 1)
        found.append(
            (
                m.start(),
                m.end(),
                Figure(
                    text=_clean(m.group()),
                    value=value,
                    unit=_CURRENCY[m.group("cur").lower()],
                    modifier=_mod(m),
                ),
            )
        )
    for m in _PERCENT.finditer(text) if _ANY_PERCENT.search(text) else ():
        if not _overlaps(found, m.start(), m.end()):
            found.append(
                (
                    m.start(),
                    m.end(),
                    Figure(text=_clean(m.group()), value=_number(m.group("num")), unit="%", modifier=_mod(m)),
                )
            )
    for m in _COUNT.finditer(text):
        if _overlaps(found, m.start(), m.end()):
            continue
        figure = _count(m, text)
        if figure is not None:
            found.append((m.start(), m.start() + len(figure.text) + _lead(m), figure))
    found.sort(key=lambda f: f[0])
    # A number too big for a float (a 400-digit string) counts nothing real, and an
    # infinite value is no JSON: the indices refused the whole document for it.
    return tuple(f for _, _, f in found if f.value is None or math.isfinite(f.value))


def _count(m: re.Match[str], text: str) -> Figure | None:
    raw = m.group("num")
    value = _number(raw)
    words = m.group("obj").split()
    scale = (m.group("scale") or "").strip().lower()
    if scale:
        value *= _SCALE[scale]
    if words and words[0].lower() in _CURRENCY_WORDS:
        unit = _CURRENCY_WORDS[words[0].lower()]
        shown = f"{raw}{' ' + scale if scale else ''} {words[0]}"
        return Figure(text=_clean(_prefix(m) + shown), value=value, unit=unit, modifier=_mod(m))
    if _is_date_or_year(raw, words, text, m.start("num")):
        return None
    if _refers_back(raw, m, text):
        return None
    obj: list[str] = []
    for w in words:
        low = w.lower().strip(".,;:")
        if low in _STOP or not w[0].isalpha():
            break
        obj.append(w.strip(".,;:"))
        if w[-1] in ".,;:":
            break
    # the counted object ends at its last plural noun ("32 members gathered" -> "members")
    while obj and not _plural(obj[-1]) and len(obj) > 1:
        obj.pop()
    if not obj or obj[0].lower() in _NOT_OBJECTS or not (_plural(obj[-1]) or value == 1):
        return None
    if any(w.lower() in _NOT_OBJECTS for w in obj):
        return None
    shown = f"{raw}{' ' + scale if scale else ''} {' '.join(obj)}"
    unit_words = [w for w in obj if w.lower() not in _ADJ_MODIFIERS]
    return Figure(
        text=_clean(_prefix(m) + shown), value=value, unit=" ".join(unit_words).lower(), modifier=_mod(m)
    )


def _is_date_or_year(raw: str, words: list[str], text: str, at: int) -> bool:
    before = text[max(0, at - 12) : at].lower().split()
    if words and words[0].lower().strip(".,") in _MONTHS:
        return True
    if before and before[-1].strip(".,") in _MONTHS:
        return True
    return bool(re.fullmatch(r"(1[89]|20)\d\d", raw)) or raw.endswith(("st", "nd", "rd", "th"))


def _refers_back(raw: str, m: re.Match[str], text: str) -> bool:
    """A number in words after a definite word counts no new thing: it refers to ones already
    named ("when the two men met", "both sides", "their three children")."""
    if raw.lower() not in _WORDS or m.group("mod"):
        return False
    before = text[max(0, m.start() - 16) : m.start()].lower().split()
    return bool(before) and before[-1] in _DEFINITE


def _plural(word: str) -> bool:
    low = word.lower()
    return (len(low) > 2 and low.endswith("s") and not low.endswith(("ss", "us", "is"))) or low in (
        "people",
        "children",
        "men",
        "women",
        "troops",
        "personnel",
        "police",
        "staff",
        "equipment",
    )


def _number(raw: str) -> float:
    low = raw.lower()
    if low in _WORDS:
        return float(_WORDS[low])
    return float(raw.replace(",", ""))


def _mod(m: re.Match[str]) -> str:
    return " ".join((m.group("mod") or "").lower().split())


def _prefix(m: re.Match[str]) -> str:
    return m.group()[: m.start("num") - m.start()]


def _lead(m: re.Match[str]) -> int:
    return 0


def _clean(s: str) -> str:
    return " ".join(s.split())


def _overlaps(found: list[tuple[int, int, Figure]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e, _ in found)
