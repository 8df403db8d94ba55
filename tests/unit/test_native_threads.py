"""The processes that run the model use one native (BLAS) thread each: parallelism is one
pool process per core, and more threads per process only spin on the same cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.native import NATIVE_THREAD_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
THREADS_AFTER_NUMPY = "import numpy, os; print(len(os.listdir('/proc/self/task')))"


def threads(code: str, **env: str) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in NATIVE_THREAD_VARIABLES}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads through /proc")
def test_a_worker_process_loads_numpy_with_one_thread() -> None:
    assert threads(f"import workers; {THREADS_AFTER_NUMPY}") == 1
    if (os.cpu_count() or 1) > 1:  # without it, OpenBLAS starts a thread per core
        assert threads(THREADS_AFTER_NUMPY) > 1


def test_a_thread_count_the_operator_set_wins() -> None:
    code = "import os, workers; print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "4", "OMP_NUM_THREADS": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["4", "1"]
