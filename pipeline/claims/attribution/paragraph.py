"""What every attribution rule reads from one parsed paragraph (pure).

`ParagraphBase` holds a paragraph's parse and offsets and the helpers the rules share:
cue verbs, the subject of a cue, the noun phrase around a head, the cue as written,
and `make`, which turns (content spans, speaker token, cue token) into an Attribution.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.claims.attribution.types import Attribution, Quoted
from pipeline.claims.cues import (
    ALL_CUES,
    CUE_LEMMAS,
    CUE_PREPS,
    OBJECT_CUES,
    PERSONAL_PRONOUNS,
    RELATIVE_PRONOUNS,
    SPEAKING_NOUNS,
    THING_PRONOUNS,
    verb_lemma,
)

SUBJECT_DEPS = ("nsubj", "nsubjpass")
_DATELINE_DASHES = frozenset({"--", "—", "–", "-"})
_DATELINE_SPAN = 10  # tokens from the place to its dash: "CLEVELAND, July 19 (UPI) —"
_INVERTED_DEPS = frozenset({"dobj", "attr", "dative", "npadvmod", "oprd"})
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


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the paragraph's parse, read as a spaCy sentence Span is (`start`, `end`,
    its tokens in order), with the paragraph's Tokens."""

    start: int  # token index of its first token
    end: int  # one past its last
    tokens: list[Any]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.tokens)

    def __getitem__(self, k: int) -> Any:
        return self.tokens[k]


def _children(tokens: list[Any], heads: list[int]) -> list[list[Any]]:
    """Each token's children (`tok.children`), in order, from the parse's array of heads
    (each token's head as an offset from it; 0 for a sentence's root)."""
    children: list[list[Any]] = [[] for _ in tokens]
    for i, offset in enumerate(heads):
        if offset:
            children[i + offset].append(tokens[i])
    return children


def _in_order(
    tokens: list[Any], heads: list[int], children: list[list[Any]]
) -> tuple[list[Any], list[int], list[int]]:
    """Every tree of the parse walked as `tok.subtree` walks one (the left children's subtrees,
    the token, the right children's), and where each token's subtree lies in that walk: a
    subtree is one stretch of it, `walk[begin[i]:end[i]]` (not always in the text's order:
    a parse may cross its arcs)."""
    walk: list[Any] = []
    begin = [0] * len(tokens)
    end = [0] * len(tokens)
    for root in (i for i, offset in enumerate(heads) if offset == 0):
        todo = [(root, "enter")]  # a stack, not recursion: a tree may be deep
        while todo:
            i, step = todo.pop()
            if step == "enter":
                begin[i] = len(walk)
                kids = children[i]
                todo.append((i, "leave"))
                todo += [(c.i, "enter") for c in reversed(kids) if c.i > i]
                todo.append((i, "visit"))
                todo += [(c.i, "enter") for c in reversed(kids) if c.i < i]
            elif step == "visit":
                walk.append(tokens[i])
            else:
                end[i] = len(walk)
    return walk, begin, end


class ParagraphBase:
    """A paragraph's parse, read once into tables, and what the rules ask of it.

    spaCy makes a new Token object on every `sdoc[i]`, every pass over the Doc or a
    sentence and every read of `tok.children` or `tok.subtree`, and the rules ask the same
    questions of one verb again and again (its subject, its content). So the paragraph
    keeps, per token index: the Token (`tokens`), its offset, whether it is quoted, its
    children (from the parse's head array), its sentence, its subtree (a stretch of one
    walk of the trees, `_in_order`), and the answers of `subject`, `content` and `np` once
    found. They are all pure functions of the parse and the quotes: remembering them
    changes no answer.
    """

    def __init__(self, text: str, start: int, end: int, sdoc: Any, quoted: Quoted):
        """The paragraph text[start:end] of the document `text`, and `sdoc`, its parse."""
        self.text = text
        self.start = start
        # the paragraph's text (what `sdoc.text` gives, without joining its tokens again)
        self.para_text = text[start:end]
        self.sdoc = sdoc
        self.quoted = quoted
        self.sent_index: dict[int, int] = {}
        self.used_cues: set[int] = set()
        self.tokens: list[Any] = list(sdoc)  # sdoc[i], made once
        # each token's offset in the paragraph, in order (rising: tokens are never empty)
        self._starts: list[int] = sdoc.to_array("IDX").tolist() if self.tokens else []
        if quoted.count_inside(start, end):
            self._quoted_at = [quoted.inside(start + s) for s in self._starts]  # is_quoted, per token
        else:
            self._quoted_at = [False] * len(self.tokens)  # no quotation in the paragraph
        self._verbs = [t for t in self.tokens if t.pos_ in ("VERB", "AUX")]
        self._heads: list[int] = sdoc.to_array("HEAD").astype("int64").tolist() if self.tokens else []
        self._children = _children(self.tokens, self._heads)
        self._sentences: list[Sentence] = [
            Sentence(sent.start, sent.end, self.tokens[sent.start : sent.end]) for sent in sdoc.sents
        ]
        self._sentence_at: list[Sentence] = [
            sentence for sentence in self._sentences for _ in sentence.tokens
        ]
        self._walk: tuple[list[Any], list[int], list[int]] | None = None  # see _in_order
        self._subjects: dict[int, Any | None] = {}
        self._contents: dict[int, list[tuple[int, int]] | None] = {}
        self._nps: dict[int, tuple[int, int]] = {}

    def verbs(self) -> list[Any]:
        """The paragraph's verbs and auxiliaries, in order."""
        return self._verbs

    def children(self, tok: Any) -> list[Any]:
        """`tok.children`: the tokens whose head it is, in order."""
        return self._children[tok.i]

    def subtree(self, tok: Any) -> list[Any]:
        """`tok.subtree`, in its order: the left children's subtrees, the token, the right
        children's (not always the text's order: a parse may cross its arcs)."""
        if self._walk is None:
            self._walk = _in_order(self.tokens, self._heads, self._children)
        walk, begin, end = self._walk
        return walk[begin[tok.i] : end[tok.i]]

    def sentence(self, tok: Any) -> Sentence:
        """`tok.sent`: the sentence that holds the token."""
        i: int = tok.i
        return self._sentence_at[i]

    def number_sentences(self, base: int) -> int:
        """Number the paragraph's sentences from `base`; returns how many it has."""
        for n, sentence in enumerate(self._sentences):
            for i in range(sentence.start, sentence.end):
                self.sent_index[i] = base + n
        return len(self._sentences)

    def off(self, tok: Any) -> int:
        return int(self.start + tok.idx)

    def token_at(self, offset: int) -> Any | None:
        """The token that starts at text offset `offset`, if any."""
        starts = self._starts
        i = bisect.bisect_left(starts, offset - self.start)
        return self.tokens[i] if i < len(starts) and starts[i] == offset - self.start else None

    def tokens_between(self, start: int, end: int) -> list[Any]:
        """The tokens that start in [start, end) of the text, in order."""
        i = bisect.bisect_left(self._starts, start - self.start)
        j = bisect.bisect_left(self._starts, end - self.start)
        return self.tokens[i:j]

    def quoted_share(self, start: int, end: int) -> float:
        """The share of the characters of [start, end) inside quotation marks."""
        return self.quoted.count_inside(start, end) / max(1, end - start)

    def is_quoted(self, tok: Any) -> bool:
        """Whether the token starts inside quotation marks."""
        i: int = tok.i
        return self._quoted_at[i]

    def cue_tokens(self) -> Iterable[Any]:
        for tok in self.verbs():
            if verb_lemma(tok) in ALL_CUES and not self.is_quoted(tok):
                yield tok

    def clause_cues(self) -> Iterable[Any]:
        """Verbs outside the lexicon that take a speaker and a "that"-clause ("X conceded that …")."""
        for tok in self.verbs():
            if tok.pos_ != "VERB" or verb_lemma(tok) in ALL_CUES or self.is_quoted(tok):
                continue
            that_clause = any(
                c.dep_ == "ccomp"
                and c.i > tok.i
                and c.left_edge.lower_ == "that"
                and c.left_edge.dep_ == "mark"
                for c in self.children(tok)
            )
            if that_clause and self._can_speak(self.subject(tok)):
                yield tok

    def _can_speak(self, subj: Any | None) -> bool:
        """A person, an organisation or a document: not "it", "this plan", "the data"."""
        if subj is None:
            return False
        if subj.lower_ in PERSONAL_PRONOUNS:
            return bool(subj.lower_ != "it")
        return bool(subj.ent_type_ in ("PERSON", "ORG", "NORP", "GPE") or subj.lower_ in SPEAKING_NOUNS)

    def subject(self, cue: Any) -> Any | None:
        """Who `cue` has as its speaker (see `_find_subject`), found once per token."""
        if cue.i not in self._subjects:
            self._subjects[cue.i] = self._find_subject(cue)
        return self._subjects[cue.i]

    def _find_subject(self, cue: Any) -> Any | None:
        for _ in range(3):  # "…, adding that …" / "and said …": the subject of the verb above
            subjects = [
                c
                for c in self.children(cue)
                if c.dep_ in SUBJECT_DEPS and not self.is_quoted(c) and any(ch.isalnum() for ch in c.text)
            ]  # not a dash the tagger read as a noun ("… made public ― Trump boasted")
            if subjects:
                return next((c for c in subjects if not self._dateline(c)), None) or self._after_dateline(
                    subjects[0]
                )
            if (inverted := self._inverted_speaker(cue)) is not None:
                return inverted  # "“…,” added a South Carolina Democrat.": read as the object
            if self.misparsed_cue(cue):
                return self.tokens[cue.i - 1]  # "Sinclair states."
            if cue.dep_ == "acl" and cue.tag_ in ("VBD", "VBZ") and cue.head.pos_ in ("NOUN", "PROPN"):
                return cue.head  # "…!" the nominee, Donald Trump, tweeted: a past tense hung on its subject
            if cue.dep_ == "ROOT" and (named := self._name_before(cue)) is not None:
                return named  # "In a statement, her adviser, Jake Sullivan, said:" (read as appositions)
            if (watched := self._person_before_participle(cue)) is not None:
                return watched  # "footage of Hillary Clinton asking, “…”": who is seen saying it
            if cue.dep_ in ("advcl", "xcomp", "conj", "pcomp") and cue.head.i != cue.i:
                cue = cue.head
                if cue.pos_ == "ADP" and cue.head.i != cue.i:
                    cue = cue.head  # "he was quoted as saying": the subject of "quoted"
                continue
            return None
        return None

    def _inverted_speaker(self, cue: Any) -> Any | None:
        """The speaker after a cue that follows a quotation's closing mark, which the parse took
        for the cue's object: "“…,” added a South Carolina Democrat."."""
        i = cue.i - 1
        while i >= 0 and self.tokens[i].is_space:
            i -= 1  # a no-break space after the mark is a token of its own
        if i < 0 or self.tokens[i].text not in ("”", '"', "’", "''"):
            return None
        if verb_lemma(cue) not in CUE_LEMMAS:
            return None
        after = [c for c in self.children(cue) if c.i > cue.i and c.dep_ in _INVERTED_DEPS]
        if not after or after[0].pos_ not in ("PROPN", "NOUN") or self.is_quoted(after[0]):
            return None
        return after[0]

    def _person_before_participle(self, cue: Any) -> Any | None:
        """The person named right before a participle that has no subject, as the object of the
        verb above ("footage of Hillary Clinton asking, …", "heard Trump saying …"): the one
        speaking, not the subject of the verb above (the ad, the listener)."""
        if cue.tag_ != "VBG" or cue.dep_ not in ("xcomp", "acl", "advcl") or cue.i == 0:
            return None
        before = self.tokens[cue.i - 1]
        if before.pos_ != "PROPN" or before.ent_type_ != "PERSON" or before.dep_ not in ("pobj", "dobj"):
            return None
        return None if self.is_quoted(before) else before

    def _name_before(self, cue: Any) -> Any | None:
        """A name right before a verb that has no subject, past a comma: the parse hung it
        elsewhere ("…, Jake Sullivan, said: …"), or a name and the apposition that follows it
        ("“…,” Flynn, a top Trump surrogate, said …")."""
        i = cue.i - 1
        if i >= 0 and self.tokens[i].text == ",":
            i -= 1
        if i >= 0 and self.tokens[i].dep_ == "appos" and self.tokens[i].pos_ == "NOUN":
            i = self.tokens[i].head.i if self.tokens[i].head.i < i else i
        if i < 0 or self.tokens[i].pos_ != "PROPN" or self.tokens[i].ent_type_ not in ("PERSON", "ORG"):
            return None
        return None if self.is_quoted(self.tokens[i]) else self.tokens[i]

    def misparsed_cue(self, tok: Any) -> bool:
        """A speech verb the tagger read as a plural noun after a name, ending its sentence:
        "“…,” Sinclair states." (a "Sinclair states" compound)."""
        return bool(
            tok.tag_ == "NNS"
            and tok.i > 0
            and verb_lemma(tok) in CUE_LEMMAS
            and self.tokens[tok.i - 1].dep_ == "compound"
            and self.tokens[tok.i - 1].text[:1].isupper()
            and (tok.i + 1 == len(self.sdoc) or self.tokens[tok.i + 1].text in (".", ","))
        )

    def _dateline(self, tok: Any) -> bool:
        """ "WASHINGTON --", "KYIV, Ukraine (AP) —", "CLEVELAND, July 19 (UPI) —", "ORLANDO, Fla.
        (Reuters) -": a place in capitals opening the paragraph."""
        return (
            tok.i <= 3
            and tok.text.isupper()
            and len(tok.text) > 1
            and any(t.text in _DATELINE_DASHES for t in self.tokens[tok.i + 1 : tok.i + _DATELINE_SPAN])
        )

    def _after_dateline(self, tok: Any) -> Any | None:
        """The subject the parser hung on a dateline ("WASHINGTON -- President Obama … said")."""
        if not self._dateline(tok):
            return tok
        dash = next(
            (t.i for t in self.tokens[tok.i + 1 : tok.i + _DATELINE_SPAN] if t.text in _DATELINE_DASHES), None
        )
        return next(
            (c for c in self.children(tok) if c.dep_ == "appos" and dash is not None and c.i > dash), None
        )

    def np(self, head: Any) -> tuple[int, int]:
        """Token range [i, j) of the noun phrase around `head`, without appositions or
        clauses (found once per token)."""
        if head.i not in self._nps:
            self._nps[head.i] = self._find_np(head)
        return self._nps[head.i]

    def _find_np(self, head: Any) -> tuple[int, int]:
        keep = {head.i}
        todo = [head]
        while todo:
            tok = todo.pop()
            for child in self.children(tok):
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
        while j + 1 < len(self.sdoc) and self.tokens[j].text == "-" and self.tokens[j + 1].is_alpha:
            j += 2  # "secretary-general" comes apart in the tokenizer
        while i < j and self.tokens[i].dep_ in ("cc", "punct", "case") and i != head.i:
            i += 1
        while j > i + 1 and self.tokens[j - 1].dep_ in ("cc", "punct", "prep") and j - 1 != head.i:
            j -= 1
        return i, j

    def cue_text(self, cue: Any) -> str:
        words = [
            c for c in self.children(cue) if c.dep_ in ("aux", "neg") and c.i < cue.i and c.i >= cue.i - 3
        ]
        words += [cue] + [
            c
            for c in self.children(cue)
            if c.dep_ == "prt" or (c.i == cue.i + 1 and c.dep_ == "prep" and self._phrasal(cue, c))
        ]
        return " ".join(t.text for t in sorted(words, key=lambda t: t.i))

    def _phrasal(self, cue: Any, prep: Any) -> bool:
        """ "called for X", "called on X": the preposition is part of the cue, unlike "said on Tuesday"."""
        if prep.lower_ not in CUE_PREPS or verb_lemma(cue) not in OBJECT_CUES:
            return False
        return not any(c.ent_type_ in ("DATE", "TIME") for c in self.children(prep))

    def make(self, spans: Sequence[tuple[int, int]], kind: str, subj: Any, cue: Any) -> Attribution:
        i, j = self.np(subj)
        if j - i > 1 and self.tokens[j - 1].dep_ == "case":
            j -= 1  # "Mr Rutte's warning that …": the speaker is "Mr Rutte"
        participle = next((c for c in self.children(subj) if c.dep_ == "acl" and c.i == j), None)
        if subj.lower_ in THING_PRONOUNS and participle is not None:
            j = participle.right_edge.i + 1  # "those surveyed say …": the group, not a bare "those"
        # the speaker's tokens i .. j-1, as written (the text between them: what the Span's text is)
        speaker_start = self.off(self.tokens[i])
        speaker_end = self.off(self.tokens[j - 1]) + len(self.tokens[j - 1])
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
            antecedent = (self.off(self.tokens[a]), self.off(self.tokens[b - 1]) + len(self.tokens[b - 1]))
        return Attribution(
            spans=tuple(spans),
            kind=kind,
            speaker=self.text[speaker_start:speaker_end],
            speaker_start=speaker_start,
            speaker_end=speaker_end,
            speaker_type=stype,
            cue=self.cue_text(cue),
            cue_start=self.off(cue),
            sentence=self.sent_index[cue.i],
            antecedent=antecedent,
        )
