"""A document that outgrows the task's time limit fails with a reason that names the
stage, the limit and the setting to raise (issue 16), through real worker processes
(Celery's soft time limit is a signal in a prefork child: no thread or eager stand-in)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.run import build_stages
from tests.big_inputs import big_text
from tests.conftest import Newsflow

pytestmark = pytest.mark.integration


def test_a_document_stopped_by_the_time_limit_says_where_and_what_to_raise(
    newsflow: Newsflow, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "long.txt").write_text(big_text(300_000), encoding="utf-8")  # ~7 s of CPU in the stages
    newsflow.env["NEWSFLOW_TASK_SOFT_TIME_LIMIT_S"] = "2"
    result = newsflow("run", str(inbox), check=False)
    assert result.returncode == 1, result.stdout

    [record] = newsflow.json_lines("sources")
    assert record["state"] == "failed"
    stopped = re.fullmatch(
        r"(\w+) did not finish within the 2 s time limit \(NEWSFLOW_TASK_SOFT_TIME_LIMIT_S\);"
        r" raise it or lower NEWSFLOW_MAX_FILE_BYTES",
        record["reason"],
    )
    assert stopped is not None, record["reason"]
    assert stopped.group(1) in {s.name for s in build_stages(nlp=None)}
    shown = " ".join((result.stdout + result.stderr).split())  # the console wraps long lines
    assert record["reason"] in shown  # `newsflow run` shows it too
