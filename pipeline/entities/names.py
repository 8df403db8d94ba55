"""What a name is: titles, possessives, folding and transliteration keys (pure).

Everything here works on strings alone, so the within-document and the
cross-document matching agree on what "the same name" means.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import lru_cache

# Titles dropped from the front of a person's canonical name (the surface keeps them).
# Royal and religious titles are part of how the person is named ("King Charles"), so
# they stay.
_TITLE_WORDS = (
    r"Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sir|Dame|Lord|Lady|Rev|Reverend|Sheikh|"
    r"President|Vice[- ]President|(?:Prime|Foreign|Defen[cs]e|Finance|Interior)\s+Minister|"
    r"Minister|Secretary[- ]General|Secretary(?:\s+of\s+State)?|Chancellor|Premier|"
    r"Governor|Gov|Senator|Sen|Representative|Rep|Congressman|Congresswoman|Mayor|"
    r"General|Gen|Admiral|Adm|Colonel|Col|Captain|Capt|Lieutenant|Lt|Sergeant|Sgt|"
    r"Judge|Justice|Attorney|Lawyer|Detective|Det|Deputy|Officer|Sheriff|Coach|Chairman|"
    r"Chairwoman|Chief|Comedian|Actor|Actress|Singer"
)
_TITLES = re.compile(rf"^(?:(?:{_TITLE_WORDS})(?:\.\s*|\s+))+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=[sz])['’])$")
# A nickname between the names: 'Luis Gerardo (Jerry) Ortiz', 'Kimani "Kiki" Gray'.
_NICKNAME = re.compile(r"\s+(?:\([^)]*\)|\"[^\"]*\"|“[^”]*”|'[^'\s]+'|‘[^’\s]+’)(?=\s)")
_EDGE_PUNCT = " \t\n.,:;!?\"'“”‘’()[]-–—*"
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})
_LEADING_THE = re.compile(r"^the\s+", re.IGNORECASE)
_ACRONYM = re.compile(r"^(?:[A-Z]\.?){2,6}$")
_STOP = frozenset({"of", "the", "and", "for", "in", "on", "at", "to", "de", "du", "la", "le", "&"})
# British and American spellings that name the same thing.
_SPELLING = {
    "centre": "center",
    "defence": "defense",
    "organisation": "organization",
    "programme": "program",
    "theatre": "theater",
    "labour": "labor",
}


def tidy(surface: str) -> str:
    """Whitespace collapsed and stray edge punctuation removed; nothing else."""
    return " ".join(surface.split()).strip(_EDGE_PUNCT)


def strip_possessive(name: str) -> str:
    return _POSSESSIVE.sub("", name)


def strip_titles(name: str) -> str:
    """'Mr Rutte' -> 'Rutte', 'Sir Keir Starmer' -> 'Keir Starmer'; never to nothing."""
    stripped = _TITLES.sub("", name)
    return stripped if stripped.strip() else name


def person_name(surface: str) -> str:
    """The canonical form of a person mention: no title, possessive or nickname."""
    name = _NICKNAME.sub(" ", tidy(surface))
    return tidy(strip_titles(strip_possessive(tidy(name))))


def thing_name(surface: str) -> str:
    """The canonical form of an organisation or place mention: no 'the', no possessive."""
    return tidy(_LEADING_THE.sub("", strip_possessive(tidy(surface))))


@lru_cache(maxsize=65536)
def fold(name: str) -> str:
    """A comparison key: accents, case, punctuation and UK/US spelling ignored."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’`]", "", text.replace("&", " and "))
    words = re.sub(r"[^\w]+", " ", text).split()
    return " ".join(_SPELLING.get(w, w) for w in words)


def words(name: str) -> list[str]:
    return fold(name).split()


def is_acronym(name: str) -> bool:
    return bool(_ACRONYM.match(name.replace(" ", "")))


def acronym(name: str) -> str:
    """Initials of the significant words: 'Institute for the Study of War' -> 'ISW'."""
    initials = [w[0] for w in re.split(r"[\s\-]+", name) if w and w.lower() not in _STOP]
    return "".join(initials).upper() if len(initials) >= 2 else ""


def person_parts(name: str) -> tuple[str, str] | None:
    """(first, last) of a person's name, or None for a single word.

    Suffixes (Jr, III) and initials (the 'W.' of 'George W. Bush') are ignored.
    """
    tokens = [t for t in words(name) if t not in _SUFFIXES and len(t) > 1]
    if len(tokens) < 2:
        return None
    return tokens[0], tokens[-1]


def surname(name: str) -> str:
    tokens = [t for t in words(name) if t not in _SUFFIXES and len(t) > 1]
    return tokens[-1] if tokens else ""


# Romanisations of Cyrillic (and other) names differ in a few regular ways:
# y/i/ii/iy endings, kh/h, zh/z, ts/tz, w/v, g/h (Ukrainian h for Russian g).
_TRANSLIT = (
    ("kh", "h"),
    ("zh", "z"),
    ("tch", "ch"),
    ("tz", "ts"),
    ("ph", "f"),
    ("ck", "k"),
    ("q", "k"),
    ("x", "ks"),
    ("w", "v"),
    ("j", "y"),
    ("c", "k"),
    ("ie", "e"),
)


@lru_cache(maxsize=65536)
def translit(word: str) -> str:
    """A spelling with the usual romanisation differences evened out."""
    text = fold(word).replace(" ", "")
    text = re.sub(r"(?:iy|yy|ii|ij|iy)$", "i", text)
    for a, b in _TRANSLIT:
        text = text.replace(a, b)
    text = text.replace("y", "i")
    return re.sub(r"(.)\1+", r"\1", text)  # doubled letters: Bettie/Betty, Rutte


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """The consonant skeleton of a transliterated word: Sybiha, Sibiga -> 'sbh'; the first letter stays.

    A coarse key: equal skeletons make two spellings candidates, and `similar`
    decides. Other vowels go (Volodymyr/Vladimir -> 'vldmr'); g and h are one sound here.
    """
    text = translit(word).replace("g", "h")
    return text[:1] + re.sub(r"[aeiou]", "", text[1:])


def similar(a: str, b: str) -> float:
    """Similarity of two transliterated spellings, 0..1 (difflib ratio)."""
    ta, tb = translit(a), translit(b)
    if ta == tb:
        return 1.0
    return SequenceMatcher(None, ta, tb).ratio()
