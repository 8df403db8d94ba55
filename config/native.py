"""Native thread pools of the processes that run the model (does process state).

Parallelism is one pool process per core (NEWSFLOW_CONCURRENCY); a multi-threaded BLAS
inside each of them only oversubscribes the cores, and its threads' spin-waiting cost
about 10 ms of CPU per document (400 documents through `pipeline.write.enrich` in one
process: 104.8 ms/doc with OpenBLAS's default threads, 94.1 with one). Must run before
numpy is first imported (OpenBLAS reads it when it loads; forked pool processes keep it).
A value already in the environment wins.
"""

from __future__ import annotations

import os

NATIVE_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_threaded_native() -> None:
    """One native thread per process unless the environment says otherwise."""
    for var in NATIVE_THREAD_VARIABLES:
        os.environ.setdefault(var, "1")
