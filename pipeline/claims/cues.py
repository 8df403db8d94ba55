"""The attribution vocabulary: cue verbs, pronouns, role and document nouns, and the function
words the attribution rules read (pure data).

Lemmas, as spaCy's English models give them. A verb here becomes a cue only when
the parse gives it a speaker (a subject) and content (a clause or an adjacent quote).
"""

from __future__ import annotations

from typing import Any


def _words(text: str) -> frozenset[str]:
    """A word list written as running text (easier to read and edit than a literal)."""
    return frozenset(text.split())


# Verbs that report speech, writing, or a stated position.
SPEECH_VERBS = _words("""
say tell add warn claim state note argue insist announce explain write report acknowledge admit
suggest stress emphasise emphasize confirm deny declare assert contend maintain reiterate recall
reply respond answer ask complain concede caution tweet post testify allege signal indicate
estimate conclude speculate predict promise vow pledge boast joke quip recount disclose reveal
observe remark mention counter retort charge accuse urge agree continue affirm propose comment
describe predict threaten assure inform remind point declare proclaim lament concede advise
demand hint repeat underline highlight
""")

# Verbs of belief and finding: attributions in the PolNeAR sense when a clause follows.
COGNITION_VERBS = _words("""
believe think feel fear hope know worry expect find show learn suspect doubt realize realise
understand say_so consider acknowledge recognize recognise imply suggest
""")

CUE_LEMMAS = SPEECH_VERBS | COGNITION_VERBS

# Cues that only attribute an adjacent quotation, never a reported clause.
QUOTE_ONLY = frozenset({"continue", "add", "describe", "comment"})

# Cues whose content may be a noun phrase or an infinitive rather than a clause:
# "called for a ceasefire", "vowed to veto the bill", "criticised the decision".
OBJECT_CUES = _words("""
call cite criticize criticise attack blast praise condemn slam question describe deny accuse
blame reject dismiss defend support oppose promise vow pledge threaten agree refuse decline plan
want urge demand propose warn push mock tout welcome applaud endorse
""")

# Nouns that report a statement or a stance when a that-clause follows ("Moscow's claim that …").
SPEECH_NOUNS = _words("""
claim statement assertion warning argument belief promise pledge demand suggestion insistence
emphasis comment remark accusation allegation admission denial announcement prediction assurance
contention view conclusion threat vow hope fear concern complaint charge
""")

PERSONAL_PRONOUNS = frozenset({"he", "she", "they", "it", "i", "we", "you"})
RELATIVE_PRONOUNS = frozenset({"who", "which", "that"})

# Head nouns of a definite description that names a person by role ("the prime minister").
PERSON_ROLES = _words("""
president minister secretary chief leader spokesman spokeswoman spokesperson chancellor premier
governor senator congressman congresswoman representative mayor ambassador envoy general admiral
commander chairman chairwoman chair official diplomat nominee candidate king queen prince pope
director head adviser advisor aide negotiator prosecutor judge counterpart lawmaker democrat
republican
""")

# Nouns for documents that speak for whoever issued them ("the statement said").
DOCUMENT_NOUNS = _words("""
statement communique communiqué report letter memo note release document declaration
announcement study survey poll complaint filing lawsuit ruling
""")

_IRREGULAR = {
    "said": "say",
    "says": "say",
    "told": "tell",
    "wrote": "write",
    "written": "write",
    "thought": "think",
    "found": "find",
    "knew": "know",
    "known": "know",
    "felt": "feel",
    "shown": "show",
    "learnt": "learn",
    "understood": "understand",
    "meant": "mean",
    "spoke": "speak",
    "spoken": "speak",
    "hoped": "hope",
    "argued": "argue",
    "quipped": "quip",  # "qu" is a consonant: the p doubles
    "quipping": "quip",
}


def _forms(lemma: str) -> set[str]:
    """Inflected forms of a regular English verb (enough for the cue lexicon)."""
    forms = {lemma, lemma + "s", lemma + "ed", lemma + "ing"}
    if lemma.endswith("e"):
        forms |= {lemma + "d", lemma[:-1] + "ing"}
    if lemma.endswith("y") and lemma[-2:-1] not in "aeiou":
        forms |= {lemma[:-1] + "ied", lemma[:-1] + "ies"}
    if lemma.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(lemma + "es")
    if len(lemma) >= 3 and lemma[-1] in "bdgmnprt" and lemma[-2] in "aeiou" and lemma[-3] not in "aeiou":
        forms |= {lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}  # "admitted", "planning"
    return forms


_FORM_TO_LEMMA = {form: lemma for lemma in CUE_LEMMAS | OBJECT_CUES for form in _forms(lemma)}
_FORM_TO_LEMMA.update(_IRREGULAR)


def verb_lemma(token: Any) -> str:
    """The lemma of a verb token, whether or not the pipeline has a lemmatizer."""
    word = str(token.lower_)
    lemma = str(token.lemma_).lower()
    if lemma and lemma != word:
        return lemma  # a lemmatizer ran
    return _FORM_TO_LEMMA.get(word, word)


# Every lemma that may be a cue verb.
ALL_CUES = CUE_LEMMAS | OBJECT_CUES
# Nouns that may stand as a speaker: a role ("the minister") or a document ("the report").
SPEAKING_NOUNS = PERSON_ROLES | DOCUMENT_NOUNS

# Words that open a subordinate clause or phrase: "When X left, …" is not a reported clause.
SUBORDINATORS = _words("""
when if because after before while although though as since despite once until unless whether
which who that what all
""")

# Words that open something other than more content after "…, X said,".
NOT_CONTENT = _words("according who which whose referring in on at during")

# Nouns for the occasion of a statement ("said in an interview"): a frame, not content.
FRAME_NOUNS = _words("""
statement interview speech rally conference briefing tweet post letter hearing appearance
remarks event release email op-ed
""")
FRAME_PREPS = ("in", "at", "during", "on")

# Prepositions that are part of the cue: "called for", "called on".
CUE_PREPS = _words("for on against")
# Prepositions that open a cue's content when it takes an object ("warned of", "spoke about").
COMPLEMENT_PREPS = _words("for as against of about over to on")

# Words of a phrase that says when, never who: "this year" is no speaker.
TIME_WORDS = _words("""
year years month months week weeks day days today yesterday tomorrow tonight morning afternoon
evening night weekend time decade century monday tuesday wednesday thursday friday saturday sunday
""")
# Pronouns that stand for a thing or a situation, not for who spoke ("it", "this").
THING_PRONOUNS = _words("it this that these those there")
