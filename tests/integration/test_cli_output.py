"""What the command line prints, as a user reads it: `show PATH`, the run summary, piped
output, `run --watch` outcomes, `--version` and `--help`."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import Newsflow, wait_for

pytestmark = pytest.mark.integration


def test_show_path_the_summary_and_piped_output(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    # Paths longer than 80 columns: piped output must keep them whole, on one line.
    inbox = tmp_path / "a folder with a rather long name, as people's drop folders have" / "inbox"
    inbox.mkdir(parents=True)
    for seed in seed_paths[:3]:
        shutil.copy(seed, inbox / f"an article copied from another machine, {seed.name}")
    article = sorted(inbox.iterdir())[0]

    result = newsflow("run", str(inbox))
    [summary] = [line for line in result.stdout.splitlines() if line.startswith("processed")]
    assert "time" in summary  # the whole summary on one line
    entities = len(newsflow.json_lines("entities"))
    groups = len(newsflow.json_lines("claims", "--limit", "100000"))
    assert f"({entities} distinct)" in summary, (summary, entities)
    assert f"({groups} groups)" in summary, (summary, groups)

    sources = newsflow("sources").stdout
    assert any(str(article) in line for line in sources.splitlines()), sources

    shown = newsflow("show", str(article)).stdout
    record = next(r for r in newsflow.json_lines("sources") if r["source"] == str(article))
    assert f"{article}: done, document {record['document']}" in shown.splitlines()[0]
    [document] = newsflow.json_lines("show", str(article))
    assert document["id"] == record["document"]
    assert document["text"]


def test_run_watch_prints_each_outcome_as_it_happens(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(seed_paths[0], inbox / "first.txt")
    run = newsflow.popen("run", str(inbox), "--watch")
    try:

        def state(name: str) -> str:
            records = newsflow.json_lines("sources") if (newsflow.home / "redis" / "url").exists() else []
            return next((r["state"] for r in records if r["source"].endswith(name)), "")

        wait_for(lambda: state("first.txt") == "done", timeout=120, every=0.5)
        (inbox / "empty.txt").write_bytes(b"")
        shutil.copy(seed_paths[1], inbox / "second.txt")
        wait_for(
            lambda: state("empty.txt") == "failed" and state("second.txt") == "done", timeout=120, every=0.5
        )
        time.sleep(1.5)  # the outcomes are printed within half a second
    finally:
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=60)
    assert f"failed: {inbox / 'empty.txt'}: BadInput: empty file" in output, output
    assert f"done: {inbox / 'second.txt'} (document " in output, output


def test_version_and_whole_help_summaries(newsflow: Newsflow) -> None:
    assert newsflow("--version").stdout.strip().startswith("newsflow ")
    listing = newsflow("--help").stdout.split("Commands:")[1]
    assert "..." not in listing, listing
    summary = " ".join(listing.split())  # wrapped to the width, not cut
    assert "Process files, folders and URLs end to end on this machine, then summarise." in summary
    assert "Send failed inputs through again, from their original file or URL." in summary
