"""How an entity is found by any of its names, in both indices (pure).

Each indexed document carries, per entity it mentions,
- an entity key, `kind:canonical` ("place:Kyiv", "person:Mark Rutte"), what a search for
  the entity matches (`entity_keys`), and
- name keys, `form=>entity key`, one per form the entity can be looked up by (`name_keys`):
  `n:` and the folded name for every spelling the document wrote and the canonical name
  (accents, case, "the", titles and UK/US spelling folded: "n:kiev", "n:mr rutte",
  "n:rutte"), and for a person `p:` and the consonant skeleton of the surname
  ("p:rt"), which finds other spellings of it (Sibiga for Sybiha).
Claims' speakers are keyed by their folded canonical name (`speaker_keys`).

A query names an entity when one of its word sequences, looked up by `query_forms`, hits
name keys; `pick` then keeps the entities that really carry that name (a skeleton is
coarse: Rutte and Root share one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.document import Document, Entity
from pipeline.entities.gazetteer import load_gazetteer
from pipeline.entities.matching import FIRST_NAME_SIMILARITY, SURNAME_SIMILARITY
from pipeline.entities.names import (
    fold,
    person_name,
    person_parts,
    similar,
    skeleton,
    surname,
    thing_name,
)

KIND = {"PERSON": "person", "ORG": "org", "NORP": "org", "GPE": "place", "LOC": "place", "FAC": "place"}
SEP = "=>"
# Single words never looked up as names: they would match some entity's stray form.
_NOT_NAMES = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "is",
        "was",
        "are",
        "be",
        "it",
        "he",
        "she",
        "they",
        "we",
        "i",
        "you",
        "his",
        "her",
        "its",
        "mr",
        "mrs",
        "ms",
        "dr",
        "sir",
        "said",
        "says",
        "new",
        "minister",
        "president",
        "chief",
        "us",
        "who",
        "not",
        "no",
        "all",
        "may",
        "will",
        "can",
    }
)


def is_name_form(form: str) -> bool:
    """Whether a folded form can stand for a name in text (not "us", "the", one letter)."""
    return len(form) >= 2 and form not in _NOT_NAMES


def kind(label: str) -> str:
    return KIND.get(label, "other")


def entity_key(label: str, canonical: str) -> str:
    return f"{kind(label)}:{canonical}"


def key_kind(key: str) -> str:
    return key.split(":", 1)[0]


def key_name(key: str) -> str:
    return key.split(":", 1)[1]


def entity_forms(e: Entity) -> set[str]:
    """Every lookup form of one entity of a document."""
    names = (e.canonical, *e.variants, e.surface)
    person = e.label == "PERSON"
    forms = set()
    for name in names:
        for f in (fold(name), fold(person_name(name) if person else thing_name(name))):
            if f:
                forms.add(f"n:{f}")
        if person and (last := surname(person_name(name))):
            forms.add(f"p:{skeleton(last)}")
    return forms


def doc_entity_keys(doc: Document) -> list[str]:
    return sorted({entity_key(e.label, e.canonical) for e in doc.entities})


def doc_name_keys(doc: Document) -> list[str]:
    return sorted(
        {f"{form}{SEP}{entity_key(e.label, e.canonical)}" for e in doc.entities for form in entity_forms(e)}
    )


def speaker_key(name: str) -> str:
    return fold(person_name(name))


def doc_speaker_keys(doc: Document) -> list[str]:
    return sorted(
        {
            speaker_key(c.speaker_canonical or c.speaker)
            for c in doc.claims
            if c.speaker_canonical or c.speaker
        }
        - {""}
    )


# ---------------------------------------------------------------- query side
def query_forms(phrase: str) -> list[str]:
    """The lookup forms a word sequence of a query may be found under ([] if it cannot name
    anything): its folded spellings, the gazetteer's name for it, a surname's skeleton."""
    folded = fold(phrase)
    if not folded or (" " not in folded and not is_name_form(folded)):
        return []
    forms = {f"n:{folded}", f"n:{fold(thing_name(phrase))}", f"n:{fold(person_name(phrase))}"}
    gazetteer = load_gazetteer()
    if (thing := gazetteer.thing(phrase)) is not None:
        forms.add(f"n:{fold(thing[0])}")
    if (preferred := gazetteer.person(phrase)) is not None:
        forms.add(f"n:{fold(preferred)}")
    last = surname(person_name(phrase))
    if len(last) >= 3 and last not in _NOT_NAMES:
        forms.add(f"p:{skeleton(last)}")
    return sorted(f for f in forms if f != "n:")


def pick(phrase: str, hits: Mapping[str, Iterable[str]], kinds: Iterable[str] = ()) -> list[str]:
    """The entity keys `phrase` names, from `hits` (lookup form -> entity keys).

    A folded spelling (`n:`) names its entities outright. A surname skeleton (`p:`) names
    a person only when the surnames are similar spellings and, where both have a first
    name, the first names agree too (Fred/Frederick, Vladimir/Volodymyr; not Ivanka/Donald).
    A skeleton's person is dropped when the spelling names something else outright
    ("France" is the country, not James Franco). `kinds` keeps only entities of those
    kinds (person:, org:, place: filters).
    """
    wanted = set(kinds)
    forms = set(query_forms(phrase))
    exact: set[str] = set()
    similar_people: set[str] = set()
    for form, found in hits.items():
        if form not in forms:
            continue
        for key in found:
            if wanted and key_kind(key) not in wanted:
                continue
            if form.startswith("n:"):
                exact.add(key)
            elif _same_person(phrase, key_name(key)):
                similar_people.add(key)
    if exact and all(key_kind(k) != "person" for k in exact):
        similar_people = set()
    return sorted(exact | similar_people)


def _same_person(query: str, canonical: str) -> bool:
    """Whether a typed name and an entity's canonical name are one person's. Stricter than
    the entity stage at the thresholds themselves (Rait/Riot 0.75, Esther/Seth 0.6 are
    different people): the stage also weighs context, a search has only the name."""
    q, c = person_name(query), person_name(canonical)
    if similar(surname(q), surname(c)) <= SURNAME_SIMILARITY:
        return False
    qp, cp = person_parts(q), person_parts(c)
    if qp is None or cp is None:
        return True  # a surname alone names every person of that surname
    a, b = qp[0], cp[0]
    return a.startswith(b) or b.startswith(a) or similar(a, b) > FIRST_NAME_SIMILARITY
