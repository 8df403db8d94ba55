"""Ctrl-C in `newsflow run`, pressed in a real (pseudo-)terminal: the terminal driver sends
SIGINT to the foreground process group, as it does for a person at the keyboard."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from config.celery import QUEUES
from pipeline.redis.ledger import FINAL_STATES, Ledger
from tests.conftest import REPO, Newsflow, wait_for
from workers.local import PrivateRedis, waiting_sources

pytestmark = pytest.mark.integration

# Makes the terminal (fd 0) the controlling terminal of the new session: the terminal's
# foreground process group is then this process's, and the interrupt character reaches it.
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


class Terminal:
    """A command run with a pseudo-terminal as its controlling terminal; keys are typed
    into the terminal's master side, and what it prints is collected."""

    def __init__(self, cli: Newsflow, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _TAKE_TERMINAL, sys.executable, "-m", "workers.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=cli.env,
            cwd=REPO,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: every process holding the terminal has exited
                return
            if not chunk:
                return
            self.output += chunk

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._reader.join(5)
            os.close(self.master)

    def text(self) -> str:
        return self.output.decode("utf-8", "replace")


def _articles(inbox: Path, seed_paths: list[Path], n: int) -> list[Path]:
    """`n` distinct articles: every line differs from file to file (lines repeated across
    many files of one outlet would be cleaned away as that outlet's furniture)."""
    inbox.mkdir()
    paths = []
    for i in range(n):
        lines = seed_paths[i % len(seed_paths)].read_text(encoding="utf-8").splitlines()
        text = "\n".join(f"{line} Report {i}." if line.strip() else line for line in lines)
        path = inbox / f"{i:03}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _final_events(client: redis.Redis) -> dict[str, int]:
    """How many times each source reached a final state (the ledger's event log)."""
    counts: dict[str, int] = {}
    for member in client.zrange("newsflow:events", 0, -1):
        state, rest = member.decode().split(":", 1)
        if state in FINAL_STATES:
            source = rest.rsplit(":", 1)[0]
            counts[source] = counts.get(source, 0) + 1
    return counts


def _processes_of(home: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
                if str(home).encode() in blob and (proc / "stat").read_text().split()[2] != "Z":
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_ctrl_c_stops_workers_then_redis_exits_130_and_a_rerun_finishes_exactly_the_rest(
    newsflow: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    paths = _articles(tmp_path / "inbox", seed_paths, 60)
    sources = {str(p) for p in paths}
    home = newsflow.home.resolve()
    run = Terminal(newsflow, "run", str(tmp_path / "inbox"))

    def some_done() -> bool:
        url_file = home / "redis" / "url"
        if not url_file.exists():
            return False
        with redis.Redis.from_url(url_file.read_text().strip()) as client:
            try:
                counts = Ledger(client).counts()
            except redis.ConnectionError:
                return False
        return sum(counts[s] for s in FINAL_STATES) >= 3

    wait_for(some_done, timeout=120, every=0.2)
    run.press(b"\x03")  # Ctrl-C, as typed
    pressed = time.monotonic()
    status = run.wait(timeout=60)
    took = time.monotonic() - pressed

    assert status == 130, run.text()[-2000:]
    assert took < 12, f"exit took {took:.1f}s"
    assert "interrupted" in run.text()
    assert "Received SIGINT" not in (home / "redis" / "redis.log").read_text()  # Redis was stopped, last
    assert _processes_of(home) == []

    # What was left: nothing half-done, and each unfinished input waits in a queue once.
    server = PrivateRedis(home)
    client = redis.Redis.from_url(server.start())
    try:
        records = {r.source: r for r in Ledger(client).all()}
        assert set(records) == sources
        states = {r.state for r in records.values()}
        assert "processing" not in states, states
        left = {s for s, r in records.items() if r.state == "queued"}
        assert left, "the run finished before Ctrl-C: nothing to resume"
        assert client.hlen("unacked") == 0
        assert left <= waiting_sources(client, QUEUES)
        finished_before = {s: r.updated for s, r in records.items() if r.state in FINAL_STATES}
    finally:
        client.close()
        server.stop()

    rerun = newsflow("run", str(tmp_path / "inbox"), timeout=300)
    assert f"unchanged {len(finished_before)}" in rerun.stdout, rerun.stdout

    client = redis.Redis.from_url(server.start())
    try:
        records = {r.source: r for r in Ledger(client).all()}
        assert {r.state for r in records.values()} <= FINAL_STATES
        assert {s: records[s].updated for s in finished_before} == finished_before  # not redone
        assert _final_events(client) == dict.fromkeys(sources, 1)  # each input finished once
        assert [client.llen(q) for q in QUEUES] == [0, 0, 0]  # no stale messages
        assert client.hlen("unacked") == 0
    finally:
        client.close()
        server.stop()
    exported = [json.loads(line) for line in newsflow("export").stdout.splitlines()]
    assert {s for doc in exported for s in doc["sources"]} <= sources


def test_a_message_that_comes_back_after_its_files_were_done_does_not_redo_them(
    stack: Newsflow, seed_paths: list[Path], tmp_path: Path
) -> None:
    from celery import Celery

    [article] = _articles(tmp_path / "inbox", seed_paths, 1)
    stack("submit", str(article))
    url = stack.env["NEWSFLOW_REDIS_URL"]
    client = redis.Redis.from_url(url)
    ledger = Ledger(client)
    done = wait_for(lambda: (r := ledger.get(str(article))) and r.state == "done" and r, timeout=120)
    # The same message again, as a worker stopped before acknowledging it gives it back.
    sender = Celery(broker=url)
    sender.send_task("newsflow.process_files", args=[[str(article)]], queue="process")
    log = stack.home / "logs" / "worker-0.log"

    def tasks_finished() -> int:
        return sum(
            "process_files[" in line and "succeeded" in line
            for line in log.read_text(errors="replace").splitlines()
        )

    wait_for(lambda: tasks_finished() == 2, timeout=120)
    assert ledger.get(str(article)) == done  # not processed again
    assert _final_events(client) == {str(article): 1}
    sender.close()
    client.close()
