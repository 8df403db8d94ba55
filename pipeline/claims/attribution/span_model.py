"""A learned cut of a cue's content: a linear-chain CRF that tags the paragraph's tokens (pure).

The rules and the broad search (reported.py, candidates.py) cut a candidate's content from
the parse; PolNeAR's annotators cut by meaning, and most of the wrong pairs over train were
contents cut too long or too short. Given a parsed paragraph, a candidate's cue token and
the content the rules cut for it, each token is tagged B (a content piece begins), I
(inside it) or O, from features of the token, of its place relative to the cue in the parse
(which branch of the tree under the cue, or above it, holds the token; the side and
distance; commas and sentence breaks between; quotation marks) and of the rules' cut
(inside or outside it, at its edges). The model's cut replaces the rules' only when its
log-likelihood beats theirs by `margin`. The weights are fitted on PolNeAR train, on the
candidates whose cue the annotators marked (bench/train_span_model.py), and ship as JSON in
pipeline/data/span_model.json (feature weights and transitions; no text), read once per
process; decoding is a Viterbi pass over the three tags here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.claims.attribution.paragraph import ParagraphBase
from pipeline.claims.attribution.types import Attribution, fields
from pipeline.claims.cues import verb_lemma

SPAN_MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "span_model.json"
TAGS = ("O", "B", "I")
_QUOTE_MARKS = frozenset({"“", "”", '"', "‘", "’", "'", "``", "''"})
_MAX_UP = 4


_DISTANCES = (0, 1, 2, 4, 9, 19, 40)  # a distance's feature: the first of these it is within


def _dist(n: int) -> str:
    bucket = next((str(d) for d in _DISTANCES if abs(n) <= d), "far")
    return ("-" if n < 0 else "+") + bucket


def _places(para: ParagraphBase, cue: Any) -> dict[int, tuple[int, str, str]]:
    """Each token of the cue's sentence: (steps up from the cue to the lowest common ancestor,
    the dependency of the first step down from it toward the token, the label of the ancestor)."""
    place: dict[int, tuple[int, str, str]] = {}
    below: Any = None
    node = cue
    for up in range(_MAX_UP + 1):
        place.setdefault(node.i, (up, "self", node.dep_))
        for child in para.children(node):
            if below is not None and child.i == below.i:
                continue
            for t in para.subtree(child):
                place.setdefault(t.i, (up, child.dep_, node.dep_))
        if node.head.i == node.i:
            break
        below, node = node, node.head
    else:
        for t in para.subtree(node):
            place.setdefault(t.i, (_MAX_UP + 1, "far", node.dep_))
    return place


def sequence_features(
    para: ParagraphBase, cue: Any, hint: frozenset[int] = frozenset(), source: str = "-"
) -> list[list[str]]:
    """The features of every token of the paragraph for the content of `cue`. `hint`: the
    token indices of the content the rules cut for it, `source`: the rule that found it."""
    toks = para.tokens
    place = _places(para, cue)
    sent = para.sentence(cue)
    lemma = verb_lemma(cue) if cue.pos_ in ("VERB", "AUX") else cue.lower_
    subj = para.subject(cue)
    subj_range = para.np(subj) if subj is not None else (-1, -1)
    cue_q = para.is_quoted(cue)
    # commas and sentence breaks between each token and the cue
    commas = [0] * len(toks)
    run = 0
    for i in range(cue.i - 1, -1, -1):
        if toks[i + 1].text in (",", ";", "—", "–", ":") and i + 1 != cue.i:
            run += 1
        commas[i] = run
    run = 0
    for i in range(cue.i + 1, len(toks)):
        if toks[i - 1].text in (",", ";", "—", "–", ":") and i - 1 != cue.i:
            run += 1
        commas[i] = run
    out: list[list[str]] = []
    word = [t.lower_ if t.is_alpha or t.is_punct else t.shape_ for t in toks]
    for t in toks:
        i = t.i
        side = "cue" if i == cue.i else "L" if i < cue.i else "R"
        same = sent.start <= i < sent.end
        if same:
            up, down, anc = place.get(i, (_MAX_UP + 1, "far", "-"))
        else:
            up, down, anc = 9, "othersent", "-"
        q = para.is_quoted(t)
        c = min(commas[i], 3)
        pl = f"{up}|{down}"
        f = [
            "b",
            f"w={word[i]}",
            f"p={t.tag_}",
            f"d={t.dep_}",
            f"s={side}",
            f"x={_dist(i - cue.i)}",
            f"pl={pl}",
            f"pl={pl}|{side}",
            f"pla={pl}|{anc}",
            f"pls={pl}|{cue.dep_}",
            f"c={c}|{side}",
            f"c={c}|{pl}",
            f"q={q}|{cue_q}",
            f"q={q}|{pl}",
            f"l={lemma}|{pl}",
            f"l={lemma}|{side}",
            f"cd={cue.dep_}|{side}",
            f"ct={cue.tag_}|{side}",
            f"dp={t.dep_}|{pl}",
            f"pp={t.tag_}|{pl}",
        ]
        if subj_range[0] <= i < subj_range[1]:
            f.append("subj")
        if i > 0:
            f += [f"w-={word[i - 1]}", f"p-={toks[i - 1].tag_}"]
        else:
            f.append("start")
        if i + 1 < len(toks):
            f += [f"w+={word[i + 1]}", f"p+={toks[i + 1].tag_}"]
        else:
            f.append("end")
        if t.is_sent_start:
            f.append("sstart")
        if i + 1 < len(toks) and toks[i + 1].is_sent_start:
            f.append("send")
        if t.text in _QUOTE_MARKS:
            f.append(f"qm|{side}")
        h = "in" if i in hint else "out"
        edge = (
            ("first" if i - 1 not in hint else "last" if i + 1 not in hint else "mid")
            if i in hint
            else ("before" if i + 1 in hint else "after" if i - 1 in hint else "-")
        )
        f += [
            f"h={h}",
            f"h={h}|{source}",
            f"h={h}|{pl}",
            f"h={h}|{side}",
            f"h={h}|w={word[i]}",
            f"h={h}|q={q}",
            f"he={edge}",
            f"he={edge}|w={word[i]}",
            f"he={edge}|p={t.tag_}",
            f"he={edge}|{source}",
            f"he={edge}|d={t.dep_}",
        ]
        out.append(f)
    return out


# The candidates whose content the model may cut again: the reported-speech rules' and the
# broad search's (the quotation rules' contents are the quotation marks').
RECUT = frozenset({"reported", "speech", "broad", "broad-whole", "broad-noun"})


@dataclass(frozen=True, slots=True)
class SpanModel:
    state: dict[str, tuple[float, float, float]]  # feature -> weight per tag (O, B, I)
    trans: tuple[tuple[float, float, float], ...]  # [from][to]
    # the model's cut replaces the rules' when its score beats the rules' cut by this
    # (a log-likelihood ratio: the partition function cancels)
    margin: float = 2.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpanModel:
        state = {f: (float(w[0]), float(w[1]), float(w[2])) for f, w in data["state"].items()}
        rows = [(float(r[0]), float(r[1]), float(r[2])) for r in data["trans"]]
        return cls(state=state, trans=tuple(rows), margin=float(data.get("margin", 2.0)))

    def score(self, feats: Sequence[Sequence[str]], tags: Sequence[str]) -> float:
        """The unnormalised log-likelihood of `tags`."""
        total = 0.0
        prev = -1
        for fs, tg in zip(feats, tags, strict=True):
            k = TAGS.index(tg)
            for f in fs:
                w = self.state.get(f)
                if w is not None:
                    total += w[k]
            if prev >= 0:
                total += self.trans[prev][k]
            prev = k
        return total

    def recut(self, para: ParagraphBase, a: Attribution) -> Attribution:
        """`a` with the model's cut of its content, when the model is surer of it than of the rules'."""
        if a.source not in RECUT:
            return a
        cue = para.token_at(a.cue_start)
        if cue is None:
            return a
        hint = frozenset(t.i for s, e in a.spans for t in para.tokens_between(s, e))
        feats = sequence_features(para, cue, hint, a.source)
        tags = self.tag(feats)
        ruled = [("I" if i - 1 in hint else "B") if i in hint else "O" for i in range(len(feats))]
        if tags == ruled or self.score(feats, tags) - self.score(feats, ruled) <= self.margin:
            return a
        found = pieces(tags)
        if not found:
            return a
        spans = []
        for i, j in found:
            first, last = para.tokens[i], para.tokens[j - 1]
            start = para.off(first)
            spans.append((start, para.off(last) + len(last)))
        if sum(1 for i, j in found for t in para.tokens[i:j] if t.is_alpha) < 1:
            return a
        kind = "direct" if para.quoted_share(spans[0][0], spans[-1][1]) > 0.8 else "reported"
        return Attribution(**{**fields(a), "spans": tuple(spans), "kind": kind})

    def tag(self, feats: Sequence[Sequence[str]]) -> list[str]:
        """The most likely tags (Viterbi)."""
        if not feats:
            return []
        n = len(TAGS)
        emit = []
        for fs in feats:
            row = [0.0] * n
            for f in fs:
                w = self.state.get(f)
                if w is not None:
                    row[0] += w[0]
                    row[1] += w[1]
                    row[2] += w[2]
            emit.append(row)
        t = self.trans
        score = emit[0]
        back: list[tuple[int, int, int]] = []
        for row in emit[1:]:
            s0, s1, s2 = score
            new, ptr = [], []
            for j in range(n):
                a, b, c = s0 + t[0][j], s1 + t[1][j], s2 + t[2][j]
                best = (0 if a >= c else 2) if a >= b else (1 if b >= c else 2)
                new.append((a, b, c)[best] + row[j])
                ptr.append(best)
            score = new
            back.append((ptr[0], ptr[1], ptr[2]))
        last = max(range(n), key=lambda k: score[k])
        path = [last]
        for bp in reversed(back):
            last = bp[last]
            path.append(last)
        return [TAGS[k] for k in reversed(path)]

    def cut(
        self, para: ParagraphBase, cue: Any, hint: frozenset[int] = frozenset(), source: str = "-"
    ) -> list[tuple[int, int]]:
        """The content pieces the model tags for `cue`, as token index ranges [i, j)."""
        tags = self.tag(sequence_features(para, cue, hint, source))
        return pieces(tags)


def pieces(tags: Sequence[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    begin = None
    for i, tg in enumerate([*tags, "O"]):
        if tg != "I" and begin is not None:
            out.append((begin, i))
            begin = None
        if tg == "B" or (tg == "I" and begin is None):
            begin = i
    return out


@functools.cache
def load_span_model(path: Path = SPAN_MODEL_PATH) -> SpanModel | None:
    """The shipped model, or None when there is none."""
    if not path.exists():
        return None
    return SpanModel.from_json(json.loads(path.read_text(encoding="utf-8")))
