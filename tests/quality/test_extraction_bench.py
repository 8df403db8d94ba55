"""The extraction-bench F1 gate: our cleaner on the development split stays above its pinned floor.

The floors live in tests/quality/baseline.json ("extraction" section). Raising one is
an ordinary commit; lowering one needs a reason in the commit message.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
BASELINE = json.loads((REPO / "tests" / "quality" / "baseline.json").read_text(encoding="utf-8"))
EPSILON = 0.002  # rounding of the pinned figures

pytestmark = pytest.mark.quality


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_extraction", REPO / "bench" / "extraction.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", ["text", "text-wrapped", "html"])
def test_f1_stays_above_the_pinned_floor(path: str) -> None:
    bench = _bench()
    if not (bench.extraction_dir() / "dev").is_dir():
        pytest.skip("extraction bench not found (../shared/bench or NEWSFLOW_BENCH_DIR)")
    metrics, _speed = bench.evaluate(path, "dev")
    floor = BASELINE["extraction"][f"{path}_f1"]
    assert metrics["F1"] >= floor - EPSILON, f"{path} F1 {metrics['F1']:.3f} below the floor {floor}"


def test_cross_validated_text_f1_stays_above_the_pinned_floor() -> None:
    # the headline: the line model trained on four folds of sites, scored on the fifth (~100 s of CPU)
    bench = _bench()
    if not (bench.extraction_dir() / "dev").is_dir():
        pytest.skip("extraction bench not found (../shared/bench or NEWSFLOW_BENCH_DIR)")
    metrics, _pages = bench.cross_validated_text("dev")
    floor = BASELINE["extraction"]["text_cv_f1"]
    assert metrics["F1"] >= floor - EPSILON, f"cross-validated text F1 {metrics['F1']:.3f} below {floor}"


def test_no_page_is_much_worse_than_trafilatura_alone() -> None:
    bench = _bench()
    if not (bench.extraction_dir() / "dev").is_dir():
        pytest.skip("extraction bench not found (../shared/bench or NEWSFLOW_BENCH_DIR)")
    html = bench.load_inputs("dev", "html")
    ours = bench.score({pid: bench.ours("html")(page) for pid, page in html.items()}, "dev")[1]
    theirs = bench.score({pid: bench.plain_trafilatura(page) for pid, page in html.items()}, "dev")[1]
    assert bench.worse_than(ours, theirs, margin=0.05) == []
