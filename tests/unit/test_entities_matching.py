"""Cross-document decisions: which known entity (if any) a document's entity is."""

from __future__ import annotations

import pytest

from pipeline.entities.local import LocalEntity, Mention
from pipeline.entities.matching import MIN_CONTEXT, Known, better_name, decide, lookup_keys
from pipeline.entities.names import fold


def local(*names: str, label: str = "PERSON") -> LocalEntity:
    mentions = [Mention(surface=n, name=n, label=label, start=i, end=i + len(n)) for i, n in enumerate(names)]
    return LocalEntity(name=names[0], label=label, mentions=mentions)


def known(
    canonical: str, *forms: str, label: str = "PERSON", context: int = 0, docs: int = 1, id: str = "e1"
) -> Known:
    folded = frozenset(fold(f) for f in (canonical, *forms))
    return Known(id=id, canonical=canonical, label=label, forms=folded, context=context, docs=docs)


@pytest.mark.parametrize(
    ("entity", "candidate", "same"),
    [
        # transliterations and spellings of one full name: the name alone decides
        (local("Andriy Sibiga"), known("Andrii Sybiha"), True),
        (local("Vladimir Zelensky"), known("Volodymyr Zelenskiy"), True),
        (local("Mark Heller"), known("Mark Jay Heller"), True),
        # same surname, another first name: never, whatever the context
        (local("Serena Williams"), known("Venus Williams", context=10), False),
        (local("Reggie Bush"), known("George W. Bush", "Bush", context=10), False),
        (local("Mark Root"), known("Mark Rutte"), False),
        # a surname alone: only with support from the context
        (local("Sibiga"), known("Andrii Sybiha", context=MIN_CONTEXT), True),
        (local("Sibiga"), known("Andrii Sybiha", context=MIN_CONTEXT - 1), False),
        # a full name joins a known surname-only entry in context
        (local("Andrii Sybiha"), known("Sibiga", context=MIN_CONTEXT), True),
        (local("Andrii Sybiha"), known("Sibiga", context=0), False),
        # the same lone surname is the same string
        (local("Sibiga"), known("Sibiga"), True),
        # organisations and places: folded names; acronyms and short names in context
        (local("NATO", label="ORG"), known("Nato", label="ORG"), True),
        (
            local("ISW", label="ORG"),
            known("Institute for the Study of War", label="ORG", context=MIN_CONTEXT),
            True,
        ),
        (local("ISW", label="ORG"), known("Institute for the Study of War", label="ORG"), False),
        (local("Advanced Micro Devices", label="ORG"), known("AMD", label="ORG", context=MIN_CONTEXT), True),
        (local("Saints", label="ORG"), known("New Orleans Saints", label="ORG", context=MIN_CONTEXT), True),
        (local("Police", label="ORG"), known("Staunton Police", label="ORG", context=10), False),
        (local("Georgia", label="GPE"), known("Georgia", label="ORG"), True),
        # people, nationalities and things never match each other
        (local("Georgia", label="GPE"), known("Georgia", label="PERSON"), False),
        (local("Ukrainian", label="NORP"), known("Ukrainian", label="GPE"), False),
    ],
)
def test_decide(entity: LocalEntity, candidate: Known, same: bool) -> None:
    match, _ = decide(entity, [candidate])
    assert (match is not None) is same


def test_a_surname_goes_to_the_person_with_most_shared_context() -> None:
    george = known("George W. Bush", id="e1", context=MIN_CONTEXT + 2)
    reggie = known("Reggie Bush", id="e2", context=MIN_CONTEXT)
    assert decide(local("Bush"), [reggie, george])[0] == george


def test_a_tie_in_context_is_not_decided() -> None:
    george = known("George W. Bush", id="e1", context=MIN_CONTEXT)
    reggie = known("Reggie Bush", id="e2", context=MIN_CONTEXT)
    assert decide(local("Bush"), [george, reggie]) == (None, "new")


@pytest.mark.parametrize(
    ("entity", "candidate", "name"),
    [
        (local("Andrii Sybiha"), known("Sibiga"), "Andrii Sybiha"),
        (local("Advanced Micro Devices", label="ORG"), known("AMD", label="ORG"), "Advanced Micro Devices"),
        (local("Gary Ross"), known("GARY ROSS"), "Gary Ross"),
        (local("Andriy Sibiga"), known("Andrii Sybiha"), "Andrii Sybiha"),  # the first full name stays
        # a span that starts with the acronym is not its spelled-out name (the initials differ)
        (local("IR The New Orleans Saints", label="ORG"), known("IR", label="ORG"), "IR"),
        (local("GMT Wladimir Klitschko", label="ORG"), known("GMT", label="ORG"), "GMT"),
    ],
)
def test_better_name(entity: LocalEntity, candidate: Known, name: str) -> None:
    assert better_name(candidate, entity) == name


def test_spellings_of_one_name_share_their_lookup_keys() -> None:
    assert set(lookup_keys(local("Andrii Sybiha"))) == set(lookup_keys(local("Andriy Sibiga")))
