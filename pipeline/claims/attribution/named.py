"""A speaker that cannot be one gives way to the one the text names (pure).

"It", "this", a time phrase ("a paper earlier this year that called for …": the parse hangs
the relative clause on "year") or a noun for what was said ("comments from inside Russia
suggest …") is no speaker. When such an attribution sits inside the content of another one,
that one already reports it and it goes; otherwise, when its sentence or the one before names
a person or an organisation as a subject before the cue, that name is the speaker. With no
name there it is left as found (speakers.py leaves a bare "it" unresolved).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.claims.attribution.types import Attribution, Mention, fields
from pipeline.claims.cues import SPEECH_NOUNS, THING_PRONOUNS, TIME_WORDS

_WORD = re.compile(r"[\w’'-]+")
_AGENTS = ("PERSON", "ORG", "GPE", "NORP")


def no_speaker(a: Attribution, text: str) -> bool:
    """Whether the attribution's speaker (or, for "who"/"that", what it refers to) is a thing."""
    words = [w.lower() for w in _WORD.findall(a.speaker)]
    if a.speaker_type == "relative" and a.antecedent is not None:
        words = [w.lower() for w in _WORD.findall(text[a.antecedent[0] : a.antecedent[1]])]
    if not words:
        return False
    head = words[-1]
    if len(words) == 1 and head in THING_PRONOUNS:
        return True
    if any(w in TIME_WORDS for w in words) and not any(w[:1].isupper() for w in a.speaker.split()[1:]):
        return True
    return head in SPEECH_NOUNS or head.rstrip("s") in SPEECH_NOUNS


def name_speakers(found: Sequence[Attribution], mentions: Sequence[Mention], text: str) -> list[Attribution]:
    """`found`, each thing-speaker dropped (inside another's content) or named (see the module)."""
    out = []
    for a in found:
        if not no_speaker(a, text):
            out.append(a)
            continue
        if any(b is not a and b.start <= a.cue_start < b.end and b.sentence == a.sentence for b in found):
            continue  # "a thinktank has said comments … suggest …": the thinktank's claim holds it
        name = _named(a, mentions)
        out.append(a if name is None else _renamed(a, name))
    return out


def _named(a: Attribution, mentions: Sequence[Mention]) -> Mention | None:
    """The last person or organisation written as a subject before the cue in the attribution's
    sentence, else in the sentence before."""
    for sentence in (a.sentence, a.sentence - 1):
        named = [
            m
            for m in mentions
            if m.sentence == sentence and m.subject and m.label in _AGENTS and m.end <= a.cue_start
        ]
        if named:
            return named[-1]
    return None


def _renamed(a: Attribution, m: Mention) -> Attribution:
    return Attribution(
        **{
            **fields(a),
            "speaker": m.text,
            "speaker_start": m.start,
            "speaker_end": m.end,
            "speaker_type": "name",
            "antecedent": None,
        }
    )
