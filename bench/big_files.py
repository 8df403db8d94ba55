"""Cost per word of every stage as inputs grow: is each stage linear in the text? (does I/O)

    .venv/bin/python bench/big_files.py [--sizes 20000,250000,1000000,2000000] [--rounds 1]
                                        [--shape text|oneline|html]

Builds plain-text inputs of each size from the seed articles (tests/big_inputs.py: the
seeds again and again, people renamed and numbers changed in every copy; `--shape`
oneline: the same without a line break, html: as <p> paragraphs of one page), runs the
stage list of `pipeline.run.build_stages` with the configured spaCy model (no Redis:
no registries), plus the two pure parts of the Redis stages (`story_features` and the
near-duplicate `minhash`), and prints each stage's CPU time (best of `--rounds`, after
a warm-up on the smallest size) in ms and in microseconds per word of input, then the
whole list's cost per word relative to the smallest size and the process's peak RSS.
Each size runs in a fresh process, so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def measure(size: int, rounds: int, shape: str) -> dict[str, Any]:
    from config.settings import get_settings
    from pipeline.document import Document, content_id
    from pipeline.nlp import _caches as nlp_cache
    from pipeline.nlp import load_model
    from pipeline.run import Stage, build_stages, run_stages
    from pipeline.stories.features import story_features
    from pipeline.stories.versions import minhash
    from tests.big_inputs import big_shape, big_text

    nlp = load_model(get_settings().spacy_model)  # as the workers load it
    cpu: dict[str, float] = {}

    def timed(stage: Stage) -> Stage:
        def run(doc: Document) -> Document:
            started = time.process_time()
            try:
                return stage.fn(doc)
            finally:
                cpu[stage.name] = cpu.get(stage.name, 0.0) + time.process_time() - started

        return Stage(stage.name, run, stage.essential, stage.languages)

    stages = [timed(s) for s in build_stages(nlp=nlp)]

    def one(raw: str, raw_format: str = "text") -> tuple[dict[str, float], Document]:
        cpu.clear()
        nlp_cache.clear()  # a fresh text each time: no paragraph parsed by the round before
        doc = Document(id=content_id(raw), source="big", raw_text=raw, raw_format=raw_format)
        doc = run_stages(doc, stages)
        for name, fn in (("story_features", story_features), ("minhash", lambda d: minhash(d.text))):
            started = time.process_time()
            fn(doc)
            cpu[name] = time.process_time() - started
        return dict(cpu), doc

    one(big_text(20_000))  # warm-up: caches, the model's first calls
    raw, raw_format = big_shape(size, shape)
    best: dict[str, float] = {}
    doc = None
    for _ in range(rounds):
        times, doc = one(raw, raw_format)
        if not best or sum(times.values()) < sum(best.values()):
            best = times
    assert doc is not None
    return {
        "bytes": len(raw.encode("utf-8")),
        "words": len(raw.split()),
        "cpu": best,
        "entities": len(doc.entities),
        "claims": len(doc.claims),
        "notes": [f"{n.stage}:{n.error}" for n in doc.notes],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20000,250000,1000000,2000000")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--shape", default="text", choices=("text", "oneline", "html"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.rounds, args.shape)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(size),
                "--rounds",
                str(args.rounds),
                "--shape",
                args.shape,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        r = results[-1]
        total = sum(r["cpu"].values())
        base = sum(results[0]["cpu"].values()) / results[0]["words"]
        print(
            f"{r['bytes']:>9} bytes {r['words']:>7} words  total {total:8.1f} s"
            f"  {total / r['words'] * 1e6:7.0f} us/word (x{total / r['words'] / base:.2f})"
            f"  entities {r['entities']}  claims {r['claims']}  notes {r['notes']}"
            f"  peak RSS {r['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        for name, s in r["cpu"].items():
            first = results[0]["cpu"].get(name, 0.0) / results[0]["words"]
            ratio = f"x{s / r['words'] / first:.2f}" if first else ""
            per_word = s / r["words"] * 1e6
            print(f"    {name:<18} {s * 1000:10.1f} ms {per_word:9.1f} us/word {ratio}", flush=True)


if __name__ == "__main__":
    main()
