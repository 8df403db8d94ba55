"""Where attribution recall is lost, on polnear-train only (does I/O).

    .venv/bin/python bench/attribution_misses.py [--limit N] [--examples K]

Every gold attribution of polnear-train that has a speaker and that the 5-fold
predictions (each fold's articles through `extract_claims` with a model fitted on the
other four, as bench/quotes.py's last line) do not match as a pair is put in one
category, the first that holds:

  rejected        a candidate (rules' or broad search's) matches the pair, but the
                  selection dropped it: below its threshold, or beaten by another
                  candidate on the same cue or content; "kept, lost later" when it was
                  kept and lost afterwards (speaker renamed, greedy matching)
  speaker wrong   a candidate matches the content, none with the gold speaker
  content cut     a candidate on the gold cue with the gold speaker, its content too
                  short / too long / elsewhere (overlap under half)
  no candidate    nothing on that cue or content; split by the gold cue's construction,
                  read from the parse: "according to", nominal cue, passive, cue word in
                  quotation marks, speaker not the cue's subject, speaker in another
                  paragraph, and otherwise the cue's vocabulary class (speech /
                  cognition / object verbs, or not in the vocabulary)

Then the most frequent cue lemmas among the misses with no candidate. Development data
(polnear-dev) is never read: it is what the figures are checked on.
NEWSFLOW_BENCH_DIR overrides the bench folder.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import quotes as qb  # noqa: E402
import train_attribution as ta  # noqa: E402


def greedy_matches(sc: Any, gold: list[dict], pred: list[dict]) -> dict[int, tuple[bool, int]]:
    """score.py's one-to-one matching: gold index -> (speaker matches, prediction index)."""
    gt = [sc.toks(g.get("quote")) for g in gold]
    pt = [sc.toks(p.get("quote")) for p in pred]
    cand = []
    for i, p in enumerate(pred):
        for j, g in enumerate(gold):
            ov = sc.overlap(pt[i], gt[j], "max")
            if ov >= 0.5:
                sm = sc.speaker_match(p.get("speaker"), [g.get("speaker"), g.get("reference")])
                cand.append((sm, ov, i, j))
    cand.sort(key=lambda x: (x[0], x[1]), reverse=True)
    used_p: set[int] = set()
    out: dict[int, tuple[bool, int]] = {}
    for sm, _, i, j in cand:
        if i in used_p or j in out:
            continue
        used_p.add(i)
        out[j] = (sm, i)
    return out


def cue_token(sdoc: Any, p_start: int, spans: list[list[int]]) -> Any | None:
    """The head of the gold cue in the paragraph's parse: the cue token whose head lies
    outside the cue (a verb first), else its first token."""
    toks = [
        t for s, e in spans for t in sdoc if s <= p_start + t.idx < e and not t.is_punct and not t.is_space
    ]
    if not toks:
        return None
    ids = {t.i for t in toks}
    roots = [t for t in toks if t.head.i not in ids or t.head.i == t.i]
    verbs = [t for t in roots if t.pos_ in ("VERB", "AUX")]
    return (verbs or roots or toks)[0]


def construction(art: dict, g: dict, paras: list[tuple[int, int]], cnlp: Any, quoted: Any) -> tuple[str, str]:
    """(category, cue lemma) of a gold attribution no candidate reached."""
    from pipeline.claims.attribution.paragraph import SUBJECT_DEPS
    from pipeline.claims.cues import COGNITION_VERBS, OBJECT_CUES, SPEECH_NOUNS, SPEECH_VERBS, verb_lemma

    text = art["text"]
    cue = (g.get("cue") or "").lower()
    cspans = g.get("cue_spans") or []
    if not cspans:
        return "no cue annotated", "-"
    c0 = cspans[0][0]
    para = next(((s, e) for s, e in paras if s <= c0 < e), None)
    if para is None:
        return "cue outside paragraphs", "-"
    sdoc = cnlp.docs.get(text[para[0] : para[1]])
    tok = cue_token(sdoc, para[0], cspans) if sdoc is not None else None
    if tok is None:
        return "cue not a token", "-"
    lemma = verb_lemma(tok) if tok.pos_ in ("VERB", "AUX") else tok.lower_
    if "according" in cue:
        return "according to", "according"
    if quoted.inside(para[0] + tok.idx):
        return "cue inside quotation marks", lemma
    sspans = g.get("speaker_spans") or []
    if sspans and not any(para[0] <= s < para[1] for s, _ in sspans):
        return "speaker in another paragraph", lemma
    qspans = g.get("quote_spans") or []
    if qspans and not any(para[0] <= s < para[1] for s, _ in qspans):
        return "content in another paragraph", lemma
    if tok.pos_ in ("NOUN", "PROPN"):
        return "nominal cue" + (" (speech noun)" if tok.lower_ in SPEECH_NOUNS else ""), tok.lower_
    if tok.pos_ not in ("VERB", "AUX"):
        return f"cue is {tok.pos_}", tok.lower_
    if any(c.dep_ in ("auxpass", "nsubjpass") for c in tok.children):
        return "passive", lemma
    subj_ok = False
    for c in tok.children:
        if c.dep_ in SUBJECT_DEPS:
            s, e = para[0] + c.left_edge.idx, para[0] + c.right_edge.idx + len(c.right_edge)
            subj_ok = any(s < se and ss < e for ss, se in sspans)
    cls = (
        "speech verb"
        if lemma in SPEECH_VERBS
        else "cognition verb"
        if lemma in COGNITION_VERBS
        else "object verb"
        if lemma in OBJECT_CUES
        else "verb not in vocabulary"
    )
    if not subj_ok:
        return f"{cls}, speaker not its subject", lemma
    return f"{cls}, speaker its subject", lemma


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N training articles")
    ap.add_argument("--examples", type=int, default=0, help="print K examples of each category")
    args = ap.parse_args()

    from pipeline.claims.attribution.model import load_model, select_scored
    from pipeline.claims.attribution.types import Quoted
    from pipeline.claims.quotes import find_quotes, paragraphs

    sc = ta.scorer()
    train = ta.load_articles("train")
    if args.limit:
        train = train[: args.limit]
    nlp = ta.load_nlp()
    cnlp = ta.cached_parses(nlp, ta.load_articles("train"), "train")
    cands = ta.collect(train, cnlp)
    shipped = load_model()
    thresholds = (
        (shipped.rule_threshold, shipped.threshold, shipped.speech_threshold)
        if shipped is not None
        else (0.0, 0.5, 0.0)
    )

    # the 5-fold predictions, as bench/quotes.py makes them, and each fold's model
    preds: dict[str, dict] = {}
    fold_model: dict[int, Any] = {}
    for fold in ta.folds(len(train)):
        held = set(fold)
        model = ta.model_of(ta.fit([c for c in cands if c.article not in held]), thresholds)
        fold_preds, _, _ = qb.predict([train[n] for n in fold], cnlp, model)
        preds.update({p["id"]: p for p in fold_preds})
        fold_model.update({n: model for n in fold})

    by_article: dict[int, list[ta.Candidate]] = {}
    for c in cands:
        by_article.setdefault(c.article, []).append(c)

    counts: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {}
    lemmas: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    total = missed = 0
    for n, art in enumerate(train):
        gold = art["quotes"]
        pred = preds[art["id"]]["quotes"]
        matched = greedy_matches(sc, gold, pred)
        model = fold_model[n]
        mine = by_article.get(n, [])
        # which candidates the selection keeps, paragraph by paragraph
        kept: set[int] = set()
        by_para: dict[int, list[ta.Candidate]] = {}
        for c in mine:
            by_para.setdefault(c.paragraph, []).append(c)
        for group in by_para.values():
            scored = [(model.probability(c.feats), c.attribution) for c in group]
            kept |= {id(a) for a in select_scored(scored, model)}
        ctoks = [sc.toks(c.quote) for c in mine]
        text = art["text"]
        paras = paragraphs(text)
        qs = find_quotes(text)
        quoted = Quoted([q.start for q in qs], [q.end for q in qs])
        for j, g in enumerate(gold):
            if not (g.get("speaker") or g.get("reference")):
                continue
            total += 1
            if j in matched and matched[j][0]:
                continue
            missed += 1
            gt = sc.toks(g.get("quote"))
            alts = [g.get("speaker"), g.get("reference")]
            over = [sc.overlap(ct, gt, "max") >= 0.5 for ct in ctoks]
            spk = [sc.speaker_match(c.speaker, alts) for c in mine]
            cspans = g.get("cue_spans") or []
            on_cue = [any(s <= c.attribution.cue_start < e for s, e in cspans) for c in mine]
            pair = [k for k in range(len(mine)) if over[k] and spk[k]]
            wrong = ""
            if pair:
                if any(id(mine[k].attribution) in kept for k in pair):
                    cat = "rejected: kept, lost later"
                else:
                    c = mine[pair[0]]
                    tier, needed = model.needed(c.attribution)
                    p = max(model.probability(mine[k].feats) for k in pair)
                    src = "broad" if tier == 2 else "rule"
                    cat = f"rejected: {src} below threshold" if p < needed else f"rejected: {src} beaten"
                lemma = ""
            elif any(over[k] and on_cue[k] for k in range(len(mine))):
                k = next(k for k in range(len(mine)) if over[k] and on_cue[k])
                cat, lemma = "speaker wrong: on the gold cue", ""
                wrong = mine[k].speaker
            elif any(on_cue[k] and spk[k] for k in range(len(mine))):
                k = next(k for k in range(len(mine)) if on_cue[k] and spk[k])
                nc, ng = len(ctoks[k]), len(gt)
                how = "too short" if nc < ng else "too long"
                shared = sum((Counter(ctoks[k]) & Counter(gt)).values())
                if shared < 0.5 * min(nc, ng):
                    how = "elsewhere"
                cat, lemma = f"content cut: {how}", ""
            elif any(on_cue):
                cat, lemma = "on cue, speaker and content wrong", ""
            else:
                what, lemma = construction(art, g, paras, cnlp, quoted)
                # the content may be found under another cue ("X said Y wants Z": Z under "said")
                cat = f"no candidate: {what}" + (" (content under another cue)" if any(over) else "")
            counts[cat] += 1
            by_kind.setdefault(cat, Counter())[g.get("kind", "?")] += 1
            if cat.startswith("no candidate") and lemma:
                lemmas[lemma] += 1
            examples.setdefault(cat, []).append(
                f"{g.get('speaker')!r} | {g.get('cue')!r} | {(g.get('quote') or '')[:90]!r}"
                + (f" | found {wrong!r}" if wrong else "")
            )

    print(f"polnear-train, 5-fold predictions: {missed} of {total} gold pairs missed")
    for cat, k in sorted(counts.items(), key=lambda x: (-x[1], x[0])):
        kinds = ", ".join(f"{kind} {v}" for kind, v in sorted(by_kind[cat].items()))
        print(f"  {k:6d}  {100 * k / max(missed, 1):5.1f}%  {cat}  ({kinds})")
    print(
        "cue lemmas of the misses with no candidate:",
        ", ".join(f"{w} {k}" for w, k in lemmas.most_common(40)),
    )
    if args.examples:
        rng = random.Random(0)
        for cat in sorted(examples):
            print(f"\n{cat}:")
            picks = examples[cat]
            for line in rng.sample(picks, min(args.examples, len(picks))):
                print("   ", line)


if __name__ == "__main__":
    main()
