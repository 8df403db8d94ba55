"""Which worker defaults: the pipeline alone (no reference) under a few settings, one corpus.

    python bench/defaults.py [--docs 1200] [--rounds 6] [--drops 5] [--only "batch"]

One pipeline of bench/throughput.py per setting (batch size, pool processes, prefetch,
index write inline or queued), all started at once, each with its own Redis, watched
folder and index. The corpus is fed in --rounds slices, every setting getting each slice
in turn (the order reversed every other round), so the machine's drifting speed hits
every setting alike; the settings never run at the same time. Then `--drops` single
files measure each one's drop-to-searchable latency. A few files go through every pipeline before the clock
starts (one-off costs; see throughput.py). Prints documents per second relative to the
first setting (the defaults in config/settings.py), the CPU milliseconds per document of
each setting's own processes (steadier than wall time), the median latency, and saves
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

from throughput import ROOT, WARMUP, Pipeline, build_corpus, cpu_seconds, measure_latency, split_warmup

# (label, pool processes, settings); the first row is the shipped default.
SETTINGS = [
    (
        "batch 16, 2 processes, prefetch 1, index inline (default)",
        2,
        {"batch_size": "16", "prefetch_multiplier": "1"},
    ),
    ("batch 1", 2, {"batch_size": "1", "prefetch_multiplier": "1"}),
    ("batch 8", 2, {"batch_size": "8", "prefetch_multiplier": "1"}),
    ("batch 32", 2, {"batch_size": "32", "prefetch_multiplier": "1"}),
    ("prefetch 2", 2, {"batch_size": "16", "prefetch_multiplier": "2"}),
    ("3 processes", 3, {"batch_size": "16", "prefetch_multiplier": "1"}),
    ("index through its queue", 2, {"batch_size": "16", "prefetch_multiplier": "1", "index_inline": "false"}),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=1200)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument(
        "--only", default="", help="only the settings whose label has this text (and the default)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "defaults.json")
    args = parser.parse_args()
    settings = [row for n, row in enumerate(SETTINGS) if n == 0 or args.only in row[0]]

    tmp = Path(tempfile.mkdtemp(prefix="newsflow-defaults-"))
    pipelines: list[Pipeline] = []
    try:
        warmup, paths = split_warmup(build_corpus(args.docs + WARMUP, tmp / "corpus"), WARMUP)
        for n, (_, processes, env) in enumerate(settings):
            pipeline = Pipeline(tmp / f"setting-{n}", 1, processes, **env)
            pipelines.append(pipeline)
            pipeline.start(tmp / f"setting-{n}" / "inbox")
        for pipeline in pipelines:  # one-off costs before the clock starts (see throughput.py)
            pipeline.feed(warmup)
        seconds = [0.0] * len(settings)
        cpu = [0.0] * len(settings)
        size = -(-len(paths) // args.rounds)
        for r, at in enumerate(range(0, len(paths), size)):
            order = list(range(len(settings)))[:: -1 if r % 2 else 1]
            for n in order:
                before = cpu_seconds(pipelines[n].pids())
                seconds[n] += pipelines[n].feed(paths[at : at + size])
                cpu[n] += cpu_seconds(pipelines[n].pids()) - before
            print(f"round {r + 1} of {args.rounds} done", flush=True)
        rows = []
        for (label, _, _), pipeline, took, used in zip(settings, pipelines, seconds, cpu, strict=True):
            latency = statistics.median(measure_latency(pipeline, pipeline.inbox, args.drops))
            rows.append(
                {
                    "setting": label,
                    "docs_per_s": round(len(paths) / took, 2),
                    "cpu_ms_per_doc": round(1000 * used / len(paths), 1),
                    "latency_p50_s": round(latency, 3),
                    "worker_rss_mib": round(pipeline.worker_rss_mib(), 1),
                }
            )
    finally:
        for pipeline in pipelines:
            pipeline.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    for row in rows:
        ratio = float(row["docs_per_s"]) / float(rows[0]["docs_per_s"])  # type: ignore[arg-type]
        print(
            f"{row['setting']:<44} {row['docs_per_s']:>6} docs/s  x{ratio:.3f}"
            f"  cpu {row['cpu_ms_per_doc']} ms/doc  latency {row['latency_p50_s']} s"
            f"  rss {row['worker_rss_mib']} MiB"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "docs": args.docs,
                "rounds": args.rounds,
                "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
