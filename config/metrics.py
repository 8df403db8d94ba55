"""Prometheus multiprocess set-up: the one place that writes the metrics environment."""

from __future__ import annotations

import os
import shutil

from config.settings import Settings


def prepare_multiprocess_dir(settings: Settings, worker_name: str) -> None:
    """Point prometheus_client at a fresh per-worker directory before children fork.

    Must run before prometheus_client is imported, in the worker's main process.
    """
    path = settings.home.resolve() / "metrics" / worker_name.replace("@", "_").replace("%", "_")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
