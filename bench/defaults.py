"""Which worker defaults: the pipeline alone (no reference) under a few settings, one corpus.

    python bench/defaults.py [--docs 600] [--drops 5]

For each setting (batch size, pool processes, prefetch) the whole pipeline of
bench/throughput.py runs the same corpus from the watched folder to searchable, then
`--drops` single files measure drop-to-searchable latency. Prints documents per second
relative to the first setting (the defaults in config/settings.py) and the median
latency, and saves bench/results/defaults.json. Same caveat as any wall-clock figure on a
shared machine: differences under a few percent are noise; run it twice before
changing a default.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import ROOT, Pipeline, build_corpus, measure_latency, run_pipeline

# (label, pool processes, settings); the first row is the shipped default.
SETTINGS = [
    ("batch 8, 2 processes, prefetch 1 (default)", 2, {"batch_size": "8", "prefetch_multiplier": "1"}),
    ("batch 1", 2, {"batch_size": "1", "prefetch_multiplier": "1"}),
    ("batch 4", 2, {"batch_size": "4", "prefetch_multiplier": "1"}),
    ("batch 16", 2, {"batch_size": "16", "prefetch_multiplier": "1"}),
    ("prefetch 4", 2, {"batch_size": "8", "prefetch_multiplier": "4"}),
    ("3 processes", 3, {"batch_size": "8", "prefetch_multiplier": "1"}),
]


def measure(index: int, docs: int, drops: int) -> dict[str, object]:
    """One setting, in a process of its own (the Celery app keeps one broker per process)."""
    label, processes, env = SETTINGS[index]
    tmp = Path(tempfile.mkdtemp(prefix="newsflow-defaults-"))
    try:
        inbox = tmp / "inbox"
        paths = build_corpus(docs, tmp / "corpus")
        pipeline = Pipeline(tmp, 1, processes, **env)
        try:
            seconds = run_pipeline(paths, pipeline, inbox)
            latency = statistics.median(measure_latency(pipeline, inbox, drops))
            rss = pipeline.worker_rss_mib()
        finally:
            pipeline.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"setting": label, "docs_per_s": round(len(paths) / seconds, 2),
            "latency_p50_s": round(latency, 3), "worker_rss_mib": round(rss, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--drops", type=int, default=5)
    parser.add_argument("--setting", type=int, default=-1, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "defaults.json")
    args = parser.parse_args()
    if args.setting >= 0:
        print(json.dumps(measure(args.setting, args.docs, args.drops)))
        return
    rows: list[dict[str, object]] = []
    for index in range(len(SETTINGS)):
        out = subprocess.run(
            [sys.executable, __file__, "--setting", str(index), "--docs", str(args.docs),
             "--drops", str(args.drops)], capture_output=True, text=True, check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        ratio = float(row["docs_per_s"]) / float(rows[0]["docs_per_s"])  # type: ignore[arg-type]
        print(f"{row['setting']:<44} {row['docs_per_s']:>6} docs/s  x{ratio:.3f}"
              f"  latency {row['latency_p50_s']} s  rss {row['worker_rss_mib']} MiB", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"docs": args.docs, "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                    "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
