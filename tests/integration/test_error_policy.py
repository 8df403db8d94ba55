"""One error policy for every task (workers/tasks.NewsflowTask), with a real ledger in a
private Redis: bad input fails that input with its reason and the batch goes on; a bug
(any other exception) keeps the input as a dead letter with the error and its traceback
in the log, the rest of the batch is still done, and the task then fails (BugInInput) so
Flower and the worker log show it; a transient fault retries the whole task.

The task is a real NewsflowTask on the real Celery app, called in a process of its own
(the one the task's settings and Redis client are made in), as a worker calls it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

SCRIPT = r"""
import json, sys
from workers.app import app
from workers.tasks import BugInInput, NewsflowTask
from workers.resources import get_ledger
from pipeline.errors import BadInput, TransientError

@app.task(base=NewsflowTask, bind=True, name="test.batch")
def batch(self, sources):
    for source in sources:
        with self.each_source(source):
            if "bad" in source:
                raise BadInput("not an article")
            if "bug" in source:
                {}["missing"]
            if "flaky" in source:
                raise TransientError("the index went away")
            get_ledger().mark(source, "done")

outcome = "returned"
try:
    batch(sys.argv[1].split(","))
except BugInInput as exc:
    outcome = f"BugInInput: {exc} (caused by {type(exc.__cause__).__name__})"
except TransientError as exc:
    outcome = f"TransientError: {exc}"
records = {s: get_ledger().find(s) for s in sys.argv[1].split(",")}
print(json.dumps({"outcome": outcome,
                  "states": {s: [r.state, r.reason] if r else None for s, r in records.items()}}))
"""


def run_batch(redis_url: str, sources: list[str]) -> tuple[dict[str, Any], str]:
    env = {"NEWSFLOW_REDIS_URL": redis_url, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(sources)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1]) + proc.stderr


def test_a_bug_keeps_its_input_with_the_error_and_fails_the_task_after_the_batch(private_redis: str) -> None:
    result, log = run_batch(private_redis, ["/in/good-1.txt", "/in/bug.txt", "/in/bad.txt", "/in/good-2.txt"])
    assert result["outcome"] == (
        "BugInInput: 1 input(s) met a bug, first /in/bug.txt: KeyError: 'missing' (caused by KeyError)"
    )
    states = result["states"]
    assert states["/in/good-1.txt"][0] == states["/in/good-2.txt"][0] == "done"  # the batch went on
    assert states["/in/bug.txt"] == ["failed", "KeyError: 'missing'"]
    assert states["/in/bad.txt"] == ["failed", "BadInput: not an article"]
    assert "Traceback" in log  # the bug's, at error level
    assert log.count("Traceback") == 1  # bad input is not a bug: no traceback for it


def test_bad_input_alone_fails_only_that_input_and_the_task_succeeds(private_redis: str) -> None:
    result, log = run_batch(private_redis, ["/in/bad.txt", "/in/good.txt"])
    assert result["outcome"] == "returned"
    assert result["states"]["/in/good.txt"][0] == "done"
    assert result["states"]["/in/bad.txt"] == ["failed", "BadInput: not an article"]
    assert "Traceback" not in log


def test_a_transient_fault_retries_the_whole_task(private_redis: str) -> None:
    result, _ = run_batch(private_redis, ["/in/good.txt", "/in/flaky.txt"])
    assert result["outcome"] == "TransientError: the index went away"  # Celery retries it
    assert result["states"]["/in/flaky.txt"] is None  # not failed: it comes back
