"""2. Reported speech: a cue with a speaker and a clause, "according to X", "X's claim that …" (pure)."""

from __future__ import annotations

import re
from typing import Any

from pipeline.claims.attribution.paragraph import SUBJECT_DEPS, ParagraphBase
from pipeline.claims.attribution.types import Attribution, fields, nested
from pipeline.claims.cues import (
    COMPLEMENT_PREPS,
    FRAME_NOUNS,
    FRAME_PREPS,
    NOT_CONTENT,
    OBJECT_CUES,
    QUOTE_ONLY,
    SPEECH_NOUNS,
    SPEECH_VERBS,
    SUBORDINATORS,
    verb_lemma,
)

# Children of a cue that belong to the attribution, not the content ("the agency said in a report").
_ATTRIBUTION_PHRASE = frozenset(
    {"nsubj", "nsubjpass", "aux", "auxpass", "neg", "advmod", "prep", "npadvmod", "agent"}
)
# Dependents of a cue that make up its content when it takes an object ("called X a liar").
_COMPLEMENTS = frozenset({"dobj", "dative", "xcomp", "ccomp", "oprd", "attr", "acomp", "pcomp"})

# Punctuation the parse leaves outside a content, then the quotation mark that closes it.
_CLOSING_QUOTE = re.compile(r'[.,!?…]{0,2}[”"]')


class Reported(ParagraphBase):
    def reported(self, directs: list[Attribution]) -> list[Attribution]:
        out: list[Attribution] = []
        taken = [(a.start, a.end, a.cue_start) for a in directs]
        for cue in sorted([*self.cue_tokens(), *self.clause_cues()], key=lambda t: t.i):
            if cue.i in self.used_cues:
                continue
            if verb_lemma(cue) in QUOTE_ONLY and not self.clause_after(cue):
                continue  # "he added" reports a clause only when one follows ("added that …")
            subj = self.subject(cue)
            if subj is None or subj.dep_ == "nsubjpass":
                continue  # "Oz was called a charlatan": the subject is who it is said about
            spans = self.content(cue)
            if spans is None:
                continue
            start, end, at = spans[0][0], spans[-1][1], self.off(cue)
            clash = [(s, e, c) for s, e, c in taken if s < end and start < e]
            if clash and not (
                verb_lemma(cue) in SPEECH_VERBS
                and self.clause_after(cue)
                and all(nested(s, e, c, start, end, at) for s, e, c in clash)
            ):
                continue  # two cues for one content; only a speech verb with its clause nests inside another
            kind = "direct" if self.quoted_share(start, end) > 0.8 else "reported"
            out.append(self.make(spans, kind, subj, cue))
            taken.append((start, end, at))
        out += self.according_to()
        out += self.nominal([(a.start, a.end, a.cue_start) for a in out + directs])
        return out

    def nominal(self, taken: list[tuple[int, int, int]]) -> list[Attribution]:
        """ "Moscow's claim that the strike hit a base": a speech noun, its owner and its clause."""
        out = []
        for noun in self.tokens:
            if noun.pos_ != "NOUN" or noun.lower_ not in SPEECH_NOUNS or self.is_quoted(noun):
                continue
            owner = next((c for c in self.children(noun) if c.dep_ == "poss" and c.pos_ != "PRON"), None)
            clause = next(
                (
                    c
                    for c in self.children(noun)
                    if c.dep_ in ("acl", "ccomp") and c.i > noun.i and c.left_edge.lower_ == "that"
                ),
                None,
            )
            if owner is None or clause is None:
                continue
            span = self._span(self.subtree(clause))
            if span is None:
                continue
            at = self.off(noun)
            if any(s < span[1] and span[0] < e and not nested(s, e, c, *span, at) for s, e, c in taken):
                continue
            out.append(self.make([span], "reported", owner, noun))
        return out

    def clause_after(self, cue: Any) -> bool:
        return any(c.dep_ == "ccomp" and c.i > cue.i for c in self.children(cue))

    def content(self, cue: Any) -> list[tuple[int, int]] | None:
        """The content pieces of a cue: one span, or two around a parenthetical "…, X said, …".
        Found once per token (the reported-speech rules and the broad search both ask)."""
        if cue.i not in self._contents:
            self._contents[cue.i] = self._find_content(cue)
        spans = self._contents[cue.i]
        return None if spans is None else list(spans)

    def _find_content(self, cue: Any) -> list[tuple[int, int]] | None:
        first = self.content_first(cue)
        if first is not None and (spans := self._spans(first, self.continuation(cue))) is not None:
            return spans
        interjected = self.interjected(cue)
        if interjected is not None:
            return interjected
        clause = next(
            (
                c
                for c in self.children(cue)
                if c.dep_ == "ccomp" or (c.dep_ == "advcl" and c.left_edge.lower_ == "that")
            ),
            None,
        )
        if clause is not None:
            toks = [t for t in self.subtree(clause)]
            if cue.dep_ != "ROOT" and clause.i < cue.i:
                return None
        elif cue.dep_ in ("parataxis", "ccomp") and cue.head.i < cue.i and cue.head.pos_ in ("VERB", "AUX"):
            # "…, X said": the clause is the verb this one hangs from, minus the cue
            drop = {t.i for t in self.subtree(cue)}
            toks = [t for t in self.subtree(cue.head) if t.i not in drop and t.i < cue.i]
            first = min(self.subtree(cue), key=lambda t: t.i)
            if first.i == 0 or self.tokens[first.i - 1].text not in (",", "”", '"', "’", "—", "–"):
                return None
            return self._spans(toks, self.continuation(cue))
        elif verb_lemma(cue) in OBJECT_CUES and (obj := self.object_content(cue)) is not None:
            toks = list(obj)
        else:
            return None
        span = self._span(toks)
        return [span] if span else None

    def interjected(self, cue: Any) -> list[tuple[int, int]] | None:
        """An attribution set between commas inside the sentence it reports: the sentence around
        it, in two pieces. "The museum, Mr. Obama said, celebrated several of his heroes", "Back in
        Virginia, Mr. Clarke said, he decided to take aim at …", "Too often, he said, the debate …"
        (what stands before may be a phrase, not a clause: content_first wants a clause)."""
        subj = self.subject(cue)
        if subj is None or subj.head.i != cue.i or subj.i > cue.i:
            return None
        phrase = [c for c in self.children(cue) if c.dep_ in _ATTRIBUTION_PHRASE]
        left = min([cue.i, self.np(subj)[0], *(t.left_edge.i for t in phrase)])
        right = max([cue.i, *(t.right_edge.i for t in phrase)])
        sent = self.sentence(cue)
        if left - 1 <= sent.start or right + 2 >= sent.end:
            return None
        if not {self.tokens[left - 1].text, self.tokens[right + 1].text} <= {",", "—", "–"}:
            return None
        before = [t for t in sent if t.i < left - 1]
        after = [t for t in sent if t.i > right + 1]
        if not any(t.is_alpha for t in before) or self.is_quoted(after[0]):
            return None
        if after[0].tag_ == "VBG" or after[0].lower_ in NOT_CONTENT:
            return None  # "…, he said, adding that …", "…, he said, according to …"
        first, second = self._span(before, min_words=1), self._span(after)
        if first is None or second is None:
            return None
        return [first, second]

    def continuation(self, cue: Any) -> list[Any]:
        """What follows a parenthetical attribution to the end of its sentence.

        "Lenox was a juggernaut, Mr. Clarke said, until it went bankrupt": "until it went
        bankrupt". Nothing when the attribution ends the sentence or what follows is another
        cue ("…, he said, adding that …") or a clause about the speaker ("…, who …").
        """
        phrase = [c for c in self.children(cue) if c.dep_ in _ATTRIBUTION_PHRASE]
        right = max([cue.i] + [t.right_edge.i for t in phrase])
        sent = self.sentence(cue)
        if right + 2 >= sent.end or self.tokens[right + 1].text not in (",", "—", "–"):
            return []
        rest = [t for t in sent if t.i > right + 1]
        while rest and rest[-1].is_punct and rest[-1].text not in ("”", '"', "’"):
            rest.pop()
        head = rest[0] if rest else None
        if head is None or head.tag_ == "VBG" or head.lower_ in NOT_CONTENT:
            return []
        return rest

    def _spans(self, before: list[Any], after: list[Any]) -> list[tuple[int, int]] | None:
        first = self._span(before)
        if first is None:
            return None
        second = self._span(after, min_words=1) if after else None
        return [first, second] if second else [first]

    def content_first(self, cue: Any) -> list[Any] | None:
        """ "…, another source said." / "…, said X.": the sentence up to the comma, whatever the parse."""
        subj = self.subject(cue)
        if subj is None or subj.head.i != cue.i:
            return None
        left = min(self.np(subj)[0], cue.i) if subj.i < cue.i else cue.i
        aux = [c.i for c in self.children(cue) if c.dep_ in ("aux", "neg") and c.i < cue.i]
        left = min([left, *aux])
        sent = self.sentence(cue)
        if left <= sent.start + 2 or self.tokens[left - 1].text not in (",", "”", '"', "’", "—"):
            return None
        if any(c.dep_ in ("ccomp", "dobj", "xcomp") and c.i > cue.i for c in self.children(cue)):
            return None
        toks = [t for t in sent if t.i < left - 1]
        # the words before the comma must be a clause of their own, not "When X left," / "Despite Y,"
        words = [t.lower_ for t in toks if t.is_alpha][:2]
        if not words or words[0] in SUBORDINATORS or words[-1] in SUBORDINATORS:
            return None
        if not any(t.dep_ in SUBJECT_DEPS and t.head.dep_ not in ("advcl", "relcl", "acl") for t in toks):
            return None
        return toks

    def trim(self, toks: list[Any]) -> list[Any]:
        """Content without what the writer adds around it.

        Cut: a non-restrictive relative clause or apposition (", which …", ", the alliance that …"),
        ", according to X", everything after a semicolon, and a trailing frame ("in a statement
        on Thursday").
        """
        if not toks:
            return toks
        first = toks[0].i
        drop: set[int] = set()
        for t in toks:
            edge = t.left_edge.i
            aside = t.dep_ in ("relcl", "appos") or t.lower_ == "according"  # ", according to X"
            if aside and edge > first and self.tokens[edge - 1].text == ",":
                drop |= {d.i for d in self.subtree(t)}
                drop.add(edge - 1)
        semi = next((t.i for t in toks if t.text == ";" and t.i > first), None)
        kept = [t for t in toks if t.i not in drop and (semi is None or t.i < semi)]
        while len(kept) > 2:
            last = kept[-1]
            if last.is_punct and last.text not in ("”", '"', "’"):
                kept.pop()
            elif last.ent_type_ in ("DATE", "TIME") and last.dep_ == "npadvmod":
                kept = [t for t in kept if t.i < last.left_edge.i]  # "… last week"
            elif last.ent_type_ in ("DATE", "TIME") and last.head.dep_ == "prep" and last.head.lower_ == "on":
                kept = [t for t in kept if t.i < min(last.left_edge.i, last.head.i)]  # "… on Thursday"
            elif last.dep_ == "pobj" and last.lower_ in FRAME_NOUNS and last.head.lower_ in FRAME_PREPS:
                kept = [t for t in kept if t.i < last.head.i]  # "in a statement"
            else:
                break
        return kept or toks

    def _span(self, toks: list[Any], min_words: int = 3) -> tuple[int, int] | None:
        toks = self.trim(toks)
        toks = [t for t in toks if not (t.is_punct and t.text not in ("”", '"', "’"))] or toks
        while toks and (
            (toks[-1].is_punct and toks[-1].text in (",", "—", "–")) or toks[-1].lower_ in ("and", "but")
        ):
            toks.pop()
        if len([t for t in toks if t.is_alpha]) < min_words:
            return None
        first, last = toks[0], toks[-1]
        start, end = self.off(first), self.off(last) + len(last)
        if self.text[start - 1 : start] in '“"' and start - 1 >= self.start:
            start -= 1
        return start, self.closed(start, end)

    def closed(self, start: int, end: int) -> int:
        """`end`, moved past the closing quotation mark or bracket that the content opens and
        the parse left out ("put Ukraine in the “strongest possible position.”", "$725m (£570m)"):
        a quote text keeps its closing mark."""
        piece = self.text[start:end]
        limit = self.start + len(self.para_text)
        if piece.count("“") > piece.count("”") or piece.count('"') % 2:
            m = _CLOSING_QUOTE.match(self.text, end, limit)
            if m:
                end = m.end()
        if piece.count("(") > piece.count(")") and self.text[end:limit].startswith(")"):
            end += 1
        return end

    def object_content(self, cue: Any) -> list[Any] | None:
        """ "called for a ceasefire", "called him a liar", "urged allies to send more": the complements.

        The dependents after the cue that complete it (objects, infinitives, "as"/"for"/"against"
        phrases), without its adverbials ("on Tuesday", "in a speech").
        """
        parts = []
        for child in self.children(cue):
            if child.i < cue.i:
                continue
            if child.dep_ in _COMPLEMENTS or (
                child.dep_ in ("prep", "prt") and child.lower_ in COMPLEMENT_PREPS
            ):
                parts.append(child)
        if not parts:
            return None
        toks = sorted({t.i: t for p in parts for t in self.subtree(p)}.values(), key=lambda t: t.i)
        if toks[0].dep_ in ("prt", "prep") and len(toks) > 1:
            toks = toks[1:]  # "called for X", "called on X to …": the preposition belongs to the cue
        return toks

    def according_to(self) -> list[Attribution]:
        """ "…, according to X": the rest of the sentence, whatever else is attributed inside it."""
        out: list[Attribution] = []
        if "according" not in self.para_text.lower():  # no token can be (most paragraphs)
            return out
        for tok in self.tokens:
            if tok.lower_ != "according" or self.is_quoted(tok):
                continue
            to = next((c for c in self.children(tok) if c.lower_ == "to"), None)
            obj = next((c for c in self.children(to) if c.dep_ == "pobj"), None) if to is not None else None
            if obj is None:
                continue
            sent = self.sentence(tok)
            drop = {t.i for t in self.subtree(tok)}
            toks = [t for t in sent if t.i not in drop and not t.is_punct]
            if len([t for t in toks if t.is_alpha]) < 3:
                continue
            start, end = self.off(toks[0]), self.off(toks[-1]) + len(toks[-1])
            a = self.make([(start, end)], "reported", obj, tok)
            out.append(Attribution(**{**fields(a), "cue": "according to"}))
        return out
