"""0. Labelled lines: "Sanders: …", "PENCE: …" (pure)."""

from __future__ import annotations

import re

from pipeline.claims.attribution.paragraph import ParagraphBase
from pipeline.claims.attribution.types import Attribution

# "Sanders: Clinton needs to …" (a headline), "PENCE: Well, look, …" (a transcript).
LABEL = re.compile(r"[\"“]?(?P<name>[A-Z][\w.’'-]*(?:[ \t]+[A-Z][\w.’'-]*){0,3}):[ \t]+(?=\S)")


class Labelled(ParagraphBase):
    def labelled(self, names: set[str], transcript: set[str]) -> list[Attribution]:
        """A paragraph opened by a speaker's name and a colon: the rest is what they said.

        `names`: the persons and organisations the tagger found in the document ("Sanders: …",
        not "Update: …" or a "NEW DELHI:" dateline), and the capitalised labels that open
        several paragraphs, as speakers do in a transcript ("PENCE: …", "WALLACE: …").
        """
        m = LABEL.match(self.text, self.start, self.start + len(self.para_text))
        if m is None:
            return []
        name = m.group("name")
        words = self.tokens_between(m.start("name"), m.end("name"))
        if name not in names:
            return []
        start, end = m.end(), self.start + len(self.para_text.rstrip().rstrip('"”'))
        if end <= start:
            return []
        return [
            Attribution(
                spans=((start, end),),
                kind="direct" if name in transcript else "reported",
                speaker=name,
                speaker_start=m.start("name"),
                speaker_end=m.end("name"),
                speaker_type="name",
                cue=":",
                cue_start=m.end("name"),
                sentence=self.sent_index[words[0].i] if words else self.sent_index[0],
            )
        ]
