"""Speaker as written -> canonical speaker (pure).

Order of evidence, most certain first:
- a name: the document's entity whose variant ends the speaker phrase ("Ukrainian foreign
  minister Andrii Sybiha" -> "Andrii Sybiha"), or a unique surname ("Sibiga");
- a relative pronoun ("Bauer, who said"): the phrase it hangs from;
- he/she: the most recent person in the text before it, outside quotes, preferring
  whoever was last quoted, then the subject of a sentence, sentence by sentence backwards;
- a role ("the prime minister", "the NATO chief"): the person written with that role in
  this document ("NATO Secretary General Mark Rutte"), else the person who was the
  subject or speaker of one of the two sentences before;
- a document ("the statement said"): whoever issued the last statement mentioned;
- an organisation by place and function ("Kyiv's foreign ministry", "the Ukrainian
  Ministry of Foreign Affairs"): one name, "Ukrainian foreign ministry".
Unresolved pronouns get no canonical speaker rather than a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.claims.attribution import Attribution, Mention
from pipeline.claims.cues import DOCUMENT_NOUNS, PERSON_ROLES
from pipeline.document import Entity

_HONORIFIC = re.compile(r"^(?:(?:the|mr|mrs|ms|dr|sir|dame|rep|sen|gov|gen|adm)\.?\s+)+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_ROLE_WORDS = frozenset({"prime", "foreign", "defence", "defense", "general", "state", "vice"})
_ROLE_SKIP = frozenset(
    {
        "the",
        "a",
        "an",
        "new",
        "former",
        "then",
        "current",
        "incoming",
        "outgoing",
        "'s",
        "’s",
        "of",
        "top",
        "senior",
        "acting",
    }
)

# Places that stand for a government, by country, capital and adjective.
_PLACES = {
    "Ukrainian": ("Ukraine", "Kyiv", "Kiev", "Ukrainian"),
    "Russian": ("Russia", "Moscow", "Kremlin", "Russian"),
    "American": ("US", "U.S.", "United States", "America", "Washington", "American"),
    "British": ("UK", "U.K.", "Britain", "United Kingdom", "London", "British"),
    "French": ("France", "Paris", "French"),
    "German": ("Germany", "Berlin", "German"),
    "Chinese": ("China", "Beijing", "Chinese"),
    "Polish": ("Poland", "Warsaw", "Polish"),
    "Dutch": ("Netherlands", "The Hague", "Dutch"),
    "Belgian": ("Belgium", "Brussels", "Belgian"),
    "Italian": ("Italy", "Rome", "Italian"),
    "Spanish": ("Spain", "Madrid", "Spanish"),
    "Turkish": ("Turkey", "Türkiye", "Ankara", "Turkish"),
    "Iranian": ("Iran", "Tehran", "Iranian"),
    "Israeli": ("Israel", "Jerusalem", "Israeli"),
    "Japanese": ("Japan", "Tokyo", "Japanese"),
    "Indian": ("India", "New Delhi", "Delhi", "Indian"),
    "Canadian": ("Canada", "Ottawa", "Canadian"),
    "Georgian": ("Georgia", "Tbilisi", "Georgian"),
    "Belarusian": ("Belarus", "Minsk", "Belarusian"),
    "Hungarian": ("Hungary", "Budapest", "Hungarian"),
    "Swedish": ("Sweden", "Stockholm", "Swedish"),
    "Finnish": ("Finland", "Helsinki", "Finnish"),
    "Norwegian": ("Norway", "Oslo", "Norwegian"),
    "Estonian": ("Estonia", "Tallinn", "Estonian"),
    "Latvian": ("Latvia", "Riga", "Latvian"),
    "Lithuanian": ("Lithuania", "Vilnius", "Lithuanian"),
    "North Korean": ("North Korea", "Pyongyang", "North Korean"),
    "South Korean": ("South Korea", "Seoul", "South Korean"),
    "Syrian": ("Syria", "Damascus", "Syrian"),
}
_PLACE_TO_ADJ = {p.lower(): adj for adj, places in _PLACES.items() for p in places}
_MINISTRY = re.compile(
    r"^(?:the\s+)?(?P<place>[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)(?:'s|’s)?\s+"
    r"(?:(?P<what>[a-z]+)\s+ministry|ministry\s+of\s+(?P<of>[\w ]+))$",
    re.IGNORECASE,
)
_MINISTRY_OF = {
    "foreign affairs": "foreign",
    "defence": "defence",
    "defense": "defence",
    "internal affairs": "interior",
    "home affairs": "interior",
    "finance": "finance",
}


@dataclass(frozen=True, slots=True)
class Resolved:
    speaker: str  # as written
    canonical: str  # "" when the speaker could not be resolved (a bare pronoun)


def resolve_speakers(
    attributions: Sequence[Attribution], mentions: Sequence[Mention], entities: Sequence[Entity], text: str
) -> list[Resolved]:
    """The canonical speaker of each attribution, in the same order."""
    resolver = _Resolver(attributions, mentions, entities, text)
    return [resolver.resolve(n) for n in range(len(attributions))]


class _Resolver:
    def __init__(
        self,
        attributions: Sequence[Attribution],
        mentions: Sequence[Mention],
        entities: Sequence[Entity],
        text: str,
    ) -> None:
        self.attributions = attributions
        self.mentions = mentions
        self.entities = sorted(
            entities, key=lambda e: -max((len(v) for v in (*e.variants, e.canonical)), default=0)
        )
        self.text = text
        self.done: list[Resolved] = []
        self.people = {e.canonical for e in entities if e.label == "PERSON"}

    def resolve(self, n: int) -> Resolved:
        a = self.attributions[n]
        if a.speaker_type == "inherited":
            prev = next(
                (
                    r
                    for b, r in zip(self.attributions, self.done, strict=False)
                    if b.speaker_start == a.speaker_start
                ),
                None,
            )
            result = Resolved(a.speaker, prev.canonical if prev else self.name(a.speaker))
        elif a.speaker_type == "relative" and a.antecedent:
            antecedent = self.text[a.antecedent[0] : a.antecedent[1]]
            result = Resolved(a.speaker, self.phrase(antecedent, a, anaphoric=False))
        elif a.speaker_type == "pronoun":
            result = Resolved(a.speaker, self.pronoun(a))
        else:
            result = Resolved(a.speaker, self.phrase(a.speaker, a))
        self.done.append(result)
        return result

    # -- names, roles, organisations ------------------------------------------------
    def phrase(self, speaker: str, a: Attribution, *, anaphoric: bool = True) -> str:
        if re.search(r"\sand\s", speaker):  # several speakers: name each, guess none
            return " and ".join(self.entity(part) or _tidy(part) for part in re.split(r"\s+and\s+", speaker))
        entity = self.entity(speaker) or (self.entity(speaker.title()) if speaker.isupper() else "")
        if entity:  # "PENCE:" in a transcript is Mike Pence too
            return entity
        words = [w.lower() for w in re.findall(r"[\w.’'-]+", speaker)]
        head = words[-1].split("-")[-1] if words else ""
        bare = len(words) >= 2 and words[0] == "the"  # "the statement", "the prime minister"
        if head in DOCUMENT_NOUNS:
            return (self.issuer(head, a) if bare and anaphoric else "") or _tidy(speaker)
        ministry = ministry_name(speaker)
        if ministry:
            return ministry
        if any(w.split("-")[0] in PERSON_ROLES for w in words):
            return self.role(words, a, anaphoric=bare and anaphoric) or _tidy(speaker)
        return self.name(speaker)

    def entity(self, speaker: str) -> str:
        """The entity whose variant ends the phrase (its head), ignoring "of …" after it."""
        core = re.split(r",|\s\(|\sof\s", speaker)[0].strip()
        core = _POSSESSIVE.sub("", core)
        for e in self.entities:
            for v in sorted({e.canonical, e.surface, *e.variants}, key=len, reverse=True):
                v = _POSSESSIVE.sub("", v)
                if v and (core == v or core.endswith(" " + v)):
                    return e.canonical if e.label in ("PERSON", "ORG", "NORP") else ""
        last = core.split()[-1] if core.split() else ""
        if last[:1].isupper():
            # a surname alone ("Sibiga" once the entity stage knows it), or a first name
            # alone ("Sir Keir"), when exactly one person in the document has it
            for position in (-1, 0):
                matches = {
                    e.canonical
                    for e in self.entities
                    if e.label == "PERSON"
                    and len(e.canonical.split()) > 1
                    and e.canonical.split()[position] == last
                }
                if len(matches) == 1 and (position == -1 or len(core.split()) <= 2):
                    return matches.pop()
        return ""

    def name(self, speaker: str) -> str:
        return self.entity(speaker) or _tidy(speaker)

    def role(self, words: list[str], a: Attribution, *, anaphoric: bool) -> str:
        """A person written with this role in the document; else, for a bare definite role
        ("the prime minister", not "the next US president"), the person just spoken of."""
        wanted = {w for w in words if w not in _ROLE_SKIP and not w.endswith(("'s", "’s"))}
        for m in reversed(self.mentions):
            if m.label != "PERSON" or not m.role:
                continue
            have = {w.lower().strip("’'s") for w in re.findall(r"[\w’']+", m.role)} | {
                w.lower() for w in re.findall(r"[\w]+", m.role)
            }
            if wanted and wanted <= have:
                return self.entity(m.text) or _tidy(m.text)
        if not anaphoric or len(wanted) > 2 or not all(w in PERSON_ROLES or w in _ROLE_WORDS for w in wanted):
            return ""
        return self.salient(a, within=2, quoted_speakers_only=False, same_sentence=False)

    def issuer(self, noun: str, a: Attribution) -> str:
        for m in reversed(self.mentions):
            if m.start >= a.speaker_start or m.sentence < a.sentence - 4 or not m.subject:
                continue
            sentence_text = self._sentence_text(m)
            if noun in sentence_text.lower() and m.label in ("ORG", "PERSON", "NORP", "GPE"):
                return ministry_name(m.text) or self.entity(m.text) or _tidy(m.text)
        return ""

    def _sentence_text(self, m: Mention) -> str:
        start = max(self.text.rfind(". ", 0, m.start), self.text.rfind("\n", 0, m.start)) + 1
        end = self.text.find(". ", m.end)
        return self.text[start : end if end > 0 else len(self.text)]

    # -- pronouns ---------------------------------------------------------------------
    def pronoun(self, a: Attribution) -> str:
        low = a.speaker.lower()
        if low in ("he", "she"):
            return self.salient(a, within=6, quoted_speakers_only=False)
        return ""  # they / it / we / I / you: no guess

    def salient(
        self, a: Attribution, *, within: int, quoted_speakers_only: bool, same_sentence: bool = True
    ) -> str:
        """The most recent person before `a`: its last speaker, else a subject, else any mention."""
        first = a.sentence if same_sentence else a.sentence - 1
        for sentence in range(first, a.sentence - within - 1, -1):
            speakers = [
                r.canonical
                for b, r in zip(self.attributions, self.done, strict=False)
                if b.sentence == sentence and b.speaker_start < a.speaker_start and r.canonical in self.people
            ]
            if speakers:
                return speakers[-1]
            if quoted_speakers_only:
                continue
            people = [
                m
                for m in self.mentions
                if m.sentence == sentence and m.label == "PERSON" and m.end <= a.speaker_start
            ]
            subjects = [m for m in people if m.subject]
            for group in (subjects, people if sentence != a.sentence else []):
                if group:
                    return self.entity(group[-1].text) or _tidy(group[-1].text)
        return ""


def ministry_name(phrase: str) -> str:
    """One name for a ministry named by place and function.

    "Kyiv's foreign ministry", "the Ukrainian Ministry of Foreign Affairs" -> "Ukrainian foreign ministry".
    """
    m = _MINISTRY.match(" ".join(phrase.split()))
    if not m:
        return ""
    adj = _PLACE_TO_ADJ.get(m.group("place").lower())
    if adj is None:
        return ""
    what = (m.group("what") or "").lower() or _MINISTRY_OF.get((m.group("of") or "").lower().strip(), "")
    if not what:
        return ""
    return f"{adj} {_MINISTRY_OF.get(what, what)} ministry"


def _tidy(speaker: str) -> str:
    """A speaker with no entity: without honorific, possessive or leading article."""
    s = _HONORIFIC.sub("", " ".join(speaker.split()))
    return _POSSESSIVE.sub("", s).strip(" ,.;:")
