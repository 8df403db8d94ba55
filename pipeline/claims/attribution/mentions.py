"""Mentions: the people and organisations a paragraph names, for resolving speakers (pure)."""

from __future__ import annotations

from typing import Any

from pipeline.claims.attribution.paragraph import SUBJECT_DEPS, ParagraphBase
from pipeline.claims.attribution.types import Mention


class Mentions(ParagraphBase):
    def mentions(self) -> list[Mention]:
        out = []
        for ent in self.sdoc.ents:
            if ent.label_ not in ("PERSON", "ORG", "GPE", "NORP") or self.is_quoted(ent[0]):
                continue
            root = ent.root
            subject = root.dep_ in SUBJECT_DEPS or (root.dep_ == "appos" and root.head.dep_ in SUBJECT_DEPS)
            role = ""
            if ent.label_ == "PERSON":
                role = self._role_words(ent)
            out.append(
                Mention(
                    self.off(ent[0]),
                    self.off(ent[-1]) + len(ent[-1]),
                    ent.text,
                    ent.label_,
                    subject,
                    self.sent_index[root.i],
                    role,
                )
            )
        return out

    def _role_words(self, ent: Any) -> str:
        """Words that give a person's role: "NATO Secretary General Mark Rutte", "Bauer, chairman of …"."""
        i = ent.start
        while (
            i > 0
            and self.tokens[i - 1].dep_ in ("compound", "amod", "poss", "case", "punct")
            and self.tokens[i - 1].text not in (",", "(", ")", "—")
        ):
            i -= 1
        words = [t.text for t in self.tokens[i : ent.start]]
        for child in self.children(ent.root):
            if child.dep_ == "appos" and child.i > ent.end - 1:
                a, b = self.np(child)
                words += [t.text for t in self.tokens[a:b]]
        return " ".join(words)
