"""One line per failure a user can cause: what is wrong and what to do."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
import redis

from config.settings import Settings, SettingsError
from workers.cli_problems import explain
from workers.local import LocalServiceError

HOME = Path("/data/newsflow")
SETTINGS = Settings(home=HOME)


def _os(code: int, path: str) -> OSError:
    return OSError(code, "strerror", path)


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (_os(errno.EROFS, str(HOME)), ["read-only", "NEWSFLOW_HOME"]),
        (_os(errno.EROFS, str(HOME / "redis")), ["read-only", "NEWSFLOW_HOME"]),
        (_os(errno.EROFS, "/elsewhere/out.jsonl"), ["read-only", "write somewhere else"]),
        (_os(errno.EACCES, str(HOME / "index.sqlite3")), ["permission denied", "NEWSFLOW_HOME"]),
        (_os(errno.ENOSPC, str(HOME / "logs" / "w.log")), ["no space", "free some space", "NEWSFLOW_HOME"]),
        (_os(errno.ENOSPC, "/dev/full"), ["no space", "free some space"]),
        (_os(errno.ENOENT, "/missing/x.txt"), ["/missing/x.txt", "does not exist"]),
        (_os(errno.ENOENT, "x.txt"), ["x.txt", "no such file"]),
        (_os(errno.ENOTDIR, str(HOME / "sub")), ["not a folder", "NEWSFLOW_HOME"]),
        (_os(errno.EEXIST, str(HOME)), ["not a folder", "NEWSFLOW_HOME"]),
        (OSError(errno.EADDRINUSE, "Address already in use"), ["in use", "another"]),
        (sqlite3.OperationalError("unable to open database file"), ["index.sqlite3", "NEWSFLOW_HOME"]),
        (sqlite3.OperationalError("attempt to write a readonly database"), ["read-only", "NEWSFLOW_HOME"]),
        (sqlite3.OperationalError("database or disk is full"), ["no space"]),
        (sqlite3.DatabaseError("file is not a database"), ["move it aside"]),
        (
            redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused."),
            ["unreachable", "Connection refused", "run the command again"],
        ),
        (LocalServiceError("the private Redis did not start: port 6379 is in use"), ["port 6379 is in use"]),
        (SettingsError("NEWSFLOW_CONCURRENCY='x' is not a valid int"), ["NEWSFLOW_CONCURRENCY"]),
        (
            ValueError("Redis URL must specify one of the following schemes (redis://, rediss://, unix://)"),
            ["NEWSFLOW_REDIS_URL", "redis://host:port/db"],
        ),
        (KeyError("boom"), ["internal error", "KeyError", "--debug"]),
    ],
)
def test_explain_says_what_is_wrong_and_what_to_do_in_one_line(exc: BaseException, words: list[str]) -> None:
    line = explain(exc, SETTINGS)
    assert "\n" not in line
    for word in words:
        assert word in line, (word, line)


def test_a_shared_redis_is_named_without_its_password() -> None:
    settings = Settings(home=HOME, redis_url="redis://:s3cret@broker:6380/0")
    line = explain(redis.ConnectionError("Connection refused"), settings)
    assert "broker:6380" in line
    assert "s3cret" not in line
    assert "NEWSFLOW_REDIS_URL" in line
    leaked = explain(RuntimeError("cannot use redis://:s3cret@broker:6380/0"), settings)
    assert "s3cret" not in leaked
    assert "broker:6380" in leaked
