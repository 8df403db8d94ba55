"""1. Quotations: the speech verb next to a quote, quotes that carry on, signed quotes (pure)."""

from __future__ import annotations

import re
from typing import Any

from pipeline.claims.attribution.paragraph import ParagraphBase
from pipeline.claims.attribution.types import Attribution, extend, fields, inherit
from pipeline.claims.cues import CUE_LEMMAS, PERSONAL_PRONOUNS, verb_lemma
from pipeline.claims.quotes import Quote

_SIGNATURE = re.compile(
    r"^[”\"’']?\s*(?P<dash>[―—–]|--)\s*(?P<name>[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*){0,4})\s*[.,]?\s*$"
)
# Marks and spaces (a no-break space too, not a line break) around a quotation's edges.
_MARKS_AFTER = re.compile(r"[ \t\u00a0’']+$")
_MARKS_BEFORE = re.compile(r"^[ \t\u00a0”\"’']+")
_OPENING = re.compile(r"[ \t\u00a0“‘\"']+$")
_MAX_BEFORE_GAP = 12  # tokens between a cue and the quote it introduces ("said in Brussels on Tuesday:")


class Quotations(ParagraphBase):
    def direct(
        self, quotes: list[Quote], earlier: list[Attribution], previous_direct: Attribution | None
    ) -> list[Attribution]:
        out: list[Attribution] = []
        current: Attribution | None = None
        for n, q in enumerate(quotes):
            if q.continues and earlier and earlier[-1].kind == "direct" and n == 0:
                prev = earlier[-1]
                earlier[-1] = extend(prev, (q.start, q.end))
                continue
            nxt = quotes[n + 1].start if n + 1 < len(quotes) else self.start + len(self.para_text)
            prv = quotes[n - 1].end if n else self.start
            cue = self.cue_after(q, nxt)
            if cue is None and current is not None and self._goes_on(current, q, prv):
                out[-1] = current = extend(current, (q.start, q.end))
                continue
            cue = cue or self.cue_before(q, prv)
            signed = self.signed(q, nxt) if cue is None else None
            if signed is not None:  # “…” ― Carla Sanchez
                current = signed
                out.append(current)
            elif cue is not None:
                subj = self.subject(cue)
                current = self.make([(q.start, q.end)], "direct", subj, cue)
                self.used_cues.add(cue.i)
                out.append(current)
            elif (loose := self.loose_cue(q, prv, nxt)) is not None:
                # a verb outside the cue vocabulary next to the quote ("“Nooooo!” the crowd cried
                # out", "he demurred: “…”"): a candidate the model judges, as the broad search's
                made = self.make([(q.start, q.end)], "direct", self.subject(loose), loose)
                current = Attribution(**{**fields(made), "source": "broad-quote"})
                self.used_cues.add(loose.i)
                out.append(current)
            elif n == 0 and previous_direct is not None and self._opens_paragraph(q):
                current = inherit(previous_direct, (q.start, q.end))
                out.append(current)
        return out

    def signed(self, q: Quote, limit: int) -> Attribution | None:
        """A quote signed with a dash and a name to the end of the paragraph, as in vox pops."""
        after = self.text[q.end : limit]
        m = _SIGNATURE.match(after)
        if m is None or not self._starts_clause(q):
            return None
        start = q.end + m.start("name")
        return Attribution(
            spans=((q.start, q.end),),
            kind="direct",
            speaker=m.group("name"),
            speaker_start=start,
            speaker_end=start + len(m.group("name")),
            speaker_type="name",
            cue=m.group("dash"),
            cue_start=q.end + m.start("dash"),
            sentence=self.sent_index[self.tokens[-1].i],
        )

    def _goes_on(self, claim: Attribution, q: Quote, prv: int) -> bool:
        """`q` carries on `claim`'s quotation: a quote that stands as a sentence or clause of its
        own, with no cue of its own before it ("“…,” Trump said, adding later, “…”") and nothing
        but the attribution between ("“…,” she said. “…”"). A quoted fragment inside a sentence
        ("… she said. “You squeezed employees” to drive up …, she said") is part of a
        reported claim around it, not more of the quotation."""
        if not self._starts_clause(q) or self._runs_on(q):
            return False
        if self.cue_before(q, prv) is not None:
            return False
        return self._nothing_between(claim, q)

    def _opens_paragraph(self, q: Quote) -> bool:
        return q.start - self.start <= 2

    def _nothing_between(self, claim: Attribution, q: Quote) -> bool:
        """Only the attribution of `claim` stands between its quote and `q` ("“…,” she said. “…”")."""
        between = self.text[claim.end : q.start]
        if len(between) >= 300:
            return False
        for t in self.cue_tokens():
            if claim.end <= self.off(t) < q.start and t.i not in self.used_cues:
                if self.sent_index.get(t.i) == claim.sentence:
                    continue  # the attribution's own sentence: "asked X, who wants …", "as reported by"
                subj = self.subject(t)
                if subj is None or subj.lower_ not in PERSONAL_PRONOUNS:
                    return False  # somebody else may be speaking; "He didn't suggest …" is the same one
        return True

    def cue_after(self, q: Quote, limit: int, loose: bool = False) -> Any | None:
        if not self._starts_clause(q):
            return None  # a fragment inside a sentence: the reported clause around it is the claim
        # the quote's last mark, past a space or an inner closing mark: “… ‘Oh, yes,’ ” Sanders told
        last = _MARKS_AFTER.sub("", self.text[q.start : q.end])[-1:]
        after = _MARKS_BEFORE.sub("", self.text[q.end : q.end + 3])
        if not (last in ",?!—–-…" or after.startswith((",", "—", "–"))):
            return None
        for tok in self.tokens_between(q.end, limit):
            o = self.off(tok)
            if self.is_quoted(tok):
                continue
            if o >= limit or (tok.text in (".", ";") and o > q.end + 1):
                return None
            if (self._is_free_cue(tok, loose) or self.misparsed_cue(tok)) and self.subject(tok) is not None:
                return tok
        return None

    def _runs_on(self, q: Quote) -> bool:
        """The sentence goes on after the quote ("said that “a bomb” had gone off"): a quoted fragment."""
        after = _MARKS_BEFORE.sub("", self.text[q.end : q.end + 4])
        return bool(after) and after[0].isalpha() and self.text[q.end - 1 : q.end] not in ".?!,"

    def _starts_clause(self, q: Quote) -> bool:
        before = _OPENING.sub("", self.text[self.start : q.start])  # without the opening mark(s)
        return not before or before[-1] in ".!?:;,—–-([\"”’'\n"

    def cue_before(self, q: Quote, limit: int, loose: bool = False) -> Any | None:
        gap = self.text[limit : q.start - 1].rstrip()
        if not gap or self._runs_on(q):
            return None
        best = None
        for tok in self.tokens_between(limit, q.start):
            o = self.off(tok)
            if tok.text in (".", ";", "?", "!") and o < q.start - 2:
                best = None  # a sentence ended between the verb and the quote
            elif self._is_free_cue(tok, loose) and not self.is_quoted(tok):
                best = tok if self.subject(tok) is not None else None
        if best is None:
            return None
        tail = self.text[self.off(best) + len(best) : q.start - 1].strip()
        tokens_between = self.tokens_between(self.off(best) + 1, q.start - 1)
        if len(tokens_between) > _MAX_BEFORE_GAP:
            return None
        if not tail or tail.endswith((":", ",")) or tail.split()[-1].lower() == "that":
            return best
        return None

    def loose_cue(self, q: Quote, prv: int, nxt: int) -> Any | None:
        """Any verb where a cue would stand next to the quote, with its subject."""
        return self.cue_after(q, nxt, loose=True) or self.cue_before(q, prv, loose=True)

    def _is_free_cue(self, tok: Any, loose: bool = False) -> bool:
        """A cue verb not taken yet; `loose`: any verb ("the crowd cried out", "he demurred:")."""
        if tok.i in self.used_cues:
            return False
        if loose:
            return bool(tok.pos_ == "VERB")
        return tok.pos_ in ("VERB", "AUX") and verb_lemma(tok) in CUE_LEMMAS

    # -- 3. a quote after a reported claim ---------------------------------------------
    def carried(self, quotes: list[Quote], claims: list[Attribution]) -> list[Attribution]:
        """A quotation that opens a sentence right after the sentence of a claim in this
        paragraph, with no attribution of its own, is the same speaker going on: "In a
        statement, Mr. H said his group intended to appeal. “We will see them in court.”" """
        out: list[Attribution] = []
        for q in quotes:
            if any(s <= q.start < e or q.start <= s < q.end for a in claims + out for s, e in a.spans):
                continue
            before = [a for a in claims + out if a.end <= q.start and a.cue_start < q.start]
            if not before or not self._starts_clause(q):
                continue
            prev = max(before, key=lambda a: a.end)
            # what stands between: nothing but the punctuation that ends the claim's sentence
            after = max(prev.end, prev.speaker_end, prev.cue_start + len(prev.cue.split()[-1]))
            if prev in claims and self._quotes_before_its_cue(prev):
                # "Still, golf clubs are “just scratching out a profit,” Mr. Hedge said from his
                # office. “Golf is …”": the rest of the cue's sentence is the attribution's
                cue = self.token_at(prev.cue_start)
                if cue is not None:
                    last = self.sentence(cue)[-1]
                    after = max(after, self.off(last) + len(last))
                if any(ch.isalnum() for ch in self.text[after : q.start]):
                    continue
                # a quotation the claim began goes on, in the same claim
                claims[claims.index(prev)] = extend(prev, (q.start, q.end))
                continue
            if any(ch.isalnum() for ch in self.text[after : q.start]):
                continue
            out.append(inherit(prev, (q.start, q.end)))
        return out

    def _quotes_before_its_cue(self, a: Attribution) -> bool:
        """A reported claim whose content, written before its cue, ends in a quotation."""
        if a.kind != "reported" or a.cue_start < a.end:
            return False
        tail = a.spans[-1]
        return self.quoted_share(max(tail[0], tail[1] - 12), tail[1]) > 0.5

    def colon_cue(self) -> Any | None:
        """The cue of a paragraph that announces a quotation in the next one: "Caddell continued:",
        "The New York Times reports:", "He said:" (a cue with a subject, ending the paragraph)."""
        if not self.para_text.rstrip().endswith(":"):
            return None
        sent = self.sentence(self.tokens[-1])
        cues = [
            t for t in sent if self._is_free_cue(t) and not self.is_quoted(t) and self.subject(t) is not None
        ]
        return cues[-1] if cues else None
