"""Fit the content-cut model (pipeline/claims/attribution/span_model.py) on PolNeAR train (does I/O).

    .venv/bin/python bench/train_span_model.py [--out pipeline/data/span_model.json]

The candidates of reported speech and of the broad search (`pipeline.claims.attribution`,
with no cut of the model's own) whose cue token is inside a gold cue are the examples:
the paragraph's tokens, with features of their place relative to the cue in the parse and
of the content the rules cut (span_model.sequence_features), tagged B/I/O by the gold
content of that cue (the gold attribution whose content overlaps the rules' most, when
several share the cue). A linear-chain CRF is fitted over them with CRFsuite
(python-crfsuite, a dev dependency: the product decodes the exported weights itself) and its
feature weights and transitions go to pipeline/data/span_model.json; no article text does.
The parses come from .cache/attribution/ (train_attribution.py). NEWSFLOW_BENCH_DIR
overrides the bench folder.

The L1 weight and the margin (the model's cut replaces the rules' when its log-likelihood
beats theirs by it) were chosen on one fifth of train held out from a fit on the rest (the
first of bench/train_attribution.py's folds), by the share of the held-out candidates above
whose content matches the gold of their cue: 78.6% as the rules cut. With the model's cut
always / at margin 2 / 4 / 8: L1 0.1 77.0 / 78.2 / 78.8 / 78.8%; L1 0.5 78.0 / 79.5 / 79.2 /
79.3%; L1 1 78.5 / 79.7 / 79.7 / 79.5%; L1 2 78.6 / 80.3 / 79.7 / 79.5% (taken); L1 1 with
L2 0.1 78.6 / 79.8 / 79.7 / 79.3%; L1 0.1 with the gold cues that no candidate has as extra
examples (no rules' cut to start from) 75.7 / 77.2 / 78.3 / 78.7%.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import train_attribution as ta  # noqa: E402

MARGIN = 2.0
C1, C2, ITERATIONS = 2.0, 0.01, 100
RECUT_SOURCES = ("reported", "speech", "broad", "broad-whole", "broad-noun")


def _labels(para: Any, spans: list[list[int]]) -> list[str]:
    out, inside_before = [], False
    for t in para.tokens:
        a = para.off(t)
        inside = not t.is_space and any(a < e and s < a + len(t) for s, e in spans)
        out.append(("I" if inside_before else "B") if inside else "O")
        inside_before = inside
    return out


def examples(articles: list[dict[str, Any]], cnlp: Any) -> list[tuple[int, list[list[str]], list[str]]]:
    """(article index, token features, gold tags) for every candidate whose cue is a gold cue."""
    from pipeline.claims.attribution import find_attributions, rules_only
    from pipeline.claims.attribution.span_model import sequence_features

    sc = ta.scorer()
    out: list[tuple[int, list[list[str]], list[str]]] = []
    for n, art in enumerate(articles):
        text = art["text"]
        found: list[tuple[Any, list[Any]]] = []

        def record(para: Any, claims: list[Any], found: list[tuple[Any, list[Any]]] = found) -> list[Any]:
            found.append((para, list(claims)))
            return rules_only(para, claims)

        find_attributions(text, cnlp, select=record, recut=False)
        golds = [g for g in art["quotes"] if g.get("cue_spans") and g.get("quote_spans")]
        for para, claims in found:
            for a in claims:
                cue = para.token_at(a.cue_start)
                if a.source not in RECUT_SOURCES or cue is None:
                    continue
                gs = [g for g in golds if any(s <= a.cue_start < e for s, e in g["cue_spans"])]
                if not gs:
                    continue
                qt = sc.toks(" ".join(text[s:e] for s, e in a.spans))
                gold = max(gs, key=lambda g: sc.overlap(qt, sc.toks(g["quote"]), "max"))
                hint = frozenset(t.i for s, e in a.spans for t in para.tokens_between(s, e))
                out.append(
                    (n, sequence_features(para, cue, hint, a.source), _labels(para, gold["quote_spans"]))
                )
    return out


def fit(rows: list[tuple[int, list[list[str]], list[str]]]) -> dict[str, Any]:
    """The CRF over `rows`, as span_model.json holds it."""
    import pycrfsuite

    from pipeline.claims.attribution.span_model import TAGS

    trainer = pycrfsuite.Trainer(verbose=False)
    for _, feats, tags in rows:
        trainer.append(feats, tags)
    trainer.set_params(
        {"c1": C1, "c2": C2, "max_iterations": ITERATIONS, "feature.possible_transitions": True}
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "span.crfsuite")
        trainer.train(path)
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        info = tagger.info()
        tagger.close()
    state: dict[str, list[float]] = {}
    for (attr, tag), w in info.state_features.items():
        state.setdefault(attr, [0.0, 0.0, 0.0])[TAGS.index(tag)] = round(float(w), 3)
    return {
        "about": "bench/train_span_model.py: a linear-chain CRF cutting the content of a cue, "
        "fitted on PolNeAR train (features only, no text)",
        "margin": MARGIN,
        "trans": [[round(float(info.transitions.get((a, b), 0.0)), 3) for b in TAGS] for a in TAGS],
        "state": {f: w for f, w in sorted(state.items()) if any(abs(x) >= 0.001 for x in w)},
    }


def model_of(fitted: dict[str, Any]) -> Any:
    from pipeline.claims.attribution.span_model import SpanModel

    return SpanModel.from_json(fitted)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "pipeline" / "data" / "span_model.json")
    args = ap.parse_args()
    train = ta.load_articles("train")
    cnlp = ta.cached_parses(ta.load_nlp(), train, "train")
    rows = examples(train, cnlp)
    fitted = fit(rows)
    args.out.write_text(
        json.dumps(fitted, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {args.out}: {len(rows)} examples, {len(fitted['state'])} features, margin {MARGIN}")


if __name__ == "__main__":
    main()
