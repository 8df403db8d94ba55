"""Every metric the code emits is registered in workers/metrics.py (socorro's idea)."""

from __future__ import annotations

import re
from pathlib import Path

from workers.metrics import METRICS

REPO = Path(__file__).resolve().parents[2]
_DEFINED = re.compile(r"""(?:Counter|Histogram|Gauge|Summary|MetricFamily)\(\s*["'](newsflow_\w+)["']""")


def _emitted_names() -> set[str]:
    names = set()
    for folder in ("pipeline", "workers", "config"):
        for path in (REPO / folder).rglob("*.py"):
            for name in _DEFINED.findall(path.read_text(encoding="utf-8")):
                names.add(name)
    return names


def test_the_code_defines_metrics() -> None:
    assert len(_emitted_names()) >= 4


def test_no_metric_is_emitted_without_being_registered() -> None:
    registered = set(METRICS) | {name.removesuffix("_total") for name in METRICS}
    assert _emitted_names() - registered == set()
