"""British and American spellings of one word, so neither decides a match (pure).

A query word is searched in every spelling `variants` gives: "defence" finds "defense",
"organisation" finds "organization", and the other way round. The variants come from
the regular differences between the two (-ise/-ize, -isation/-ization, -yse/-yze,
-our/-or, -re/-er, -ence/-ense, -ogue/-og, a doubled l before -ed/-ing/-er) plus a short
list of irregular pairs. A rule may invent a word that exists in neither spelling
("wise" -> "wize"): such a variant finds nothing, so it costs nothing; the rules are
limited where an invented variant would be a real, different word ("four" -> "for").
`american` gives one spelling of a word from the same tables, for code that compares
words rather than searching for them (claim grouping).
"""

from __future__ import annotations

from functools import lru_cache

# Pairs no rule gives (British, American).
_PAIRS = (
    ("aeroplane", "airplane"),
    ("aluminium", "aluminum"),
    ("cheque", "check"),
    ("grey", "gray"),
    ("jewellery", "jewelry"),
    ("kerb", "curb"),
    ("manoeuvre", "maneuver"),
    ("mould", "mold"),
    ("plough", "plow"),
    ("programme", "program"),
    ("pyjamas", "pajamas"),
    ("sceptic", "skeptic"),
    ("sceptical", "skeptical"),
    ("storey", "story"),
    ("tyre", "tire"),
    ("whisky", "whiskey"),
    ("paediatric", "pediatric"),
    ("anaemia", "anemia"),
    ("encyclopaedia", "encyclopedia"),
    ("foetus", "fetus"),
    ("oestrogen", "estrogen"),
    ("manoeuvres", "maneuvers"),
    ("programmes", "programs"),
    ("tyres", "tires"),
    ("judgement", "judgment"),
    ("ageing", "aging"),
    ("enrol", "enroll"),
    ("fulfil", "fulfill"),
    ("instalment", "installment"),
    ("skilful", "skillful"),
    ("wilful", "willful"),
)
_OTHER: dict[str, set[str]] = {}
for _uk, _us in _PAIRS:
    _OTHER.setdefault(_uk, set()).add(_us)
    _OTHER.setdefault(_us, set()).add(_uk)

# (British ending, American ending, shortest word the rule applies to). The minimum
# lengths keep short real words out: "four"/"for", "hour"/"hor", "acre"/"acer".
_ENDINGS = (
    ("isation", "ization", 8),
    ("isations", "izations", 9),
    ("ise", "ize", 5),
    ("ised", "ized", 6),
    ("ises", "izes", 6),
    ("ising", "izing", 7),
    ("iser", "izer", 6),
    ("isers", "izers", 7),
    ("yse", "yze", 5),
    ("ysed", "yzed", 6),
    ("ysing", "yzing", 7),
    ("our", "or", 6),
    ("ours", "ors", 7),
    ("oured", "ored", 8),
    ("ouring", "oring", 9),
    ("ourite", "orite", 7),
    ("ourable", "orable", 9),
    ("ourful", "orful", 8),
    ("tre", "ter", 5),
    ("tres", "ters", 6),
    ("bre", "ber", 5),
    ("bres", "bers", 6),
    ("ence", "ense", 7),
    ("ences", "enses", 8),
    ("ogue", "og", 6),
    ("ogues", "ogs", 7),
    ("lled", "led", 6),
    ("lling", "ling", 7),
    ("ller", "ler", 6),
    ("llers", "lers", 7),
)
# Words a rule would turn into another real word ("filled" -> "filed"): left alone.
_NOT = frozenset(
    {
        "prize",
        "prise",
        "seize",
        "seise",
        "filled",
        "filed",
        "filling",
        "filing",
        "willing",
        "wiling",
        "pulling",
        "puling",
        "tilling",
        "tiling",
        "tiller",
        "tiler",
        "billing",
        "biling",
        "taller",
        "taler",
        "miller",
        "miler",
        "filler",
        "filer",
        "poller",
        "poler",
    }
)


@lru_cache(maxsize=65536)
def variants(word: str) -> tuple[str, ...]:
    """`word` (lower case) and its spellings on the other side of the Atlantic, `word` first."""
    w = word.lower()
    out = [w, *sorted(_OTHER.get(w, ()))]
    if w in _NOT:
        return tuple(out)
    for uk, us, shortest in _ENDINGS:
        for have, want in ((uk, us), (us, uk)):
            # `shortest` counts the British form: "four" is too short for -our, "detour" is not
            if w.endswith(have) and len(w) - len(have) + len(uk) >= shortest:
                other = w[: len(w) - len(have)] + want
                if other not in _NOT and "lll" not in other:  # travelled, not travellled
                    out.append(other)
    return tuple(dict.fromkeys(out))


_TO_AMERICAN = dict(_PAIRS)


@lru_cache(maxsize=65536)
def american(word: str) -> str:
    """One spelling of `word` (lower case) whichever side wrote it: the American one where
    the pairs or the endings know it ("defence" -> "defense", "organised" -> "organized")."""
    w = word.lower()
    if w in _TO_AMERICAN:
        return _TO_AMERICAN[w]
    if w in _NOT:
        return w
    for uk, us, shortest in _ENDINGS:
        if w.endswith(uk) and len(w) >= shortest:
            other = w[: len(w) - len(uk)] + us
            if other not in _NOT:
                return other
    return w
