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

import bisect
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

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
        # Indices, so that resolving one attribution does not read every entity, mention
        # or earlier attribution of the document (quadratic in a long text).
        self.by_variant: dict[str, int] = {}  # variant -> the first entity that has it
        for n, e in enumerate(self.entities):
            for v in (e.canonical, e.surface, *e.variants):
                v = _POSSESSIVE.sub("", v)
                if v:
                    self.by_variant.setdefault(v, n)
        self.by_name_word: dict[tuple[int, str], set[str]] = {}  # (position, word) -> people
        for e in self.entities:
            words = e.canonical.split()
            if e.label == "PERSON" and len(words) > 1:
                for position in (-1, 0):
                    self.by_name_word.setdefault((position, words[position]), set()).add(e.canonical)
        self.first_at: dict[int, int] = {}  # speaker offset -> the first attribution there
        self.in_sentence: dict[int, list[int]] = {}  # sentence -> its attributions
        for n, a in enumerate(attributions):
            self.first_at.setdefault(a.speaker_start, n)
            self.in_sentence.setdefault(a.sentence, []).append(n)
        self.mentions_in: dict[int, list[Mention]] = {}  # sentence -> its mentions
        for m in mentions:
            self.mentions_in.setdefault(m.sentence, []).append(m)
        self.role_found: dict[frozenset[str], str | None] = {}
        # Mentions in text order (as find_attributions gives them) are searched by bisection.
        self.in_order = all(a.start <= b.start and a.sentence <= b.sentence for a, b in pairwise(mentions))
        self.mention_starts = [m.start for m in mentions]
        self.mention_sentences = [m.sentence for m in mentions]

    def resolve(self, n: int) -> Resolved:
        a = self.attributions[n]
        if a.speaker_type == "inherited":
            first = self.first_at[a.speaker_start]
            prev = self.done[first] if first < len(self.done) else None
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
        # the first entity with a variant that is the phrase or ends it after a space
        ends = [core[i + 1 :] for i, c in enumerate(core) if c == " "]
        found = [n for v in (core, *ends) if (n := self.by_variant.get(v)) is not None]
        if found:
            e = self.entities[min(found)]
            return e.canonical if e.label in ("PERSON", "ORG", "NORP") else ""
        last = core.split()[-1] if core.split() else ""
        if last[:1].isupper():
            # a surname alone ("Sibiga" once the entity stage knows it), or a first name
            # alone ("Sir Keir"), when exactly one person in the document has it
            for position in (-1, 0):
                matches = self.by_name_word.get((position, last), set())
                if len(matches) == 1 and (position == -1 or len(core.split()) <= 2):
                    return next(iter(matches))
        return ""

    def name(self, speaker: str) -> str:
        return self.entity(speaker) or _tidy(speaker)

    def role(self, words: list[str], a: Attribution, *, anaphoric: bool) -> str:
        """A person written with this role in the document; else, for a bare definite role
        ("the prime minister", not "the next US president"), the person just spoken of."""
        wanted = {w for w in words if w not in _ROLE_SKIP and not w.endswith(("'s", "’s"))}
        written = self.written_with(frozenset(wanted))
        if written is not None:
            return written
        if not anaphoric or len(wanted) > 2 or not all(w in PERSON_ROLES or w in _ROLE_WORDS for w in wanted):
            return ""
        return self.salient(a, within=2, quoted_speakers_only=False, same_sentence=False)

    def written_with(self, wanted: frozenset[str]) -> str | None:
        """The last person of the document written with all the `wanted` role words
        ("NATO Secretary General Mark Rutte" for {"secretary", "general"}), or None.
        The same for every attribution: found once per set of words."""
        if wanted not in self.role_found:
            self.role_found[wanted] = None
            for m in reversed(self.mentions):
                if m.label != "PERSON" or not m.role:
                    continue
                have = {w.lower().strip("’'s") for w in re.findall(r"[\w’']+", m.role)} | {
                    w.lower() for w in re.findall(r"[\w]+", m.role)
                }
                if wanted and wanted <= have:
                    self.role_found[wanted] = self.entity(m.text) or _tidy(m.text)
                    break
        return self.role_found[wanted]

    def before(self, a: Attribution, sentences: int) -> Sequence[Mention]:
        """The mentions that may start before `a`'s speaker, in its sentence or the
        `sentences` before it (all mentions when they are not in text order)."""
        if not self.in_order:
            return self.mentions
        lo = bisect.bisect_left(self.mention_sentences, a.sentence - sentences)
        hi = bisect.bisect_left(self.mention_starts, a.speaker_start)
        return self.mentions[lo:hi]

    def issuer(self, noun: str, a: Attribution) -> str:
        for m in reversed(self.before(a, 4)):
            if m.start >= a.speaker_start or m.sentence < a.sentence - 4 or not m.subject:
                continue
            sentence_text = self._sentence_text(m)
            if noun in sentence_text.lower() and m.label in ("ORG", "PERSON", "NORP", "GPE"):
                return ministry_name(m.text) or self.entity(m.text) or _tidy(m.text)
        return ""

    def _sentence_text(self, m: Mention) -> str:
        dots, breaks = self.breaks
        # the last ". " that ends before the mention, or the last line break before it
        i = bisect.bisect_right(dots, m.start - 2) - 1
        j = bisect.bisect_right(breaks, m.start - 1) - 1
        start = max(dots[i] if i >= 0 else -1, breaks[j] if j >= 0 else -1) + 1
        k = bisect.bisect_left(dots, m.end)
        end = dots[k] if k < len(dots) else -1
        return self.text[start : end if end > 0 else len(self.text)]

    @functools.cached_property
    def breaks(self) -> tuple[list[int], list[int]]:
        """Offsets of every ". " and every line break of the text (one pass, for bisection)."""
        return [m.start() for m in re.finditer(r"\. ", self.text)], [
            m.start() for m in re.finditer(r"\n", self.text)
        ]

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
                self.done[n].canonical
                for n in self.in_sentence.get(sentence, ())
                if n < len(self.done)
                and self.attributions[n].speaker_start < a.speaker_start
                and self.done[n].canonical in self.people
            ]
            if speakers:
                return speakers[-1]
            if quoted_speakers_only:
                continue
            people = [
                m
                for m in self.mentions_in.get(sentence, ())
                if m.label == "PERSON" and m.end <= a.speaker_start
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
