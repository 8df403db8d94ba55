"""Fitted parameters from NEWSFLOW_FITTED_PARAMS (the benches' folds) reach the story and
entity code as the workers import it: a fresh interpreter, as a worker process starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "from pipeline.stories import grouping; from pipeline.entities import matching; "
    "from pipeline.redis.story_store import StoryStore; import inspect, json; "
    "print(json.dumps([list(grouping.WEIGHTS), grouping.THRESHOLD, grouping.LEAD_SHARE, "
    "matching.MIN_CONTEXT, inspect.signature(StoryStore).parameters['threshold'].default]))"
)


def probe(env: dict[str, str]) -> list[object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: list[object] = json.loads(out.stdout)
    return result


def test_settings_read_the_fitted_params_path() -> None:
    assert Settings.from_env({"NEWSFLOW_FITTED_PARAMS": "/x/fold1.json"}).fitted_params == "/x/fold1.json"
    assert Settings.from_env({}).fitted_params == ""


@pytest.mark.parametrize("with_entities", [True, False])
def test_a_fitted_params_file_replaces_the_shipped_parameters(tmp_path: Path, with_entities: bool) -> None:

    base = {k: v for k, v in os.environ.items() if k != "NEWSFLOW_FITTED_PARAMS"}
    shipped = probe(base)
    weights = [round(0.1 * i, 1) for i in range(len(shipped[0]))]  # type: ignore[arg-type]
    fitted: dict[str, object] = {"stories": {"weights": weights, "threshold": 0.61, "lead_share": 0.2}}
    if with_entities:
        fitted["entities"] = {"min_context": 3}
    path = tmp_path / "fold.json"
    path.write_text(json.dumps(fitted), encoding="utf-8")
    got = probe({**base, "NEWSFLOW_FITTED_PARAMS": str(path)})
    assert got[:3] == [weights, 0.61, 0.2]
    assert got[3] == (3 if with_entities else shipped[3])
    assert got[4] == 0.61  # the story store's default threshold is the fitted one
    assert shipped[1] != 0.61
    assert shipped[0] != weights
