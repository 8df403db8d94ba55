"""What the command line says when something a user can fix goes wrong (no I/O beyond
looking at paths).

`explain(exc, settings)` turns an exception into one line: what is wrong and what to do.
The command group prints it as `Error: …` with a non-zero exit instead of a traceback;
`newsflow --debug COMMAND` shows the traceback. An exception we did not foresee is
named as an internal error, still in one line. `Commands` is the command group's class.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from config.redact import mask_text, mask_url
from config.settings import Settings

HOME_HINT = (
    "set NEWSFLOW_HOME to a writable folder (it holds the index, the private Redis's data and the logs)"
)


def explain(exc: BaseException, settings: Settings | None) -> str:
    """One line for `exc`: what is wrong and what to do (credentials masked)."""
    return mask_text(_explain(exc, settings), settings.secrets() if settings is not None else ())


def _explain(exc: BaseException, settings: Settings | None) -> str:
    from workers.local import LocalServiceError

    if isinstance(exc, LocalServiceError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        return _os_error(exc, settings)
    if isinstance(exc, sqlite3.Error):
        return _sqlite_error(exc, settings)
    redis_line = _redis_error(exc, settings)
    if redis_line:
        return redis_line
    from config.settings import SettingsError
    from pipeline.errors import PipelineError

    if isinstance(exc, SettingsError | PipelineError):
        return str(exc)
    if isinstance(exc, ValueError) and "Redis URL" in str(exc):  # redis-py parsing NEWSFLOW_REDIS_URL
        return (
            f"NEWSFLOW_REDIS_URL: {_first_line(exc)}; write it as redis://host:port/db "
            "(rediss:// for TLS, unix:///path for a socket), or unset it for a private Redis"
        )
    return (
        f"internal error ({type(exc).__name__}: {_first_line(exc)}); "
        "run the command again with `newsflow --debug …` to see the traceback, and report it"
    )


def _os_error(exc: OSError, settings: Settings | None) -> str:
    path = exc.filename if exc.filename is not None else ""
    where = f"{path}: " if path else ""
    in_home = bool(path) and settings is not None and _inside(Path(str(path)), settings.home)
    code = exc.errno
    if code == errno.EROFS:
        return f"{where}read-only file system; " + (HOME_HINT if in_home else "write somewhere else")
    if code in (errno.EACCES, errno.EPERM):
        return f"{where}permission denied; " + (HOME_HINT if in_home else "check the path's permissions")
    if code in (errno.ENOSPC, errno.EDQUOT):
        tail = ", or set NEWSFLOW_HOME to a folder on another disk" if in_home else ""
        return f"{where}no space left on the device; free some space{tail}"
    if code == errno.ENOENT:
        parent = Path(str(path)).parent if path else None
        if parent is not None and str(parent) not in ("", ".") and not parent.exists():
            return f"{where}the folder {parent} does not exist; create it or choose another path"
        return f"{where}no such file or folder"
    if code == errno.ENOTDIR:
        return f"{where}a part of this path is a file, not a folder" + (f"; {HOME_HINT}" if in_home else "")
    if code == errno.EEXIST:
        return f"{where}exists and is not a folder" + (f"; {HOME_HINT}" if in_home else "")
    if code == errno.EISDIR:
        return f"{where}is a folder; give a file"
    if code == errno.EADDRINUSE:
        return f"address already in use ({exc.strerror}): stop what uses the port or choose another"
    return f"{where}{exc.strerror or exc}"


def _sqlite_error(exc: sqlite3.Error, settings: Settings | None) -> str:
    index = settings.index_path if settings is not None else Path("index.sqlite3")
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return f"{index}: the index is read-only; {HOME_HINT}"
    if "full" in text:
        return f"{index}: no space left on the device; free some space, or set NEWSFLOW_HOME elsewhere"
    if "unable to open" in text:
        folder = index.parent
        if folder.is_dir() and not os.access(folder, os.W_OK):
            return f"{index}: cannot open the index, {folder} is not writable; {HOME_HINT}"
        return f"{index}: cannot open the index; {HOME_HINT}"
    if "not a database" in text or "malformed" in text:
        return f"{index}: not a Newsflow index, or damaged; move it aside and run again to rebuild it"
    if "locked" in text or "busy" in text:
        return f"{index}: the index is busy (another process holds a lock); try again in a moment"
    return f"{index}: the index failed ({text})"


def _redis_error(exc: BaseException, settings: Settings | None) -> str:
    import redis

    from pipeline.errors import TransientError

    if isinstance(exc, TransientError) and isinstance(exc.__cause__, redis.RedisError):
        exc = exc.__cause__  # a store's "… unavailable": say what the Redis error means
    kombu_down = type(exc).__module__.startswith("kombu") and type(exc).__name__ == "OperationalError"
    if not isinstance(exc, redis.RedisError) and not kombu_down:
        return ""
    url = settings.redis_url if settings is not None else ""
    where = f"Redis at {mask_url(url)}" if url else "the private Redis"
    fix = (
        (
            "check it is running and that NEWSFLOW_REDIS_URL points at it (unset, a private Redis "
            "under NEWSFLOW_HOME is used)"
        )
        if url
        else "run the command again"
    )
    if isinstance(exc, redis.AuthenticationError):
        return f"{where} refused the password: check the one in NEWSFLOW_REDIS_URL"
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):  # rediss://: reachable, but not trusted
        return (
            f"{where}: its TLS certificate cannot be verified ({_first_line(exc)}): give the CA "
            "that signed it in NEWSFLOW_REDIS_URL (rediss://…?ssl_ca_certs=/path/ca.pem), and a "
            "host name the certificate is for"
        )
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError) or kombu_down:
        return f"{where} is unreachable ({_first_line(exc)}): {fix}"
    return f"{where} answered with an error ({_first_line(exc)}): {fix}"


def _inside(path: Path, root: Path) -> bool:
    try:
        path.absolute().relative_to(root.absolute())
    except ValueError:
        return path.absolute() in root.absolute().parents  # a folder on the way to the home
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Commands(click.Group):
    """The command group: a failure becomes one `Error: …` line (`explain`) and a non-zero
    exit, unless `newsflow --debug` asked for the traceback; `--help` lists each command
    with the whole first sentence of its help (click cuts it to the width with `...`)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))  # wrapped, not cut
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(ctx.params.get("debug"))
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or closed pipe shows here, not at interpreter exit
            return result
        except (click.exceptions.Exit, click.exceptions.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:  # `newsflow export | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(141) from None  # as if killed by SIGPIPE
        except click.ClickException as exc:
            if debug and exc.__cause__ is not None:
                traceback.print_exception(exc.__cause__)
            # A command's own error line may quote a URL it was given (`Kibana at URL ...`).
            settings = _settings_or_none()
            masked = mask_text(exc.message, settings.secrets() if settings is not None else ())
            if masked == exc.message:
                raise
            raise click.ClickException(masked) from exc.__cause__
        except Exception as exc:
            if debug:
                raise
            raise click.ClickException(explain(exc, _settings_or_none())) from exc


def _settings_or_none() -> Settings | None:
    from config.settings import SettingsError, get_settings

    try:
        return get_settings()
    except SettingsError:
        return None
