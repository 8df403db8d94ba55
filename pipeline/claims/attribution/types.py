"""The records attribution finds, and small operations on them (pure)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Mention:
    """A noun phrase the parse saw: a candidate antecedent for pronouns and roles."""

    start: int
    end: int
    text: str
    label: str  # the NER label of its head, or ""
    subject: bool
    sentence: int
    role: str = ""  # role words written next to a person ("NATO Secretary General")


@dataclass(frozen=True, slots=True)
class Attribution:
    spans: tuple[tuple[int, int], ...]  # content pieces in the text
    kind: str  # "direct" | "reported"
    speaker: str  # as written
    speaker_start: int
    speaker_end: int
    speaker_type: str  # name | pronoun | relative | inherited
    cue: str
    cue_start: int
    sentence: int  # index of the sentence holding the cue (for resolving pronouns)
    antecedent: tuple[int, int] | None = None  # what a relative pronoun refers to
    source: str = ""  # the rule that found it: labelled | quote | reported | broad (a model feature)

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass
class Quoted:
    """Character intervals inside quotation marks, for fast lookups."""

    starts: list[int]
    ends: list[int]

    def inside(self, offset: int) -> bool:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.ends[i]

    def count_inside(self, start: int, end: int) -> int:
        """How many offsets of [start, end) are `inside`, without asking for each: `inside`
        reads the interval that starts last at or before an offset, so the offsets from one
        start to the next ask the same interval."""
        count = 0
        k = max(0, bisect.bisect_right(self.starts, start) - 1)
        while k < len(self.starts) and self.starts[k] < end:
            upto = self.starts[k + 1] if k + 1 < len(self.starts) else end
            count += max(0, min(end, upto, self.ends[k]) - max(start, self.starts[k]))
            k += 1
        return count


def one_per_span(claims: list[Attribution]) -> list[Attribution]:
    """The first attribution of each span: two cues can reach one content (direct quotes come first)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for a in claims:
        if (a.start, a.end) not in seen:
            seen.add((a.start, a.end))
            out.append(a)
    return out


def nested(s1: int, e1: int, cue1: int, s2: int, e2: int, cue2: int) -> bool:
    """One attribution sits inside the content of the other ("X said Y had promised Z")."""
    return s1 <= cue2 < e1 or s2 <= cue1 < e2


def fields(a: Attribution) -> dict[str, Any]:
    return {name: getattr(a, name) for name in Attribution.__slots__}


def extend(a: Attribution, span: tuple[int, int]) -> Attribution:
    return Attribution(**{**fields(a), "spans": (*a.spans, span)})


def inherit(a: Attribution, span: tuple[int, int]) -> Attribution:
    return Attribution(**{**fields(a), "spans": (span,), "kind": "direct", "speaker_type": "inherited"})
