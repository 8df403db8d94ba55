"""Which worker defaults: the pipeline alone (no reference) under a few settings, one corpus.

    python bench/defaults.py [--docs 600] [--rounds 4] [--drops 5]

One pipeline of bench/throughput.py per setting (batch size, pool processes, prefetch),
all started at once, each with its own Redis, watched folder and index. The corpus is
fed in --rounds slices, every setting getting each slice in turn (the order reversed
every other round), so the machine's drifting speed hits every setting alike; the
settings never run at the same time. Then `--drops` single files measure each one's
drop-to-searchable latency. Prints documents per second relative to the first setting
(the defaults in config/settings.py) and the median latency, and saves
bench/results/defaults.json. Differences of a few percent are still noise: run it twice
before changing a default.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import ROOT, Pipeline, build_corpus, measure_latency

# (label, pool processes, settings); the first row is the shipped default.
SETTINGS = [
    ("batch 8, 2 processes, prefetch 1 (default)", 2, {"batch_size": "8", "prefetch_multiplier": "1"}),
    ("batch 1", 2, {"batch_size": "1", "prefetch_multiplier": "1"}),
    ("batch 4", 2, {"batch_size": "4", "prefetch_multiplier": "1"}),
    ("batch 16", 2, {"batch_size": "16", "prefetch_multiplier": "1"}),
    ("prefetch 2", 2, {"batch_size": "8", "prefetch_multiplier": "2"}),
    ("3 processes", 3, {"batch_size": "8", "prefetch_multiplier": "1"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "defaults.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="newsflow-defaults-"))
    pipelines: list[Pipeline] = []
    try:
        paths = build_corpus(args.docs, tmp / "corpus")
        for n, (_, processes, env) in enumerate(SETTINGS):
            pipeline = Pipeline(tmp / f"setting-{n}", 1, processes, **env)
            pipelines.append(pipeline)
            pipeline.start(tmp / f"setting-{n}" / "inbox")
        seconds = [0.0] * len(SETTINGS)
        size = -(-len(paths) // args.rounds)
        for r, at in enumerate(range(0, len(paths), size)):
            order = list(range(len(SETTINGS)))[:: -1 if r % 2 else 1]
            for n in order:
                seconds[n] += pipelines[n].feed(paths[at: at + size])
            print(f"round {r + 1} of {args.rounds} done", flush=True)
        rows = []
        for (label, _, _), pipeline, took in zip(SETTINGS, pipelines, seconds, strict=True):
            latency = statistics.median(measure_latency(pipeline, pipeline.inbox, args.drops))
            rows.append({"setting": label, "docs_per_s": round(len(paths) / took, 2),
                         "latency_p50_s": round(latency, 3),
                         "worker_rss_mib": round(pipeline.worker_rss_mib(), 1)})
    finally:
        for pipeline in pipelines:
            pipeline.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    for row in rows:
        ratio = float(row["docs_per_s"]) / float(rows[0]["docs_per_s"])  # type: ignore[arg-type]
        print(f"{row['setting']:<44} {row['docs_per_s']:>6} docs/s  x{ratio:.3f}"
              f"  latency {row['latency_p50_s']} s  rss {row['worker_rss_mib']} MiB")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"docs": args.docs, "rounds": args.rounds,
                                    "at": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows},
                                   indent=2) + "\n")


if __name__ == "__main__":
    main()
