"""What a document contributes to story grouping: weighted words, names, when (pure).

`story_features(doc)` turns an enriched Document into a small, JSON-safe record that
the story store keeps per document, so a later arrival can be compared with it
without re-reading the document:

* `terms`: content words weighted by sublinear term frequency times a *fixed*
  rarity (wordfreq's Zipf frequency for English), L2-normalised. The rarity comes
  from a general-English word list, not from the documents seen so far, so a
  document's vector never changes as others arrive: that is what keeps the final
  grouping independent of arrival order.
* `names`: canonical entity names (from the entities stage), lower-cased, leading
  "the" dropped, weighted by mention count and rarity, L2-normalised. Labels are
  ignored: the small spaCy model often labels one name differently in two articles.
* `years`, `numbers`, `dates`: what tells two look-alike events apart (two rehab
  stays in different years, 23 pirates captured versus 26).
* `keys`: the blocking keys (rarest names and words) under which the document is
  filed; only documents sharing a key are ever compared (`blocking_keys`: from `names`
  and `terms` alone).
* `norms`: what `terms`, `lede` and `names` were divided by, so that a store can keep
  each word's count and weigh it again exactly (`weight_counts`, `reweigh`): a weight of five
  decimals compresses poorly, a count (mostly 1) to almost nothing.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pipeline.calendar import MONTHS as _MONTHS
from pipeline.document import Document

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])")
_DATE = re.compile(
    r"\b(" + "|".join(m.capitalize() for m in _MONTHS) + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b"
    r"|\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(m.capitalize() for m in _MONTHS) + r")\b"
)
_MON = r"(?P<mon>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*)\.?"
# A date with its year, as a dateline writes it: "Jan 5, 2011", "9 September 2013",
# "12 / 16 / 08" (month first: the US form ECB+'s outlets write), "2011-01-05".
_FULL_DATES = (
    re.compile(rf"\b{_MON}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MON},?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    re.compile(r"\b(?P<mon>\d{1,2}) ?/ ?(?P<day>\d{1,2}) ?/ ?(?P<year>(?:19|20)?\d\d)\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<mon>\d\d)-(?P<day>\d\d)\b"),
)
_DATELINE_CHARS = 400  # the title, the date line and the lede
# Words this common say nothing about which event an article reports (Zipf >= 5.5 is
# roughly the 400 most frequent English words: "said", "people", "year", ...).
_COMMON_ZIPF = 5.5
_MAX_TERMS = 120
_LEDE_CHARS = 300  # the title and first sentence or two: who did what, where and when
# ECB+-style token spacing ("5. 9", "8: 41"): glue decimals back, drop clock times.
_SPLIT_DECIMAL = re.compile(r"(\d)\. (\d)")
_TIME = re.compile(r"\b\d{1,2} ?: ?\d{2}\b")
_MAX_KEYS = 12


@dataclass(frozen=True, slots=True, kw_only=True)
class StoryFeatures:
    """The per-document record the story store keeps (JSON-safe through to_dict)."""

    id: str
    terms: dict[str, float] = field(default_factory=dict)
    names: dict[str, float] = field(default_factory=dict)
    years: tuple[int, ...] = ()
    numbers: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()  # "12-06": month-day mentioned in the text
    published: str = ""  # ISO date of the article when known
    dated: str = ""  # published, else the date its first lines give (`dateline`)
    when: str = ""  # ISO date: published, else received; places it in the time window
    keys: tuple[str, ...] = ()
    lede: dict[str, float] = field(default_factory=dict)  # terms of the title and first lines
    vocab: tuple[str, ...] = ()  # every uncommon word stem, to check "is this name mentioned?"
    who: tuple[tuple[str, ...], ...] = ()  # prominent people, each as its word stems
    where: tuple[tuple[str, ...], ...] = ()  # prominent places
    orgs: tuple[tuple[str, ...], ...] = ()  # prominent organisations and groups
    lede_numbers: tuple[str, ...] = ()  # the figures of the lede: 23 pirates, magnitude 5.6
    # What terms, lede and names were divided by (`weight_counts`): () when unknown.
    norms: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "terms": self.terms,
            "names": self.names,
            "years": list(self.years),
            "numbers": list(self.numbers),
            "dates": list(self.dates),
            "published": self.published,
            "dated": self.dated,
            "when": self.when,
            "keys": list(self.keys),
            "lede": self.lede,
            "vocab": list(self.vocab),
            "who": [list(n) for n in self.who],
            "where": [list(n) for n in self.where],
            "orgs": [list(n) for n in self.orgs],
            "lede_numbers": list(self.lede_numbers),
            "norms": list(self.norms),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoryFeatures:
        return cls(
            id=data["id"],
            terms=dict(data.get("terms", {})),
            names=dict(data.get("names", {})),
            years=tuple(data.get("years", ())),
            numbers=tuple(data.get("numbers", ())),
            dates=tuple(data.get("dates", ())),
            published=data.get("published", ""),
            dated=data.get("dated", ""),
            when=data.get("when", ""),
            keys=tuple(data.get("keys", ())),
            lede=dict(data.get("lede", {})),
            vocab=tuple(data.get("vocab", ())),
            who=tuple(tuple(n) for n in data.get("who", ())),
            where=tuple(tuple(n) for n in data.get("where", ())),
            orgs=tuple(tuple(n) for n in data.get("orgs", ())),
            lede_numbers=tuple(data.get("lede_numbers", ())),
            norms=tuple(data.get("norms", ())),
        )


@functools.lru_cache(maxsize=200_000)
def rarity(word: str) -> float:
    """How much a word says about one event: 0 for the commonest words, up to 5.5."""
    from wordfreq import zipf_frequency

    return max(0.0, _COMMON_ZIPF - zipf_frequency(word, "en"))


def stem(word: str) -> str:
    """A crude plural fold, enough to match "pirates" with "pirate"."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def name_key(canonical: str) -> str:
    """One spelling per name: lower-case, no leading article, single spaces."""
    name = " ".join(canonical.lower().replace("’", "'").replace(" - ", "-").split())
    return re.sub(r"^(?:the|a|an)\s+", "", name)


def story_features(doc: Document) -> StoryFeatures:
    """The story-grouping view of `doc` (reads title, text, entities, published)."""
    text = f"{doc.title}\n{doc.text}" if doc.title and not doc.text.startswith(doc.title) else doc.text
    text = _TIME.sub(" ", _SPLIT_DECIMAL.sub(r"\1.\2", text))
    terms, terms_norm = _weighted_terms(text)
    lede, lede_norm = _weighted_terms(text[:_LEDE_CHARS])
    name_counts: Counter[str] = Counter()
    for entity in doc.entities:
        key = name_key(entity.canonical)
        if key and len(key) > 1:
            name_counts[key] += entity.count
    names, names_norm = _normalise({k: _name_score(k, n) for k, n in name_counts.items()})
    terms = dict(sorted(terms.items(), key=lambda kv: -kv[1])[:_MAX_TERMS])
    return StoryFeatures(
        id=doc.id,
        terms=terms,
        names=names,
        years=tuple(sorted({int(y) for y in _YEAR.findall(text)})),
        numbers=tuple(sorted(_numbers(text))),
        lede_numbers=tuple(sorted(_numbers(text[:_LEDE_CHARS]))),
        dates=tuple(sorted(_dates(text))),
        published=doc.published[:10],
        dated=doc.published[:10] or dateline(text),
        when=(doc.published or doc.received_at)[:10],
        keys=blocking_keys(names, terms),
        lede=dict(sorted(lede.items(), key=lambda kv: -kv[1])[:_MAX_TERMS]),
        vocab=tuple(sorted({w for w in map(stem, _WORD.findall(text)) if rarity(w) >= 1.0})),
        who=_prominent(doc, {"PERSON"}),
        where=_prominent(doc, {"GPE", "LOC", "FAC"}),
        orgs=_prominent(doc, {"ORG", "NORP"}),
        norms=(terms_norm, lede_norm, names_norm),
    )


def blocking_keys(names: dict[str, float], terms: dict[str, float]) -> tuple[str, ...]:
    """The keys a document is filed under: its heaviest names (the first of equals in
    their order), then its first terms (heaviest first, as `terms` keeps them), _MAX_KEYS
    in all."""
    keys = [f"n:{k}" for k, _ in sorted(names.items(), key=lambda kv: -kv[1])[: _MAX_KEYS // 2]]
    keys += [f"t:{k}" for k, _ in list(terms.items())[: _MAX_KEYS - len(keys)]]
    return tuple(sorted(set(keys)))


def weight_counts(weights: dict[str, float], norm: float, *, names: bool = False) -> list[int] | None:
    """The counts that `weights` (of terms, or of `names`) were weighed from with this
    norm, in order: `reweigh(keys, counts, norm)` gives the weights back exactly. None when
    some weight is not one (another rarity table, a weight from elsewhere)."""
    score = _name_score if names else _term_score
    out = []
    for key, weight in weights.items():
        base = score(key, 1)
        if weight <= 0 or base <= 0 or norm <= 0:
            return None
        guess = round(math.exp(min(weight * norm / base - 1, 40.0)))
        found = [
            n
            for n in (guess, guess - 1, guess + 1)
            if n >= 1 and reweigh([key], [n], norm, names=names)[key] == weight
        ]
        if not found:
            return None
        out.append(found[0])
    return out


def reweigh(keys: list[str], counts: list[int], norm: float, *, names: bool = False) -> dict[str, float]:
    """`counts` undone: each key's weight, as `story_features` gave it."""
    score = _name_score if names else _term_score
    return {k: round(score(k, n) / norm, 5) for k, n in zip(keys, counts, strict=True)}


def dateline(text: str) -> str:
    """The article's own date when its first lines give one with its year (ISO), else "".

    Reports of one event are dated within days of each other; look-alike events of one
    kind (two earthquakes, two title fights) are months or years apart.
    """
    head = text[:_DATELINE_CHARS]
    found = sorted((m.start(), m) for pattern in _FULL_DATES for m in pattern.finditer(head))
    for _, m in found:
        mon, day, year = m.group("mon"), int(m.group("day")), int(m.group("year"))
        month = (
            int(mon)
            if mon.isdigit()
            else _MONTHS.index(next(x for x in _MONTHS if x.startswith(mon.lower()[:3]))) + 1
        )
        year += 2000 if year < 100 else 0
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return ""


def _weighted_terms(text: str) -> tuple[dict[str, float], float]:
    found = Counter(stem(w) for w in _WORD.findall(text))
    return _normalise({w: _term_score(w, n) for w, n in found.items() if len(w) > 1})


def _term_score(word: str, n: int) -> float:
    """A word's weight before normalising: sublinear in its count, times its rarity."""
    return (1 + math.log(n)) * rarity(word)


def _name_score(key: str, n: int) -> float:
    return (1 + math.log(n)) * _name_rarity(key)


def _prominent(doc: Document, labels: set[str]) -> tuple[tuple[str, ...], ...]:
    """Names of `labels` mentioned twice or in the lede: who, where an article is about."""
    out = []
    # The most mentioned first: who[0] is the person an article is most about.
    for entity in sorted(doc.entities, key=lambda e: (-e.count, e.start)):
        if entity.label in labels and (entity.count >= 2 or entity.start < _LEDE_CHARS):
            words = tuple(w for w in map(stem, _WORD.findall(name_key(entity.canonical))) if rarity(w) >= 1.0)
            if words and words not in out:
                out.append(words)
    return tuple(out)


def _name_rarity(key: str) -> float:
    # A name is as telling as its rarest word: "promises treatment center" is rare as a whole.
    return max((rarity(stem(w)) for w in _WORD.findall(key)), default=0.0) + 1.0


def _normalise(weights: dict[str, float]) -> tuple[dict[str, float], float]:
    """The weights divided by their L2 norm, to 5 decimals; and the norm."""
    norm = math.sqrt(sum(v * v for v in weights.values()))
    return ({k: round(v / norm, 5) for k, v in weights.items() if v > 0} if norm else {}), norm


def _numbers(text: str) -> set[str]:
    years = set(_YEAR.findall(text))
    out = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "")
        # Single digits are everywhere ("2 - year", "1 of 3"); years are handled apart.
        if value not in years and not (value.isdigit() and int(value) < 10):
            out.add(value)
    return out


def _dates(text: str) -> set[str]:
    out = set()
    for m1, d1, d2, m2 in _DATE.findall(text):
        month = _MONTHS.index((m1 or m2).lower()) + 1
        day = int(d1 or d2)
        if 1 <= day <= 31:
            out.add(f"{month:02d}-{day:02d}")
    return out
