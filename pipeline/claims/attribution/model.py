"""The learned part of attribution: which candidate (cue, speaker, content) triples to keep (pure).

A logistic regression over binary features of a candidate (its cue verb, how the rules or
the broad search found it, its speaker and its content, read from the parse), fitted on
PolNeAR's training split by bench/train_attribution.py. The weights ship as JSON in
pipeline/data/attribution_model.json and are read once per process (`load_model`).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.claims.attribution.paragraph import ParagraphBase
from pipeline.claims.attribution.types import Attribution, nested
from pipeline.claims.cues import (
    COGNITION_VERBS,
    DOCUMENT_NOUNS,
    OBJECT_CUES,
    PERSON_ROLES,
    SPEECH_NOUNS,
    SPEECH_VERBS,
    verb_lemma,
)

MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "attribution_model.json"


@dataclass(frozen=True, slots=True)
class Model:
    weights: dict[str, float]
    bias: float
    threshold: float  # keep a candidate of the broad search whose probability reaches this
    rule_threshold: float = 0.0  # keep a reported-speech rule's candidate unless below this
    # Sources whose candidates are kept whatever the model says: the rules that beat it (the
    # quotation rules: direct-quote F1 on polnear-dev 0.870 kept, 0.852 when the model chose;
    # reported speech with a speech verb or noun, see attribution/__init__.py).
    always: frozenset[str] = frozenset({"quote", "labelled", "speech"})
    # reported speech with a speech verb or noun ("speech") is dropped below this, when above 0,
    # unless its cue is inside another kept claim's content (select_scored)
    speech_threshold: float = 0.0

    def needed(self, a: Attribution) -> tuple[int, float]:
        """The candidate's rank tier (rules first) and the probability it must reach."""
        if a.source == "speech" and self.speech_threshold > 0:
            return 0, self.speech_threshold
        if a.source in self.always:
            return 0, 0.0
        if a.source.startswith("broad"):
            return 2, self.threshold
        return 1, self.rule_threshold

    def probability(self, feats: Iterable[str]) -> float:
        z = self.bias + sum(self.weights.get(f, 0.0) for f in feats)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@functools.cache
def load_model(path: Path = MODEL_PATH) -> Model | None:
    """The shipped model, or None when there is none (the rules alone then decide)."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Model(
        weights=dict(data["weights"]),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
        rule_threshold=float(data.get("rule_threshold", 0.0)),
        always=frozenset(data.get("always", ("quote", "labelled", "speech"))),
        speech_threshold=float(data.get("speech_threshold", 0.0)),
    )


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if n <= edge:
            return str(edge)
    return f">{edges[-1]}"


def features(para: ParagraphBase, a: Attribution) -> list[str]:
    """Binary features of one candidate, as strings ("lemma=say", "src=quote&spk=PRON")."""
    cue = para.token_at(a.cue_start)
    spk = para.token_at(a.speaker_start)
    lemma = verb_lemma(cue) if cue is not None and cue.pos_ in ("VERB", "AUX") else (a.cue.lower() or "?")
    if a.cue == "according to":
        lemma = "according"
    lex = (
        "speech"
        if lemma in SPEECH_VERBS
        else "cognition"
        if lemma in COGNITION_VERBS
        else "object"
        if lemma in OBJECT_CUES
        else "noun"
        if lemma in SPEECH_NOUNS
        else "none"
    )
    src = a.source or "?"
    content_toks = [t for s, e in a.spans for t in para.tokens_between(s, e)]
    n_words = sum(1 for t in content_toks if t.is_alpha)
    before = a.start < a.cue_start
    first = next((t for t in content_toks if t.is_alpha), None)
    first_word = first.lower_ if first is not None and first.pos_ in ("SCONJ", "ADP", "PRON", "DET") else "_"
    spk_words = a.speaker.split()
    spk_head = spk_words[-1].lower().strip(".,’'s") if spk_words else ""
    if spk is not None:
        spk_pos = spk.pos_
        spk_ent = para.sdoc[spk.i : spk.i + len(spk_words)].root.ent_type_ or "-"
    else:
        spk_pos, spk_ent = "?", "-"
    spk_kind = (
        "role" if spk_head in PERSON_ROLES else "document" if spk_head in DOCUMENT_NOUNS else a.speaker_type
    )
    content_rel = "-"
    if cue is not None and content_toks:
        heads = {t.i for t in content_toks}
        rel = [c.dep_ for c in para.children(cue) if c.i in heads]
        content_rel = rel[0] if rel else ("head" if cue.head.i in heads else "other")
    quoted = para.quoted_share(a.start, a.end)
    qb = "0" if quoted == 0 else "all" if quoted > 0.8 else "some"
    f = [
        f"src={src}",
        f"lemma={lemma}",
        f"lex={lex}",
        f"kind={a.kind}",
        f"stype={a.speaker_type}",
        f"skind={spk_kind}",
        f"spos={spk_pos}",
        f"sent={spk_ent}",
        f"slen={_bucket(len(spk_words), (1, 2, 3, 5))}",
        f"shead={spk_head}" if spk_head in ("it", "this", "that", "there", "which", "what") else "shead=_",
        f"clen={_bucket(n_words, (2, 4, 8, 15, 30, 60))}",
        f"first={first_word}",
        f"before={before}",
        f"quoted={qb}",
        f"rel={content_rel}",
        f"pieces={len(a.spans)}",
    ]
    if cue is not None:
        # where the verb the cue hangs from stands: a clause that governs the cue from before it
        # ("X said Y had warned", "A, X said") or a misparse that hangs a main clause on the
        # one after it ("X said A; B would follow")
        side = "root" if cue.head.i == cue.i else "left" if cue.head.i < cue.i else "right"
        f += [f"tag={cue.tag_}", f"dep={cue.dep_}", f"dep={cue.dep_}&head={side}"]
        if any(c.dep_ == "neg" for c in para.children(cue)):
            f.append("neg")
        if any(c.dep_ == "aux" and c.tag_ == "MD" for c in para.children(cue)):
            f.append("modal")
    f += [
        f"src={src}&lex={lex}",
        f"src={src}&kind={a.kind}",
        f"lemma={lemma}&rel={content_rel}",
        f"lex={lex}&rel={content_rel}",
        f"src={src}&skind={spk_kind}",
        f"src={src}&clen={_bucket(n_words, (2, 4, 8, 15, 30, 60))}",
        f"lex={lex}&before={before}",
        f"lemma={lemma}&src={src}",
        f"lemma={lemma}&before={before}",
        f"sent={spk_ent}&lex={lex}",
        f"spos={spk_pos}&lex={lex}",
        f"noun={spk_head}" if spk_pos == "NOUN" else "noun=_",
        f"first={first_word}&lex={lex}",
        f"rel={content_rel}&clen={_bucket(n_words, (2, 4, 8, 15, 30, 60))}",
    ]
    return f


def overlap(a: Attribution, b: Attribution) -> float:
    """Characters of content shared by two candidates, over the longer one's."""
    shared = sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in a.spans for s2, e2 in b.spans)
    longer = max(sum(e - s for s, e in a.spans), sum(e - s for s, e in b.spans), 1)
    return shared / longer


def choose(para: ParagraphBase, claims: list[Attribution], model: Model) -> list[Attribution]:
    """The candidates the model keeps: the quotation rules' always, the reported-speech rules'
    unless the model finds them unlikely, the broad search's when it finds them likely. Rules
    first, then the most probable: one per cue, and none whose content is mostly another kept
    one's (two attributions of one content cannot both be right) unless one is inside the other's
    content ("X said Y had warned that …")."""
    return select_scored([(model.probability(features(para, a)), a) for a in claims], model)


def select_scored(scored: list[tuple[float, Attribution]], model: Model) -> list[Attribution]:
    """`choose` once each candidate has its probability (the training script calls it too)."""
    ranked = []
    inner = []  # reported speech under its threshold: kept only inside another kept claim
    for n, (p, a) in enumerate(scored):
        tier, needed = model.needed(a)
        if p >= needed:
            ranked.append((tier, -p, n, a))
        elif a.source == "speech" and a.source in model.always:
            inner.append(a)
    ranked.sort(key=lambda x: x[:3])
    kept: list[Attribution] = []
    for *_, a in ranked:
        if any(k.cue_start == a.cue_start or (overlap(k, a) >= 0.5 and not _nested(k, a)) for k in kept):
            continue
        kept.append(a)
    # a speech verb's report inside another kept claim's content ("X said Y had warned that …")
    # stays, whatever the model says of it: the rules nest it, and the model reads a cue hung
    # on another verb as unlikely
    for a in inner:
        if not any(s <= a.cue_start < e for k in kept for s, e in k.spans):
            continue
        if any(k.cue_start == a.cue_start or (overlap(k, a) >= 0.5 and not _nested(k, a)) for k in kept):
            continue
        kept.append(a)
    return kept


def _nested(a: Attribution, b: Attribution) -> bool:
    return nested(a.start, a.end, a.cue_start, b.start, b.end, b.cue_start)
