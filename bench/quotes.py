"""Score our claim extractor on PolNeAR (does I/O).

Runs `extract_claims` (with the configured spaCy model) over every article of
../shared/bench/quotes/polnear-dev.jsonl with the shipped attribution model (fitted on
polnear-train only, by bench/train_attribution.py), scores the predictions with the
bench's own score.py, and prints pair precision/recall/F1 over all attributions, over
direct quotes, and over each half of the articles, plus documents per second. Then the
cross-validated figure over polnear-train: five folds of its articles, each scored by
`extract_claims` with a model fitted on the other four (the threshold as the shipped
model's, chosen by the same five folds), pooled. That is the last line, the headline.
The training articles' parses are cached in .cache/attribution/ (see train_attribution.py).

    .venv/bin/python bench/quotes.py [--limit N] [--keep PRED.jsonl] [--no-cv]

NEWSFLOW_BENCH_DIR overrides the bench folder. The speaker scored is the one as
written ("he", "Mr. Obama"), which is what the corpus annotates.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.document import Document  # noqa: E402
from pipeline.stages.claims import extract_claims  # noqa: E402


def bench_dir() -> Path:
    return Path(os.environ.get("NEWSFLOW_BENCH_DIR", REPO.parent / "shared" / "bench")) / "quotes"


def predict(
    articles: list[dict], nlp: object, model: Any = None, span_model: Any = None
) -> tuple[list[dict], float, float]:
    """Predictions, wall-clock seconds and CPU seconds (the CPU figure holds on a busy machine)."""
    preds = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for art in articles:
        doc = Document(id=art["id"], source=art["id"], raw_text=art["text"], text=art["text"])
        doc = extract_claims(doc, nlp=nlp, attribution_model=model, span_model=span_model)
        quotes = [
            {"speaker": c.speaker, "quote": c.text, "cue": c.cue, "kind": c.kind}
            for c in doc.claims
            if c.kind != "statement"
        ]
        preds.append({"id": art["id"], "quotes": quotes})
    return preds, time.perf_counter() - started, time.process_time() - cpu_started


def _direct_only(pred: dict) -> dict:
    """Direct quotes are scored as a direct-quote extractor is: our direct claims only."""
    return {"id": pred["id"], "quotes": [q for q in pred["quotes"] if q["kind"] == "direct"]}


def score(
    folder: Path, articles: list[dict], preds: list[dict], *, kinds: str = "", keep: Path | None = None
) -> dict:
    """The bench's own score.py over these articles and predictions."""
    with tempfile.TemporaryDirectory() as tmp:
        gold = Path(tmp) / "gold.jsonl"
        gold.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
        pred = keep or Path(tmp) / "pred.jsonl"
        pred.write_text("".join(json.dumps(p) + "\n" for p in preds), encoding="utf-8")
        extra = ["--kinds", kinds] if kinds else []
        out = subprocess.run(
            [sys.executable, str(folder / "score.py"), "--gold", str(gold), "--pred", str(pred), *extra],
            capture_output=True,
            text=True,
            check=True,
        )
    return dict(json.loads(out.stdout))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N articles")
    ap.add_argument("--keep", type=Path, help="also write the predictions here")
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validated figure over train")
    args = ap.parse_args()
    folder = bench_dir()
    gold_path = folder / "polnear-dev.jsonl"
    if not gold_path.exists():
        sys.exit(f"no benchmark data at {gold_path} (set NEWSFLOW_BENCH_DIR)")
    articles = [
        json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if args.limit:
        articles = articles[: args.limit]

    from config.settings import get_settings
    from pipeline.nlp import load_model

    nlp = load_model(get_settings().spacy_model)  # as the workers load it
    preds, seconds, cpu_seconds = predict(articles, nlp)
    half = len(articles) // 2
    results = {
        "all": score(folder, articles, preds, keep=args.keep),
        "direct": score(folder, articles, [_direct_only(p) for p in preds], kinds="direct"),
        # the same rules on each half of the articles: a gap would mean rules fitted to a few
        "half 1": score(folder, articles[:half], preds[:half]),
        "half 2": score(folder, articles[half:], preds[half:]),
    }
    for name, res in results.items():
        pair = res["pair"]
        print(
            f"{name:8} pair P {pair['precision']:.3f}  R {pair['recall']:.3f}  F1 {pair['f1']:.3f}"
            f"  (tp {pair['tp']}, pred {pair['pred']}, gold {pair['gold']})"
            f"  quote F1 {res['quote']['f1']:.3f}  speaker_acc {res['speaker_acc']}"
        )
    print("recall by kind:", results["all"]["recall_by_kind"])
    n = len(articles)
    print(
        f"throughput: {n / seconds:.1f} docs/s wall-clock, {n / cpu_seconds:.1f} docs/s of CPU time "
        f"({n} docs, {seconds:.1f}s wall, {cpu_seconds:.1f}s CPU, one process)"
    )
    if not args.no_cv:
        res = cross_validated(nlp, folder)
        pair = res["pair"]
        print(
            f"5-fold over polnear-train (fit on 4/5, score 1/5, pooled): pair P {pair['precision']:.3f}"
            f"  R {pair['recall']:.3f}  F1 {pair['f1']:.3f}  (tp {pair['tp']}, pred {pair['pred']},"
            f" gold {pair['gold']})  recall by kind {res['recall_by_kind']}"
        )


def cross_validated(nlp: Any, folder: Path) -> dict:
    """Five folds of the training articles, each through extract_claims with a model fitted on the others."""
    sys.path.insert(0, str(REPO / "bench"))
    import train_attribution as ta

    from pipeline.claims.attribution.model import load_model
    from pipeline.claims.attribution.span_model import load_span_model

    shipped = load_model()
    thresholds = (
        (shipped.rule_threshold, shipped.threshold, shipped.speech_threshold)
        if shipped is not None
        else (0.0, 0.5, 0.0)
    )
    train = ta.load_articles("train")
    cnlp = ta.cached_parses(nlp, train, "train")
    preds: dict[str, dict] = {}
    if load_span_model() is None:
        cands = ta.collect(train, cnlp)
        for fold in ta.folds(len(train)):
            held = set(fold)
            model = ta.model_of(ta.fit([c for c in cands if c.article not in held]), thresholds)
            fold_preds, _, _ = predict([train[n] for n in fold], cnlp, model)
            preds.update({p["id"]: p for p in fold_preds})
        return score(folder, train, [preds[a["id"]] for a in train])
    # with a content-cut model, each fold's is fitted on the other four folds too, and the
    # attribution model on their candidates as it cuts them (as the shipped pair is fitted)
    import train_span_model as tsm

    rows = tsm.examples(train, cnlp)
    for fold in ta.folds(len(train)):
        held = set(fold)
        span = tsm.model_of(tsm.fit([r for r in rows if r[0] not in held]))
        cands = ta.collect([a for n, a in enumerate(train) if n not in held], cnlp, span_model=span)
        model = ta.model_of(ta.fit(cands), thresholds)
        fold_preds, _, _ = predict([train[n] for n in fold], cnlp, model, span)
        preds.update({p["id"]: p for p in fold_preds})
    return score(folder, train, [preds[a["id"]] for a in train])


if __name__ == "__main__":
    main()
