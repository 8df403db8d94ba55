"""The watched folder: files dropped before and after the watcher starts are processed once."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import Newsflow, wait_for

pytestmark = pytest.mark.integration


def _sources_indexed(cli: Newsflow) -> set[str]:
    docs = map(json.loads, cli("export").stdout.splitlines())
    return {Path(s).name for doc in docs for s in doc["sources"]}


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=20)
    return output


def test_files_dropped_before_and_after_the_watcher_started_are_indexed(
    stack: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(seed_paths[0], inbox / "before.txt")
    watcher = stack.popen("watch", str(inbox))
    try:
        wait_for(lambda: "before.txt" in _sources_indexed(stack), timeout=90)
        # A producer writes under a temp name, slowly, then renames into place.
        partial = inbox / "after.txt.part"
        with partial.open("w", encoding="utf-8") as out:
            for line in seed_paths[1].read_text(encoding="utf-8").splitlines(keepends=True)[:5]:
                out.write(line)
                out.flush()
                time.sleep(0.1)
            out.write(seed_paths[1].read_text(encoding="utf-8"))
        time.sleep(1)
        assert "after.txt.part" not in _sources_indexed(stack)
        partial.rename(inbox / "after.txt")
        wait_for(lambda: "after.txt" in _sources_indexed(stack), timeout=90)
    finally:
        _stop(watcher)
    assert _sources_indexed(stack) == {"before.txt", "after.txt"}


def test_a_restarted_watcher_picks_up_what_arrived_while_it_was_down_and_nothing_twice(
    stack: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(seed_paths[2], inbox / "first.txt")
    watcher = stack.popen("watch", str(inbox))
    wait_for(lambda: "first.txt" in _sources_indexed(stack), timeout=90)
    _stop(watcher)

    shutil.copy(seed_paths[3], inbox / "while-down.txt")
    watcher = stack.popen("watch", str(inbox))
    try:
        wait_for(lambda: "while-down.txt" in _sources_indexed(stack), timeout=90)
    finally:
        output = _stop(watcher)
    assert output.count("enqueued") == 1, output  # first.txt was not queued again


def test_a_file_renamed_into_place_goes_at_once_and_one_written_in_place_waits_to_settle(
    private_redis: str, seed_paths: list[Path], tmp_path: Path
) -> None:
    import redis

    from pipeline.redis.ledger import Ledger
    from workers.watcher import FolderWatcher

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    offered: list[str] = []
    client = redis.Redis.from_url(private_redis)
    settle = 30.0  # far longer than the test needs: only a renamed file can go before it
    watcher = FolderWatcher(
        [inbox],
        ledger=Ledger(client),
        settle=settle,
        enqueue=lambda paths, more=0: offered.extend(p.name for p in paths),
        reject=lambda path, reason: offered.append(f"rejected {path.name}"),
    )
    watcher.start()
    try:
        started = time.monotonic()
        shutil.copy(seed_paths[0], inbox / "in-place.txt")
        shutil.copy(seed_paths[1], inbox / "renamed.txt.part")
        (inbox / "renamed.txt.part").rename(inbox / "renamed.txt")
        wait_for(lambda: offered, timeout=settle / 2)
        time.sleep(0.5)  # a few more checks: the file written in place is still waiting
        assert time.monotonic() - started < settle
        assert offered == ["renamed.txt"]
    finally:
        watcher.stop()
        client.close()


def test_a_file_written_slowly_in_place_is_taken_once_when_its_writer_closes_it(
    private_redis: str, seed_paths: list[Path], tmp_path: Path
) -> None:
    import redis

    from pipeline.redis.ledger import Ledger
    from workers.watcher import FolderWatcher

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    offered: list[tuple[str, int]] = []
    client = redis.Redis.from_url(private_redis)
    watcher = FolderWatcher(
        [inbox],
        ledger=Ledger(client),
        settle=0.3,
        enqueue=lambda paths, more=0: offered.extend((p.name, p.stat().st_size) for p in paths),
        reject=lambda path, reason: offered.append((f"rejected {path.name}", 0)),
    )
    watcher.start()
    text = seed_paths[0].read_bytes()
    try:
        with (inbox / "slow.txt").open("wb") as out:  # half an article, a 2 s pause, the rest
            out.write(text[: len(text) // 2])
            out.flush()
            time.sleep(2)  # far longer than the settle time: the writer still holds the file
            assert offered == []
            out.write(text[len(text) // 2 :])
        wait_for(lambda: offered, timeout=10)
        time.sleep(1)
        assert offered == [("slow.txt", len(text))]  # once, whole
    finally:
        watcher.stop()
        client.close()


def test_a_file_written_slowly_in_the_watched_folder_becomes_one_whole_document(
    stack: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = stack.popen("watch", str(inbox))
    text = seed_paths[0].read_text(encoding="utf-8")
    try:
        shutil.copy(seed_paths[1], inbox / "ready.txt")  # the watcher is up once this is indexed
        wait_for(lambda: "ready.txt" in _sources_indexed(stack), timeout=90)
        with (inbox / "slow.txt").open("w", encoding="utf-8") as out:  # the writer
            out.write(text[: len(text) // 2])
            out.flush()
            time.sleep(2)
            out.write(text[len(text) // 2 :])
        wait_for(lambda: "slow.txt" in _sources_indexed(stack), timeout=90)
        time.sleep(2)  # a second document, if one were coming, would be written by now
    finally:
        _stop(watcher)
    docs = [json.loads(line) for line in stack("export").stdout.splitlines()]
    [slow] = [doc for doc in docs if any(s.endswith("slow.txt") for s in doc["sources"])]
    assert len(docs) == 2  # ready.txt and slow.txt: no truncated third
    assert "Konstantin Malofeev" in slow["text"]  # from the article's last paragraph
