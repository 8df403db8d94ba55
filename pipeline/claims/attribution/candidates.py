"""Candidates beyond the rules: any verb with a speaker and something said (pure).

The rules take a verb as a cue only when it is in the cue vocabulary (cues.py). PolNeAR
attributes far more ("figures that …", "wants to …", "mocked the ambitions of …"): every
verb with a subject and a clause, an infinitive or an object is a candidate here, its
content found as the rules find it, and the model (model.py) decides which to keep.
"""

from __future__ import annotations

from typing import Any

from pipeline.claims.attribution.reported import Reported
from pipeline.claims.attribution.types import Attribution, fields
from pipeline.claims.cues import COMPLEMENT_PREPS

_CONTENT_DEPS = frozenset({"ccomp", "xcomp", "dobj", "parataxis", "advcl", "conj", "prep"})


class Candidates(Reported):
    def broad(self, taken_cues: set[int]) -> list[Attribution]:
        """Every verb outside `taken_cues` (offsets) with a subject and content."""
        out = []
        for tok in self.verbs():
            if self.off(tok) in taken_cues or self.is_quoted(tok):
                continue
            if _infinitive_of_another_verb(tok, self.children(tok)):
                continue  # "met to discuss the next steps": a purpose, nothing said
            has_content = tok.dep_ not in ("aux", "auxpass") and any(
                c.dep_ in _CONTENT_DEPS for c in self.children(tok)
            )
            if not has_content and tok.dep_ not in ("parataxis", "ccomp"):
                continue
            subj = self.subject(tok)
            if subj is None:
                continue
            spans = self.content(tok)
            obj = self.object_content(tok)
            if spans is None and obj is not None:
                span = self._span(obj, min_words=2)
                spans = [span] if span else None
            if spans is not None:
                out.append(self._candidate(spans, subj, tok, "broad"))
            # the whole complement, untrimmed: the model chooses between the two
            words = [t for t in obj or () if not t.is_punct]
            if words:
                start = self.off(words[0])
                whole = (start, self.closed(start, self.off(words[-1]) + len(words[-1])))
                if spans is None or [whole] != spans:
                    out.append(self._candidate([whole], subj, tok, "broad-whole"))
        return out

    def broad_nominal(self, taken_cues: set[int]) -> list[Attribution]:
        """A noun with its owner and what it is about: "Trump's support for the wall", "his
        criticism of the bill", "Clinton's views on trade" (PolNeAR attributes stances written
        so). Candidates the model judges, as the broad search's."""
        out = []
        for tok in self.tokens:
            if self.off(tok) in taken_cues or self.is_quoted(tok):
                continue
            if tok.pos_ == "ADJ" and tok.dep_ == "acomp":
                out += self._stance(tok)
                continue
            if tok.pos_ != "NOUN":
                continue
            owner = next((c for c in self.children(tok) if c.dep_ == "poss"), None)
            prep = next((c for c in self.children(tok) if c.i > tok.i and _about(c)), None)
            if owner is None or prep is None:
                continue
            span = self._span([t for t in self.subtree(prep) if t.i > prep.i], min_words=1)
            if span is not None:
                out.append(self._candidate([span], owner, tok, "broad-noun"))
        return out

    def _stance(self, adj: Any) -> list[Attribution]:
        """ "X is confident that …", "X was eager to …", "X is worried about …": the adjective
        is the cue, the subject of its verb the speaker, its clause or phrase the content."""
        subj = self.subject(adj.head)
        comp = next(
            (c for c in self.children(adj) if c.i > adj.i and (c.dep_ in ("ccomp", "xcomp") or _about(c))),
            None,
        )
        if subj is None or comp is None:
            return []
        toks = [t for t in self.subtree(comp) if not (comp.dep_ == "prep" and t.i == comp.i)]
        span = self._span(toks, min_words=1 if comp.dep_ == "prep" else 3)
        return [self._candidate([span], subj, adj, "broad-noun")] if span is not None else []

    def _candidate(self, spans: list[tuple[int, int]], subj: Any, cue: Any, source: str) -> Attribution:
        kind = "direct" if self.quoted_share(spans[0][0], spans[-1][1]) > 0.8 else "reported"
        return Attribution(**{**fields(self.make(spans, kind, subj, cue)), "source": source})


def _infinitive_of_another_verb(tok: Any, children: list[Any]) -> bool:
    """`tok` is a to-infinitive hanging from another verb ("met ... to discuss", "wants to
    build"): what it says, if anything, is the governing verb's content, not a statement.
    `children`: the token's."""
    return (
        tok.tag_ == "VB"
        and tok.dep_ in ("advcl", "xcomp")
        and any(c.dep_ == "aux" and c.lower_ == "to" for c in children)
    )


def _about(tok: Any) -> bool:
    """A preposition that opens what a stance is about ("support for", "worried about")."""
    return bool(tok.dep_ == "prep" and tok.lower_ in COMPLEMENT_PREPS)
