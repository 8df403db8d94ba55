"""The whole pipeline on real parts: `newsflow run` with a private Redis and worker processes."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import Newsflow, wait_for

pytestmark = pytest.mark.integration


def _mentioning(paths: list[Path], word: str) -> set[str]:
    return {p.name for p in paths if word in p.read_text(encoding="utf-8")}


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line or environment mentions `text` (Linux /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob and (proc / "stat").read_text().split()[2] != "Z":
            found.append(int(proc.name))
    return found


def test_run_processes_the_seeds_then_search_and_show_find_them(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(seed_paths[0].parent, inbox)
    result = newsflow("run", str(inbox))
    assert f"processed {len(seed_paths)}" in result.stdout
    assert "failed 0" in result.stdout

    hits = newsflow.json_lines("search", "Rutte", "--limit", "20")
    found = {Path(source).name for hit in hits for source in hit["sources"]}
    assert found == _mentioning(seed_paths, "Rutte")
    assert {"id", "title", "score", "sources"} <= set(hits[0])

    shown = newsflow.json_lines("show", hits[0]["id"])[0]
    assert shown["id"] == hits[0]["id"]
    assert "Rutte" in shown["text"]
    assert any(e["canonical"].endswith("Rutte") for e in shown["entities"])
    assert [s["stage"] for s in shown["history"]][:2] == ["read_file", "clean_boilerplate"]

    exported = [json.loads(line) for line in newsflow("export").stdout.splitlines()]
    assert len(exported) == len(seed_paths)
    assert next(d for d in exported if d["id"] == shown["id"]) == shown


def test_run_leaves_nothing_running_and_a_second_run_adds_no_document(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(seed_paths[1], inbox / "a.txt")
    shutil.copy(seed_paths[1], inbox / "same text, another name.txt")
    result = newsflow("run", str(inbox))
    assert "documents 1" in result.stdout
    assert "duplicates 1" in result.stdout

    assert not (newsflow.home / "redis" / "url").exists()
    assert _processes_mentioning(str(newsflow.home.resolve())) == []

    newsflow("run", str(inbox))
    exported = newsflow("export").stdout.splitlines()
    assert len(exported) == 1
    assert len(json.loads(exported[0])["sources"]) == 2


def test_a_failing_file_is_reported_kept_on_disk_and_exits_non_zero(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(seed_paths[0], inbox / "good.txt")
    bad = inbox / "scan.txt"
    bad.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    result = newsflow("run", str(inbox), check=False)
    assert result.returncode == 1
    assert "failed 1" in result.stdout
    assert "processed 1" in result.stdout  # read in one batch with the bad file, indexed all the same
    assert "scan.txt" in result.stdout
    assert "binary" in result.stdout
    assert bad.exists()
    record = newsflow.json_lines("show", str(bad))[0]
    assert record["state"] == "failed"
    assert "binary" in record["reason"]


def test_submit_to_running_workers_then_status(stack: Newsflow, seed_paths: list[Path]) -> None:
    stack("submit", str(seed_paths[2]))
    wait_for(lambda: stack.json_lines("search", "Rutte"), timeout=90)
    status = stack.json_lines("status")[0]
    assert set(status["queues"]) == {"ingest", "process", "index"}
    assert len(status["workers"]) == 1
    assert status["documents"]["done"] == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_stopping_run_midway_stops_its_workers_and_redis_too(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path, sig: signal.Signals
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(30):  # enough work that the run is still busy when it is stopped
        (inbox / f"{n}.txt").write_text(f"Copy {n}.\n\n" + seed_paths[0].read_text(encoding="utf-8"))
    run = newsflow.popen("run", str(inbox))
    wait_for(
        lambda: (
            (newsflow.home / "logs" / "worker-0.log").exists() and (newsflow.home / "redis" / "url").exists()
        ),
        timeout=60,
    )
    time.sleep(1)
    run.send_signal(sig)
    run.communicate(timeout=60)
    assert run.returncode != 0
    wait_for(lambda: _processes_mentioning(str(newsflow.home.resolve())) == [], timeout=30)
