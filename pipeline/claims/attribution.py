"""Direct quotes and reported speech from a dependency parse (pure; the model is passed in).

One pass per paragraph:
1. a quotation takes the speech verb next to it: `"…," X said`, `"…," said X`,
   `X said: "…"`, `X warned that "…"`; the quotes that follow in the same paragraph
   with no verb of their own (`"…," she said. "…"`) and the paragraphs that carry on an
   unclosed quote belong to the same claim;
2. a speech verb with a subject and a clause (`X said (that) …`, `…, X said`,
   `according to X, …`) is reported speech; quotes inside the clause are part of it;
3. a paragraph that is only a quote, right after an attributed quote, is the same
   speaker going on.
The speaker is returned as written ("he", "who", "the statement", "Mr Rutte");
`speakers.py` resolves it.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.claims.cues import (
    CUE_LEMMAS,
    DOCUMENT_NOUNS,
    OBJECT_CUES,
    PERSON_ROLES,
    PERSONAL_PRONOUNS,
    QUOTE_ONLY,
    RELATIVE_PRONOUNS,
    SPEECH_NOUNS,
    SPEECH_VERBS,
    verb_lemma,
)
from pipeline.claims.quotes import Quote, find_quotes, paragraphs
from pipeline.nlp import parse

_SUBJECT_DEPS = ("nsubj", "nsubjpass")
_NP_DEPS = frozenset(
    {
        "compound",
        "amod",
        "det",
        "poss",
        "case",
        "nmod",
        "nummod",
        "quantmod",
        "flat",
        "cc",
        "conj",
        "prep",
        "pobj",
        "npadvmod",
        "punct",
    }
)
_SIGNATURE = re.compile(
    r"^[”\"’']?\s*(?P<dash>[―—–]|--)\s*(?P<name>[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*){0,4})\s*[.,]?\s*$"
)
_SUBORDINATORS = frozenset(
    {
        "when",
        "if",
        "because",
        "after",
        "before",
        "while",
        "although",
        "though",
        "as",
        "since",
        "despite",
        "once",
        "until",
        "unless",
        "whether",
        "which",
        "who",
        "that",
        "what",
        "all",
    }
)
# "Sanders: Clinton needs to …" (a headline), "PENCE: Well, look, …" (a transcript).
_LABEL = re.compile(r"[\"“]?(?P<name>[A-Z][\w.’'-]*(?:[ \t]+[A-Z][\w.’'-]*){0,3}):[ \t]+(?=\S)")
_MAX_BEFORE_GAP = 12  # tokens between a cue and the quote it introduces ("said in Brussels on Tuesday:")
_ALL_CUES = CUE_LEMMAS | OBJECT_CUES
_SPEAKING_NOUNS = PERSON_ROLES | DOCUMENT_NOUNS
# Children of a cue that belong to the attribution, not the content ("the agency said in a report").
_ATTRIBUTION_PHRASE = frozenset(
    {"nsubj", "nsubjpass", "aux", "auxpass", "neg", "advmod", "prep", "npadvmod", "agent"}
)
# Words that open something other than more content after "…, X said,".
_NOT_CONTENT = frozenset({"according", "who", "which", "whose", "referring", "in", "on", "at", "during"})
# Nouns for the occasion of a statement ("said in an interview"): a frame, not content.
_FRAME_NOUNS = frozenset(
    {
        "statement", "interview", "speech", "rally", "conference", "briefing", "tweet", "post",
        "letter", "hearing", "appearance", "remarks", "event", "release", "email", "op-ed",
    }
)  # fmt: skip
_FRAME_PREPS = ("in", "at", "during", "on")
# Dependents of a cue that make up its content when it takes an object ("called X a liar").
_COMPLEMENTS = frozenset({"dobj", "dative", "xcomp", "ccomp", "oprd", "attr", "acomp", "pcomp"})
_CUE_PREPS = frozenset({"for", "on", "against"})  # part of the cue: "called for", "called on"
_COMPLEMENT_PREPS = frozenset({"for", "as", "against", "of", "about", "over", "to", "on"})


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

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


@dataclass
class _Quoted:
    """Character intervals inside quotation marks, for fast lookups."""

    starts: list[int]
    ends: list[int]

    def inside(self, offset: int) -> bool:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.ends[i]


def find_attributions(text: str, nlp: Any) -> tuple[list[Attribution], list[Mention]]:
    """Every attribution in `text`, in order, and the mentions seen on the way."""
    quotes = find_quotes(text)
    quoted = _Quoted([q.start for q in quotes], [q.end for q in quotes])
    paras = paragraphs(text)
    found: list[Attribution] = []
    mentions: list[Mention] = []
    previous_direct: Attribution | None = None
    labels = Counter(m.group("name") for s, e in paras if (m := _LABEL.match(text, s, e)))
    transcript = {name for name, n in labels.items() if n >= 2 and name.isupper()}
    parsed = [
        _Paragraph(text, p_start, sdoc, quoted)
        for (p_start, _), sdoc in zip(paras, parse(nlp, (text[s:e] for s, e in paras)), strict=True)
    ]
    sentence_base = 0
    for para in parsed:
        para.number_sentences(sentence_base)
        sentence_base += len(list(para.sdoc.sents))
        mentions.extend(para.mentions())
    names = transcript | {m.text for m in mentions if m.label in ("PERSON", "ORG")}
    names |= {m.text.split()[-1] for m in mentions if m.label == "PERSON"}
    for (p_start, p_end), para in zip(paras, parsed, strict=True):
        claims = para.labelled(names, transcript)
        content_start = claims[0].start if claims else p_start
        # the quotes come in text order: this paragraph's by bisection, not by a scan of all
        p_quotes = quotes[
            bisect.bisect_left(quoted.starts, content_start) : bisect.bisect_left(quoted.starts, p_end)
        ]
        claims += para.direct(p_quotes, found, previous_direct)
        claims += para.reported(claims)
        claims.sort(key=lambda a: a.start)
        found.extend(_one_per_span(claims))
        previous_direct = claims[-1] if claims and claims[-1].kind == "direct" else None
    return found, mentions


class _Paragraph:
    def __init__(self, text: str, start: int, sdoc: Any, quoted: _Quoted):
        self.text = text
        self.start = start
        self.sdoc = sdoc
        self.quoted = quoted
        self.sent_index: dict[int, int] = {}
        self.used_cues: set[int] = set()

    def number_sentences(self, base: int) -> None:
        for n, sent in enumerate(self.sdoc.sents):
            for tok in sent:
                self.sent_index[tok.i] = base + n

    # -- helpers ----------------------------------------------------------------
    def off(self, tok: Any) -> int:
        return int(self.start + tok.idx)

    def is_quoted(self, tok: Any) -> bool:
        return self.quoted.inside(self.off(tok))

    def cue_tokens(self) -> Iterable[Any]:
        for tok in self.sdoc:
            if tok.pos_ in ("VERB", "AUX") and verb_lemma(tok) in _ALL_CUES and not self.is_quoted(tok):
                yield tok

    def clause_cues(self) -> Iterable[Any]:
        """Verbs outside the lexicon that take a speaker and a "that"-clause ("X conceded that …")."""
        for tok in self.sdoc:
            if tok.pos_ != "VERB" or verb_lemma(tok) in _ALL_CUES or self.is_quoted(tok):
                continue
            that_clause = any(
                c.dep_ == "ccomp"
                and c.i > tok.i
                and c.left_edge.lower_ == "that"
                and c.left_edge.dep_ == "mark"
                for c in tok.children
            )
            if that_clause and self._can_speak(self.subject(tok)):
                yield tok

    def _can_speak(self, subj: Any | None) -> bool:
        """A person, an organisation or a document: not "it", "this plan", "the data"."""
        if subj is None:
            return False
        if subj.lower_ in PERSONAL_PRONOUNS:
            return bool(subj.lower_ != "it")
        return bool(subj.ent_type_ in ("PERSON", "ORG", "NORP", "GPE") or subj.lower_ in _SPEAKING_NOUNS)

    def subject(self, cue: Any) -> Any | None:
        for _ in range(3):  # "…, adding that …" / "and said …": the subject of the verb above
            subjects = [c for c in cue.children if c.dep_ in _SUBJECT_DEPS and not self.is_quoted(c)]
            if subjects:
                return next((c for c in subjects if not self._dateline(c)), None) or self._after_dateline(
                    subjects[0]
                )
            if cue.dep_ in ("advcl", "xcomp", "conj", "pcomp") and cue.head.i != cue.i:
                cue = cue.head
                continue
            return None
        return None

    def _dateline(self, tok: Any) -> bool:
        """ "WASHINGTON --", "KYIV, Ukraine (AP) —": a place in capitals opening the paragraph."""
        return (
            tok.i <= 3
            and tok.text.isupper()
            and len(tok.text) > 1
            and any(t.text in ("--", "—", "–") for t in self.sdoc[tok.i + 1 : tok.i + 6])
        )

    def _after_dateline(self, tok: Any) -> Any | None:
        """The subject the parser hung on a dateline ("WASHINGTON -- President Obama … said")."""
        if not self._dateline(tok):
            return tok
        dash = next((t.i for t in self.sdoc[tok.i + 1 : tok.i + 6] if t.text in ("--", "—", "–")), None)
        return next((c for c in tok.children if c.dep_ == "appos" and dash is not None and c.i > dash), None)

    def np(self, head: Any) -> tuple[int, int]:
        """Token range [i, j) of the noun phrase around `head`, without appositions or clauses."""
        keep = {head.i}
        todo = [head]
        while todo:
            tok = todo.pop()
            for child in tok.children:
                if child.dep_ not in _NP_DEPS or self.is_quoted(child):
                    continue
                if child.dep_ == "prep" and child.lower_ not in ("of", "for", "at", "from"):
                    continue
                if child.dep_ == "punct" and child.text not in ("'", "’", "-", "."):
                    continue
                keep.add(child.i)
                todo.append(child)
        lo, hi = min(keep), max(keep) + 1
        # the phrase is contiguous: stop at the first gap (a comma, an apposition)
        i = head.i
        while i - 1 >= lo and i - 1 in keep:
            i -= 1
        j = head.i + 1
        while j < hi and j in keep:
            j += 1
        while j + 1 < len(self.sdoc) and self.sdoc[j].text == "-" and self.sdoc[j + 1].is_alpha:
            j += 2  # "secretary-general" comes apart in the tokenizer
        while i < j and self.sdoc[i].dep_ in ("cc", "punct", "case") and i != head.i:
            i += 1
        while j > i + 1 and self.sdoc[j - 1].dep_ in ("cc", "punct", "prep") and j - 1 != head.i:
            j -= 1
        return i, j

    def cue_text(self, cue: Any) -> str:
        words = [c for c in cue.children if c.dep_ in ("aux", "neg") and c.i < cue.i and c.i >= cue.i - 3]
        words += [cue] + [
            c
            for c in cue.children
            if c.dep_ == "prt" or (c.i == cue.i + 1 and c.dep_ == "prep" and self._phrasal(cue, c))
        ]
        return " ".join(t.text for t in sorted(words, key=lambda t: t.i))

    def _phrasal(self, cue: Any, prep: Any) -> bool:
        """ "called for X", "called on X": the preposition is part of the cue, unlike "said on Tuesday"."""
        if prep.lower_ not in _CUE_PREPS or verb_lemma(cue) not in OBJECT_CUES:
            return False
        return not any(c.ent_type_ in ("DATE", "TIME") for c in prep.children)

    def make(self, spans: Sequence[tuple[int, int]], kind: str, subj: Any, cue: Any) -> Attribution:
        i, j = self.np(subj)
        if j - i > 1 and self.sdoc[j - 1].dep_ == "case":
            j -= 1  # "Mr Rutte's warning that …": the speaker is "Mr Rutte"
        span = self.sdoc[i:j]
        low = subj.lower_
        if low in RELATIVE_PRONOUNS and subj.i == i:
            stype = "relative"
        elif low in PERSONAL_PRONOUNS and j - i == 1:
            stype = "pronoun"
        else:
            stype = "name"
        antecedent = None
        if stype == "relative" and (cue.dep_ == "relcl" or subj.head.dep_ == "relcl"):
            verb = cue if cue.dep_ == "relcl" else subj.head
            a, b = self.np(verb.head)
            antecedent = (self.off(self.sdoc[a]), self.off(self.sdoc[b - 1]) + len(self.sdoc[b - 1]))
        return Attribution(
            spans=tuple(spans),
            kind=kind,
            speaker=span.text,
            speaker_start=self.off(span[0]),
            speaker_end=self.off(span[-1]) + len(span[-1]),
            speaker_type=stype,
            cue=self.cue_text(cue),
            cue_start=self.off(cue),
            sentence=self.sent_index[cue.i],
            antecedent=antecedent,
        )

    # -- 0. labelled lines ----------------------------------------------------------
    def labelled(self, names: set[str], transcript: set[str]) -> list[Attribution]:
        """A paragraph opened by a speaker's name and a colon: the rest is what they said.

        `names`: the persons and organisations the tagger found in the document ("Sanders: …",
        not "Update: …" or a "NEW DELHI:" dateline), and the capitalised labels that open
        several paragraphs, as speakers do in a transcript ("PENCE: …", "WALLACE: …").
        """
        m = _LABEL.match(self.text, self.start, self.start + len(self.sdoc.text))
        if m is None:
            return []
        name = m.group("name")
        words = [t for t in self.sdoc if m.start("name") <= self.off(t) < m.end("name")]
        if name not in names:
            return []
        start, end = m.end(), self.start + len(self.sdoc.text.rstrip().rstrip('"”'))
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

    # -- 1. quotations ------------------------------------------------------------
    def direct(
        self, quotes: list[Quote], earlier: list[Attribution], previous_direct: Attribution | None
    ) -> list[Attribution]:
        out: list[Attribution] = []
        current: Attribution | None = None
        for n, q in enumerate(quotes):
            if q.continues and earlier and earlier[-1].kind == "direct" and n == 0:
                prev = earlier[-1]
                earlier[-1] = _extend(prev, (q.start, q.end))
                continue
            nxt = quotes[n + 1].start if n + 1 < len(quotes) else self.start + len(self.sdoc.text)
            prv = quotes[n - 1].end if n else self.start
            cue = self.cue_after(q, nxt)
            if cue is None and current is not None and self._nothing_between(current, q):
                out[-1] = current = _extend(current, (q.start, q.end))
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
            elif n == 0 and previous_direct is not None and self._opens_paragraph(q):
                current = _inherit(previous_direct, (q.start, q.end))
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
            sentence=self.sent_index[self.sdoc[-1].i],
        )

    def _opens_paragraph(self, q: Quote) -> bool:
        return q.start - self.start <= 2

    def _nothing_between(self, claim: Attribution, q: Quote) -> bool:
        """Only the attribution of `claim` stands between its quote and `q` ("“…,” she said. “…”")."""
        between = self.text[claim.end : q.start]
        if len(between) >= 300:
            return False
        for t in self.cue_tokens():
            if claim.end <= self.off(t) < q.start and t.i not in self.used_cues:
                subj = self.subject(t)
                if subj is None or subj.lower_ not in PERSONAL_PRONOUNS:
                    return False  # somebody else may be speaking; "He didn't suggest …" is the same one
        return True

    def cue_after(self, q: Quote, limit: int) -> Any | None:
        if not self._starts_clause(q):
            return None  # a fragment inside a sentence: the reported clause around it is the claim
        last = self.text[q.end - 1 : q.end]
        after = self.text[q.end : q.end + 3].lstrip("”\"’' ")
        if not (last in ",?!—–-…" or after.startswith((",", "—", "–"))):
            return None
        for tok in self.sdoc:
            o = self.off(tok)
            if o < q.end or self.is_quoted(tok):
                continue
            if o >= limit or (tok.text in (".", ";") and o > q.end + 1):
                return None
            if self._is_free_cue(tok) and self.subject(tok) is not None:
                return tok
        return None

    def _runs_on(self, q: Quote) -> bool:
        """The sentence goes on after the quote ("said that “a bomb” had gone off"): a quoted fragment."""
        after = self.text[q.end : q.end + 4].lstrip("”\"’' ")
        return bool(after) and after[0].isalpha() and self.text[q.end - 1 : q.end] not in ".?!,"

    def _starts_clause(self, q: Quote) -> bool:
        before = self.text[self.start : q.start].rstrip("“‘\"' ")  # without the opening mark(s)
        return not before or before[-1] in ".!?:;,—–-([\"”’'"

    def cue_before(self, q: Quote, limit: int) -> Any | None:
        gap = self.text[limit : q.start - 1].rstrip()
        if not gap or self._runs_on(q):
            return None
        best = None
        for tok in self.sdoc:
            o = self.off(tok)
            if o < limit or o >= q.start:
                continue
            if tok.text in (".", ";", "?", "!") and o < q.start - 2:
                best = None  # a sentence ended between the verb and the quote
            elif self._is_free_cue(tok) and not self.is_quoted(tok):
                best = tok if self.subject(tok) is not None else None
        if best is None:
            return None
        tail = self.text[self.off(best) + len(best) : q.start - 1].strip()
        tokens_between = [t for t in self.sdoc if self.off(best) < self.off(t) < q.start - 1]
        if len(tokens_between) > _MAX_BEFORE_GAP:
            return None
        if not tail or tail.endswith((":", ",")) or tail.split()[-1].lower() == "that":
            return best
        return None

    def _is_free_cue(self, tok: Any) -> bool:
        return tok.pos_ in ("VERB", "AUX") and verb_lemma(tok) in CUE_LEMMAS and tok.i not in self.used_cues

    # -- 2. reported speech ---------------------------------------------------------
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
                and all(_nested(s, e, c, start, end, at) for s, e, c in clash)
            ):
                continue  # two cues for one content; only a speech verb with its clause nests inside another
            kind = "direct" if self._quoted_share(start, end) > 0.8 else "reported"
            out.append(self.make(spans, kind, subj, cue))
            taken.append((start, end, at))
        out += self.according_to()
        out += self.nominal([(a.start, a.end, a.cue_start) for a in out + directs])
        return out

    def nominal(self, taken: list[tuple[int, int, int]]) -> list[Attribution]:
        """ "Moscow's claim that the strike hit a base": a speech noun, its owner and its clause."""
        out = []
        for noun in self.sdoc:
            if noun.pos_ != "NOUN" or noun.lower_ not in SPEECH_NOUNS or self.is_quoted(noun):
                continue
            owner = next((c for c in noun.children if c.dep_ == "poss" and c.pos_ != "PRON"), None)
            clause = next(
                (
                    c
                    for c in noun.children
                    if c.dep_ in ("acl", "ccomp") and c.i > noun.i and c.left_edge.lower_ == "that"
                ),
                None,
            )
            if owner is None or clause is None:
                continue
            span = self._span(list(clause.subtree))
            if span is None:
                continue
            at = self.off(noun)
            if any(s < span[1] and span[0] < e and not _nested(s, e, c, *span, at) for s, e, c in taken):
                continue
            out.append(self.make([span], "reported", owner, noun))
        return out

    def clause_after(self, cue: Any) -> bool:
        return any(c.dep_ == "ccomp" and c.i > cue.i for c in cue.children)

    def content(self, cue: Any) -> list[tuple[int, int]] | None:
        """The content pieces of a cue: one span, or two around a parenthetical "…, X said, …"."""
        first = self.content_first(cue)
        if first is not None:
            return self._spans(first, self.continuation(cue))
        clause = next(
            (
                c
                for c in cue.children
                if c.dep_ == "ccomp" or (c.dep_ == "advcl" and c.left_edge.lower_ == "that")
            ),
            None,
        )
        if clause is not None:
            toks = [t for t in clause.subtree]
            if cue.dep_ != "ROOT" and clause.i < cue.i:
                return None
        elif cue.dep_ in ("parataxis", "ccomp") and cue.head.i < cue.i and cue.head.pos_ in ("VERB", "AUX"):
            # "…, X said": the clause is the verb this one hangs from, minus the cue
            drop = {t.i for t in cue.subtree}
            toks = [t for t in cue.head.subtree if t.i not in drop and t.i < cue.i]
            first = min(cue.subtree, key=lambda t: t.i)
            if first.i == 0 or self.sdoc[first.i - 1].text not in (",", "”", '"', "’", "—", "–"):
                return None
            return self._spans(toks, self.continuation(cue))
        elif verb_lemma(cue) in OBJECT_CUES and (obj := self.object_content(cue)) is not None:
            toks = list(obj)
        else:
            return None
        span = self._span(toks)
        return [span] if span else None

    def continuation(self, cue: Any) -> list[Any]:
        """What follows a parenthetical attribution to the end of its sentence.

        "Lenox was a juggernaut, Mr. Clarke said, until it went bankrupt": "until it went
        bankrupt". Nothing when the attribution ends the sentence or what follows is another
        cue ("…, he said, adding that …") or a clause about the speaker ("…, who …").
        """
        phrase = [c for c in cue.children if c.dep_ in _ATTRIBUTION_PHRASE]
        right = max([cue.i] + [t.right_edge.i for t in phrase])
        sent = cue.sent
        if right + 2 >= sent.end or self.sdoc[right + 1].text not in (",", "—", "–"):
            return []
        rest = [t for t in sent if t.i > right + 1]
        while rest and rest[-1].is_punct and rest[-1].text not in ("”", '"', "’"):
            rest.pop()
        head = rest[0] if rest else None
        if head is None or head.tag_ == "VBG" or head.lower_ in _NOT_CONTENT:
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
        aux = [c.i for c in cue.children if c.dep_ in ("aux", "neg") and c.i < cue.i]
        left = min([left, *aux])
        sent = cue.sent
        if left <= sent.start + 2 or self.sdoc[left - 1].text not in (",", "”", '"', "’", "—"):
            return None
        if any(c.dep_ in ("ccomp", "dobj", "xcomp") and c.i > cue.i for c in cue.children):
            return None
        toks = [t for t in sent if t.i < left - 1]
        # the words before the comma must be a clause of their own, not "When X left," / "Despite Y,"
        words = [t.lower_ for t in toks if t.is_alpha][:2]
        if not words or words[0] in _SUBORDINATORS or words[-1] in _SUBORDINATORS:
            return None
        if not any(t.dep_ in _SUBJECT_DEPS and t.head.dep_ not in ("advcl", "relcl", "acl") for t in toks):
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
            if aside and edge > first and self.sdoc[edge - 1].text == ",":
                drop |= {d.i for d in t.subtree}
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
            elif last.dep_ == "pobj" and last.lower_ in _FRAME_NOUNS and last.head.lower_ in _FRAME_PREPS:
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
        return start, end

    def object_content(self, cue: Any) -> list[Any] | None:
        """ "called for a ceasefire", "called him a liar", "urged allies to send more": the complements.

        The dependents after the cue that complete it (objects, infinitives, "as"/"for"/"against"
        phrases), without its adverbials ("on Tuesday", "in a speech").
        """
        parts = []
        for child in cue.children:
            if child.i < cue.i:
                continue
            if child.dep_ in _COMPLEMENTS or (
                child.dep_ in ("prep", "prt") and child.lower_ in _COMPLEMENT_PREPS
            ):
                parts.append(child)
        if not parts:
            return None
        toks = sorted({t.i: t for p in parts for t in p.subtree}.values(), key=lambda t: t.i)
        if toks[0].dep_ in ("prt", "prep") and len(toks) > 1:
            toks = toks[1:]  # "called for X", "called on X to …": the preposition belongs to the cue
        return toks

    def according_to(self) -> list[Attribution]:
        """ "…, according to X": the rest of the sentence, whatever else is attributed inside it."""
        out = []
        for tok in self.sdoc:
            if tok.lower_ != "according" or self.is_quoted(tok):
                continue
            to = next((c for c in tok.children if c.lower_ == "to"), None)
            obj = next((c for c in to.children if c.dep_ == "pobj"), None) if to is not None else None
            if obj is None:
                continue
            sent = tok.sent
            drop = {t.i for t in tok.subtree}
            toks = [t for t in sent if t.i not in drop and not t.is_punct]
            if len([t for t in toks if t.is_alpha]) < 3:
                continue
            start, end = self.off(toks[0]), self.off(toks[-1]) + len(toks[-1])
            a = self.make([(start, end)], "reported", obj, tok)
            out.append(Attribution(**{**_fields(a), "cue": "according to"}))
        return out

    def _quoted_share(self, start: int, end: int) -> float:
        inside = sum(1 for o in range(start, end) if self.quoted.inside(o))
        return inside / max(1, end - start)

    # -- mentions --------------------------------------------------------------------
    def mentions(self) -> list[Mention]:
        out = []
        for ent in self.sdoc.ents:
            if ent.label_ not in ("PERSON", "ORG", "GPE", "NORP") or self.is_quoted(ent[0]):
                continue
            root = ent.root
            subject = root.dep_ in _SUBJECT_DEPS or (root.dep_ == "appos" and root.head.dep_ in _SUBJECT_DEPS)
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
            and self.sdoc[i - 1].dep_ in ("compound", "amod", "poss", "case", "punct")
            and self.sdoc[i - 1].text not in (",", "(", ")", "—")
        ):
            i -= 1
        words = [t.text for t in self.sdoc[i : ent.start]]
        for child in ent.root.children:
            if child.dep_ == "appos" and child.i > ent.end - 1:
                a, b = self.np(child)
                words += [t.text for t in self.sdoc[a:b]]
        return " ".join(words)


def _one_per_span(claims: list[Attribution]) -> list[Attribution]:
    """The first attribution of each span: two cues can reach one content (direct quotes come first)."""
    seen: set[tuple[int, int]] = set()
    out = []
    for a in claims:
        if (a.start, a.end) not in seen:
            seen.add((a.start, a.end))
            out.append(a)
    return out


def _nested(s1: int, e1: int, cue1: int, s2: int, e2: int, cue2: int) -> bool:
    """One attribution sits inside the content of the other ("X said Y had promised Z")."""
    return s1 <= cue2 < e1 or s2 <= cue1 < e2


def _fields(a: Attribution) -> dict[str, Any]:
    return {name: getattr(a, name) for name in Attribution.__slots__}


def _extend(a: Attribution, span: tuple[int, int]) -> Attribution:
    return Attribution(**{**_fields(a), "spans": (*a.spans, span)})


def _inherit(a: Attribution, span: tuple[int, int]) -> Attribution:
    return Attribution(**{**_fields(a), "spans": (span,), "kind": "direct", "speaker_type": "inherited"})
