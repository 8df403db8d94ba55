"""Run the product as a user does, for the benches (does I/O): texts written as files into
a drop folder, `newsflow run` on a private home (its own Redis), then its commands.

    env = drop_and_run({"1_1ecb": text, ...}, tmp)      # prints the run's summary line
    newsflow(env, "export")                              # any command, as a user types it

`tmp` holding an earlier run (its inbox) is asked again without running (--keep).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def newsflow(env: Mapping[str, str], *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def drop_and_run(
    texts: Mapping[str, str],
    tmp: Path,
    *,
    backend: str = "sqlite",
    es_url: str = "",
    settings: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write each text to `<name>.txt` in tmp/inbox, run newsflow on it (unless tmp holds
    a kept run), and return the environment for asking the product. `settings`: more
    NEWSFLOW_ variables for the run (NEWSFLOW_FITTED_PARAMS: a fold's fitted parameters)."""
    inbox = tmp / "inbox"
    env = {
        **os.environ,
        "NEWSFLOW_HOME": str(tmp / "home"),
        "NEWSFLOW_LOG_LEVEL": "WARNING",
        "NEWSFLOW_INDEX_BACKEND": backend,
        **(settings or {}),
    }
    if backend == "elasticsearch":
        env.update(NEWSFLOW_ES_URL=es_url, NEWSFLOW_ES_PREFIX=f"bench-{tmp.name.lower()}")
    if inbox.exists():
        return env
    inbox.mkdir(parents=True)
    for name, text in texts.items():
        (inbox / f"{name}.txt").write_text(text, encoding="utf-8")
    if backend == "elasticsearch":
        newsflow(env, "es", "setup").check_returncode()
    started = time.perf_counter()
    run = newsflow(env, "run", str(inbox), "--timeout", "3000")
    lines = run.stdout.strip().splitlines()
    print(lines[-1] if lines else run.stderr[-2000:])
    print(f"run_s {time.perf_counter() - started:.1f}")
    return env


def exported(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every indexed document, as `newsflow export` prints it."""
    out = newsflow(env, "export")
    out.check_returncode()
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
