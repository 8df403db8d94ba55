"""What the queue costs on top of the NLP: throughput ratio, drop-to-searchable latency, memory.

    python bench/throughput.py [--docs 2000] [--workers 1] [--concurrency 2] [--drops 20]

(a) reference: our stages called directly (`pipeline.write.enrich`, as the tasks call
    it, over `get_stages()` in batches of NEWSFLOW_BATCH_SIZE as the workers take them,
    the same Redis-backed registries the workers use, each batch's paragraphs parsed
    together), the corpus split across as many spawned processes as (b) has pool
    processes;
(b) the full pipeline, as deployed: workers and `newsflow watch` already running (a probe
    file has been through them), the files appear in the watched folder at once (hard
    links under temp names, renamed into place as producers are asked to do), the watcher
    enqueues them, real Celery worker processes on a private Redis run ingest → process →
    index, until every file is final in the ledger (the documents searchable in the
    embedded index), timed by the ledger's own stamps.
(s) bare spaCy: what a user who runs spaCy over the folder by hand pays, without our
    features: the same model with the pipes the product runs, as spaCy ships them (the
    product applies the attribute ruler's rules by table, pipeline/attribute_table.py,
    with the same annotations; a user by hand runs the ruler), `nlp.pipe(texts,
    batch_size=64)` over the same files' texts, one spawned process per pool process of (b).
The sides run in --rounds interleaved rounds (A B S S B A ...), each on the next slice of
the corpus, (a) and (b) keeping their stores between rounds: the machine's speed drifts,
and all get the same machine. Same cores, same corpus, so the ratio b/a is what the queue, the
ledger and the index writes cost. Next to it: the CPU seconds per document of each side's
own processes while it runs (pool processes and Redis; for (b) also the workers' main
processes and the watcher), each group and the total, and the ratio of the totals, which
idle cores do not move.

Latency: with the pipeline idle, one new file is dropped into the watched folder and the
benchmark polls the embedded index (in-process, not through the CLI) until a search finds
it; median and 95th percentile over `--drops` drops. Memory: peak resident size (VmHWM) of
each worker pool process; then one input of the largest size allowed
(NEWSFLOW_MAX_FILE_BYTES as shipped, `--big-bytes`) goes through the idle pipeline, and
the peak again (`big_input_rss_mib`, also on the last line).

Shared components, per document of the measured rounds, for the scale-out plan in
docs/PRODUCTION.md: Redis's CPU (`pipeline_cpu_redis`), the memory it kept
(`redis_mem_bytes_per_doc`), the bytes through its socket and its commands (INFO); and
SQLite's share of the write (`sqlite_write_*`: documents the pipeline wrote, written
again into a fresh embedded index, in this process).

The corpus: the seeds, the extraction bench's truth texts and the ECB+ articles (from
../shared/bench or NEWSFLOW_BENCH_DIR), replicated with variations until there are --docs.
Prints a table, saves bench/results/throughput.json, and ends with exactly the line
`ratio R latency_p50 S latency_p95 S worker_rss_mib M cpu_vs_spacy C big_input_rss_mib B`,
where C is the CPU time of all of (b)'s processes per CPU time of (s)'s, over the same
documents (issue 21: everything we add on top of the parse; target <= 1.25).

`--backend elasticsearch` adds a third side to every round: (c) the same pipeline (same
workers, same settings, a watcher of its own) writing into Elasticsearch instead of the
embedded index: the cluster at NEWSFLOW_ES_URL, else a single node started here as the
tests start it (tests/elastic_node.py). It prints (c)'s docs/s against (b)'s as
`es_ratio` and the cluster's own CPU ms per document (the node's processes, when the
bench started it), checks that every input ends in the same state as on the embedded
side (none failed) and that Elasticsearch holds as many documents as the embedded index,
and appends `es_ratio E es_cluster_cpu_ms_per_doc C` to the last line. The table splits
the node's CPU by thread: `es_cluster_jit` (the JVM compiling hot code, which a node
started for the run keeps doing for minutes), `es_cluster_gc`, `es_cluster_work` (the rest).
Before anything is measured, `--es-warmup` documents (800) go through a throwaway
pipeline into indices of their own, dropped after: the measured sides meet a node whose
JVM has compiled its hot code, as a node in service has; that warm-up's node CPU is
printed apart (`es_node_warmup_*`). `--es-warmup 0` measures a node fresh from its start.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Every side runs with the native thread pools the product sets (config/native.py: one
# BLAS thread per process, a process per core), inherited by the processes spawned here.
from config.native import single_threaded_native  # noqa: E402

single_threaded_native()

BENCH = Path(os.environ.get("NEWSFLOW_BENCH_DIR", ROOT.parent / "shared" / "bench"))


# --------------------------------------------------------------------------- corpus
def base_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds" / "documents").glob("*.txt"))]
    extraction = BENCH / "extraction" / "dev"
    texts += [p.read_text(encoding="utf-8") for p in sorted(extraction.glob("*.truth.txt"))]
    ecb = BENCH / "stories" / "ecbplus-dev.jsonl"
    if ecb.exists():
        for line in ecb.read_text(encoding="utf-8").splitlines():
            article = json.loads(line)
            texts.append(f"{article['title']}\n\n" + article["text"].replace("\n", "\n\n"))
    return [t for t in texts if len(t.split()) >= 60]


def build_corpus(n: int, folder: Path) -> list[Path]:
    """`n` files: the base texts, then copies whose paragraphs are reordered and
    renumbered, so no two files have the same cleaned text."""
    texts = base_texts()
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        text = texts[i % len(texts)]
        copy = i // len(texts)
        if copy:
            paragraphs = [p for p in text.split("\n\n") if p.strip()]
            head, body = paragraphs[:1], paragraphs[1:]
            rng.shuffle(body)
            text = "\n\n".join([*head, f"Update {copy}: this report was revised on day {copy}.", *body])
        path = folder / f"doc-{i:05d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# Whichever side or setting ran first measured several percent slow (bench/defaults.py put
# its first row last in three runs out of three, whichever setting it was): the first
# documents through fresh processes and stores pay one-off costs. These go through every
# side before the clock starts, and are not counted.
WARMUP = 48


def split_warmup(paths: list[Path], n: int) -> tuple[list[Path], list[Path]]:
    """The last `n` files (copies, not base texts) for the warm-up, the rest to measure."""
    return paths[len(paths) - n :], paths[: len(paths) - n]


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes, and their children that have ended (Redis's
    append-only-file rewrites run in a child), have used so far (Linux /proc; 0 for one gone)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / TICK  # utime stime cutime cstime
    return total


# The node's threads, by what they do: a JVM compiles its hot code (C1, C2) for minutes
# after it starts, which a short run on a fresh node pays per document.
JVM_THREADS = (("jit", ("C1 CompilerThre", "C2 CompilerThre")), ("gc", ("GC Thread", "G1 ", "VM Thread")))


def thread_cpu_seconds(pids: list[int]) -> dict[str, float]:
    """User + system CPU time of the processes' threads so far, grouped as in JVM_THREADS
    (the rest: "work", Elasticsearch's own threads); Linux /proc."""
    groups: dict[str, float] = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                name = (task / "comm").read_text().strip()
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            group = next((g for g, prefixes in JVM_THREADS if name.startswith(prefixes)), "work")
            groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return groups


def words(paths: list[Path]) -> int:
    return sum(len(p.read_text(encoding="utf-8").split()) for p in paths)


# ------------------------------------------------------------------------ services
def start_redis(home: Path) -> Any:
    from workers.local import PrivateRedis

    server = PrivateRedis(home)
    server.start()
    return server


def base_env(home: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(NEWSFLOW_HOME=str(home), NEWSFLOW_REDIS_URL=redis_url, NEWSFLOW_LOG_LEVEL="WARNING")
    return env


# ---------------------------------------------------------------------- reference
def _reference_worker(args: tuple[list[str], dict[str, str]]) -> int:
    paths, env = args
    os.environ.update(env)
    from config.settings import get_settings
    from pipeline.errors import PipelineError
    from pipeline.sources.files import read_dropped_file
    from pipeline.write import enrich
    from workers.resources import get_stages

    stages = get_stages()
    if not paths:  # warm-up, as a worker process does (workers/signals.py)
        gc.collect()
        gc.freeze()
    size = get_settings().batch_size

    @contextlib.contextmanager
    def each_source(source: str) -> Any:
        with contextlib.suppress(PipelineError):
            yield

    done = 0
    for at in range(0, len(paths), size):  # batches of NEWSFLOW_BATCH_SIZE, as the workers take them
        batch = [read_dropped_file(Path(p), max_bytes=10_000_000) for p in paths[at : at + size]]
        for _ in enrich(batch, stages, each_source=each_source):
            pass
        done += len(batch)
    return done


class _Pool:
    """A pool of `processes` spawned processes that stays up between rounds, each running
    `worker((paths, env))` on its share of a round's files (an empty share: load, warm up)."""

    worker: Callable[[tuple[list[str], dict[str, str]]], int]

    def __init__(self, processes: int, env: dict[str, str]) -> None:
        self.processes, self.env = processes, env
        self.pool = mp.get_context("spawn").Pool(processes)
        # Load the model in every process before any clock starts, as workers do.
        self.pool.map(type(self).worker, [([], env)] * processes)

    def pid_groups(self) -> dict[str, list[int]]:
        return {"pool": [p.pid for p in self.pool._pool]}  # type: ignore[attr-defined]

    def run(self, paths: list[Path]) -> float:
        shares = [[str(p) for p in paths[i :: self.processes]] for i in range(self.processes)]
        started = time.perf_counter()
        self.pool.map(type(self).worker, [(share, self.env) for share in shares])
        return time.perf_counter() - started

    def stop(self) -> None:
        self.pool.close()
        self.pool.join()


class Reference(_Pool):
    """The stages called directly in a pool of spawned processes that stays up between
    rounds, on its own private Redis (its registries grow round after round, as the
    pipeline's do)."""

    worker = staticmethod(_reference_worker)

    def __init__(self, tmp: Path, processes: int) -> None:
        self.redis = start_redis(tmp / "reference")
        super().__init__(processes, base_env(tmp / "reference", self.redis.url))

    def pid_groups(self) -> dict[str, list[int]]:
        return {**super().pid_groups(), "redis": [self.redis.proc.pid]}

    def stop(self) -> None:
        super().stop()
        self.redis.stop()


# --------------------------------------------------------------------- bare spaCy
SPACY_BATCH = 64  # spaCy's own default for nlp.pipe


def _spacy_worker(args: tuple[list[str], dict[str, str]]) -> int:
    """Bare spaCy: the product's model with the pipes it runs, as spaCy ships them (the
    model's own attribute ruler, not the product's table of its rules,
    pipeline/attribute_table.py), `nlp.pipe` over the files' texts as they are, nothing else."""
    paths, env = args
    os.environ.update(env)
    import spacy

    from config.settings import get_settings

    nlp = spacy.load(get_settings().spacy_model, exclude=["lemmatizer"])
    if not paths:
        nlp("Warm up the model in Brussels.")
        return 0
    texts = (Path(p).read_text(encoding="utf-8") for p in paths)
    return sum(1 for _ in nlp.pipe(texts, batch_size=SPACY_BATCH))


class BareSpacy(_Pool):
    """What a user gets running spaCy over the folder by hand: the same model and pipes (stock),
    `nlp.pipe` over the same texts, one spawned process per pipeline pool process."""

    worker = staticmethod(_spacy_worker)

    def __init__(self, tmp: Path, processes: int) -> None:
        super().__init__(processes, base_env(tmp / "spacy", "redis://unused"))


# ------------------------------------------------------------------------ pipeline
class Pipeline:
    def __init__(
        self, tmp: Path, workers: int, concurrency: int, *, name: str = "pipeline", **settings_env: str
    ) -> None:
        """`settings_env`: other settings for workers and watcher, e.g. batch_size="4"."""
        from config.settings import Settings
        from workers.local import WorkerProcesses

        self.home = tmp / name
        self.redis = start_redis(self.home)
        self.env = base_env(self.home, self.redis.url)
        self.env["NEWSFLOW_CONCURRENCY"] = str(concurrency)
        self.env.update({f"NEWSFLOW_{k.upper()}": v for k, v in settings_env.items()})
        settings = Settings(home=self.home, redis_url=self.redis.url, concurrency=concurrency)
        self.pool = WorkerProcesses(settings, self.redis.url, processes=workers, env=self.env)
        self.watcher: subprocess.Popen[bytes] | None = None

    def start_workers_and_wait_ready(self) -> None:
        from celery import Celery

        self.pool.start()
        control = Celery(broker=self.redis.url).control  # its own app: pipelines can share a process
        deadline = time.monotonic() + 120
        while len(control.ping(timeout=0.5) or []) < self.pool.n:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not come up")
        time.sleep(3)  # pool children load the model after the main process answers

    def watch(self, folder: Path) -> None:
        self.watcher = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "watch", str(folder)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self, inbox: Path) -> None:
        """Workers and watcher up, and a probe file through them: ready as deployed."""
        self.inbox = inbox
        inbox.mkdir(parents=True, exist_ok=True)
        self.start_workers_and_wait_ready()
        self.watch(inbox)
        probe = inbox / ".probe.txt"
        probe.write_text("Pipeline probe.\n\n" + base_texts()[0], encoding="utf-8")
        probe.rename(inbox / "probe.txt")
        self.final = 1
        wait_until_final(self, self.final, time.perf_counter(), timeout=120)

    def feed(self, paths: list[Path]) -> float:
        """Seconds from `paths` appearing in the watched folder at once (hard links under
        temp names, then renamed into place, as producers are asked to do: each file
        appears complete) until the last of them is final in the ledger, by the ledger's
        own time stamps (so how often the benchmark polls does not count)."""
        staged = []
        for path in paths:
            os.link(path, self.inbox / f".{path.name}")
            staged.append(path.name)
        started, started_wall = time.perf_counter(), time.time()
        for name in staged:
            os.rename(self.inbox / f".{name}", self.inbox / name)
        self.final += len(paths)
        wait_until_final(self, self.final, started, sources=[str(self.inbox / name) for name in staged])
        finished = self.finished_at([self.inbox / name for name in staged])
        return (finished - started_wall) if finished else time.perf_counter() - started

    @functools.cached_property
    def ledger(self) -> Any:
        """The pipeline's ledger, read by the benchmark (one connection for all polls)."""
        import redis as redis_lib

        from pipeline.redis.ledger import Ledger

        return Ledger(redis_lib.Redis.from_url(self.redis.url))

    def finished_at(self, paths: list[Path]) -> float:
        """When the last of `paths` reached its final state (epoch seconds; 0 if unknown)."""
        records = self.ledger.get_many([str(p) for p in paths])
        if not records or any(r is None for r in records):
            return 0.0
        return float(max(r.updated for r in records if r is not None))

    def final_count(self) -> int:
        from pipeline.redis.ledger import FINAL_STATES

        return sum(1 for r in self.ledger.all() if r.state in FINAL_STATES)

    def pid_groups(self) -> dict[str, list[int]]:
        """Every process of the pipeline: pool processes, workers' main processes, watcher, Redis."""
        from workers.local import child_pids

        mains = [proc.pid for proc in self.pool.procs]
        return {
            "pool": [c for m in mains for c in child_pids(m)],
            "workers": mains,
            "watcher": [self.watcher.pid] if self.watcher is not None else [],
            "redis": [self.redis.proc.pid],
        }

    def pids(self) -> list[int]:
        return [pid for group in self.pid_groups().values() for pid in group]

    def worker_rss_mib(self) -> float:
        from workers.local import child_pids

        peak = 0
        for proc in self.pool.procs:
            for pid in [proc.pid, *child_pids(proc.pid)]:
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        return peak / 1024

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.terminate()
            self.watcher.wait(20)
        self.pool.stop()
        if "ledger" in self.__dict__:
            self.ledger.r.close()
        self.redis.stop()


class ElasticPipeline(Pipeline):
    """The same pipeline writing into Elasticsearch (indices under a per-run prefix)."""

    def __init__(
        self, tmp: Path, workers: int, concurrency: int, es_url: str, *, name: str = "elasticsearch"
    ) -> None:
        self.prefix = f"nfbench-{os.getpid()}-{name}"
        super().__init__(
            tmp,
            workers,
            concurrency,
            name=name,
            index_backend="elasticsearch",
            es_urls=es_url,
            es_prefix=self.prefix,
        )
        subprocess.run(
            [sys.executable, "-m", "workers.cli", "es", "setup"],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )

    def es_count(self) -> int:
        from elasticsearch import Elasticsearch

        with Elasticsearch(self.env["NEWSFLOW_ES_URLS"]) as es:
            es.indices.refresh(index=f"{self.prefix}-documents")
            return int(es.count(index=f"{self.prefix}-documents")["count"])

    def drop_indices(self) -> None:
        from elasticsearch import Elasticsearch

        with Elasticsearch(self.env["NEWSFLOW_ES_URLS"]) as es:
            for name in es.indices.get(index=f"{self.prefix}-*"):
                es.indices.delete(index=name)
            for kind in ("documents", "claims", "stories"):
                es.options(ignore_status=404).indices.delete_index_template(name=f"{self.prefix}-{kind}")


def start_elasticsearch() -> tuple[str, Any]:
    """The cluster at NEWSFLOW_ES_URL (no node of ours), else a node started here."""
    if url := os.environ.get("NEWSFLOW_ES_URL"):
        return url, None
    from tests.elastic_node import ElasticNode, install

    node = ElasticNode(install())
    return node.start(), node


def warm_node(
    tmp: Path, workers: int, concurrency: int, es_url: str, node: Any, paths: list[Path]
) -> dict[str, float]:
    """Run `paths` through a pipeline of their own into indices of their own (dropped after),
    so the measured sides meet a node that has been running for a while: a JVM compiles
    its hot code for thousands of documents after it starts (measured here: the node's CPU
    per document fell from 40 ms over the first 400 documents to 23, 13, 9 and 8 over the
    next ones), which a node in service has long paid. Returns the node's CPU seconds by
    thread group (JVM_THREADS) during the warm-up."""
    from workers.local import child_pids

    warm = ElasticPipeline(tmp, workers, concurrency, es_url, name="es-warmup")
    pids = [node.proc.pid, *child_pids(node.proc.pid)] if node is not None else []
    try:
        warm.start(tmp / "es-warmup-inbox")
        before = thread_cpu_seconds(pids)
        warm.feed(paths)
        return {k: v - before.get(k, 0.0) for k, v in thread_cpu_seconds(pids).items()}
    finally:
        warm.stop()
        with contextlib.suppress(Exception):
            warm.drop_indices()


def states(pipeline: Pipeline) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in pipeline.ledger.all():
        counts[record.state] = counts.get(record.state, 0) + 1
    return counts


def wait_until_final(
    pipeline: Pipeline, n: int, started: float, timeout: float = 3600, *, sources: list[str] | None = None
) -> None:
    """Poll the ledger until `n` sources are final (`sources`: until those are, reading only
    the records of the ones not final yet). A poll costs Redis CPU and bytes that the
    pipeline's own figures then include (reading every ledger record, as polls did before,
    came to ~10 polls x 2,000 records per round), so far from the end the polls are spaced
    by the rate seen so far."""
    from pipeline.redis.ledger import FINAL_STATES

    pending = list(sources or [])

    def final() -> int:
        if sources is None:
            return pipeline.final_count()
        records = pipeline.ledger.get_many(pending)
        pending[:] = [
            s for s, r in zip(pending, records, strict=True) if r is None or r.state not in FINAL_STATES
        ]
        return n - len(pending)

    done = seen_at_start = final() if sources is None else n - len(pending)
    while done < n:
        elapsed = time.perf_counter() - started
        if elapsed > timeout:
            raise RuntimeError(f"{done} of {n} files final after {elapsed:.0f} s")
        rate = (done - seen_at_start) / elapsed if elapsed else 0.0
        time.sleep(min(10.0, max(0.25, (n - done) / rate / 2)) if rate else 0.25)
        done = final()


def measure_latency(pipeline: Pipeline, inbox: Path, drops: int) -> list[float]:
    from pipeline.sqlite.index import SqliteIndex

    index = SqliteIndex(pipeline.home / "index.sqlite3")
    template = (ROOT / "seeds" / "documents").glob("*.txt").__next__().read_text(encoding="utf-8")
    latencies = []
    for n in range(drops):
        token = f"zqxlatency{n}marker"
        text = template.replace("Brussels", f"Brussels {token}", 1)
        time.sleep(0.5)  # idle pipeline
        tmp = inbox / f".drop-{n}.txt"
        tmp.write_text(text, encoding="utf-8")
        started = time.perf_counter()
        tmp.rename(inbox / f"drop-{n}.txt")  # appears complete, as producers should do
        # A drop is a near copy of a seed, so the index hides it by default: ask for copies too.
        while not index.search(token, limit=1, duplicates=True):
            if time.perf_counter() - started > 60:
                raise RuntimeError(f"drop {n} not searchable within 60 s")
            time.sleep(0.005)
        latencies.append(time.perf_counter() - started)
    index.close()
    return latencies


def redis_info(pipeline: Pipeline) -> dict[str, int]:
    """The counters of the pipeline's Redis the bench reports per document, and each
    command's calls (`cmd:<name>`, from INFO commandstats: a script's own calls counted
    under their names, beside the EVALSHA that ran them)."""
    r = pipeline.ledger.r
    info = r.info()
    keys = ("used_memory", "total_net_input_bytes", "total_net_output_bytes", "total_commands_processed")
    calls = {f"cmd:{name}": int(stats["calls"]) for name, stats in r.info("commandstats").items()}
    return {**{k: int(info[k]) for k in keys}, **calls}


def top_commands(before: dict[str, int], after: dict[str, int], docs: int, n: int = 10) -> str:
    """The `n` commands called most per document between two `redis_info` readings."""
    per_doc = {
        k.removeprefix("cmd:").removeprefix("cmdstat_"): (v - before.get(k, 0)) / docs
        for k, v in after.items()
        if k.startswith("cmd:")
    }
    top = sorted(per_doc.items(), key=lambda kv: -kv[1])[:n]
    return " ".join(f"{name}={calls:.1f}" for name, calls in top if calls > 0)


def measure_sqlite_write(index_path: Path, folder: Path, n: int = 400) -> dict[str, float]:
    """SQLite's share of the write: `n` of the documents the pipeline wrote, read back and
    written again, in batches of NEWSFLOW_BATCH_SIZE, into a fresh embedded index (the
    documents table, its full-text index and search keys: what every document costs;
    the claims and stories tables are written from plans that need the Redis registries).
    CPU and wall milliseconds per document, in this process."""
    from config.settings import Settings
    from pipeline.index import document_from_body
    from pipeline.sqlite.index import SqliteIndex

    source = SqliteIndex(index_path)
    docs = [document_from_body(body) for body, _ in zip(source.iter_all(), range(n), strict=False)]
    source.close()
    folder.mkdir(parents=True, exist_ok=True)
    target = SqliteIndex(folder / "index.sqlite3")
    size = Settings().batch_size
    cpu, wall = time.process_time(), time.perf_counter()
    for at in range(0, len(docs), size):
        target.write(docs[at : at + size])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    target.close()
    return {
        "sqlite_write_cpu_ms_per_doc": round(1000 * cpu / max(1, len(docs)), 2),
        "sqlite_write_ms_per_doc": round(1000 * wall / max(1, len(docs)), 2),
    }


def cpu_vs(cpu: dict[str, dict[str, float]], side: str, base: str) -> float:
    """CPU seconds of all `side`'s processes per CPU second of `base`'s (same documents)."""
    return sum(cpu[side].values()) / (sum(cpu[base].values()) or float("nan"))


def measure_big_input(pipeline: Pipeline, inbox: Path, size: int) -> dict[str, Any]:
    """One input of the largest size allowed (NEWSFLOW_MAX_FILE_BYTES as shipped) dropped into
    the idle pipeline: its seconds to a final state, that state, and the peak resident size
    of the worker processes afterwards (VmHWM: the peak of their whole life, so it covers
    this input; issue 21 asks for under 1 GiB)."""
    from tests.big_inputs import big_text

    data = big_text(size).encode("utf-8")[:size]
    data = data[: data.rfind(b"\n\n") + 2]  # whole paragraphs, at most `size` bytes
    staged, path = inbox / ".big-input.txt", inbox / "big-input.txt"
    staged.write_bytes(data)
    started = time.perf_counter()
    staged.rename(path)
    pipeline.final += 1
    wait_until_final(pipeline, pipeline.final, started, timeout=900, sources=[str(path)])
    took = time.perf_counter() - started
    record = pipeline.ledger.get(str(path))
    return {
        "big_input_bytes": len(data),
        "big_input_s": round(took, 1),
        "big_input_state": record.state if record else "?",
        "big_input_rss_mib": round(pipeline.worker_rss_mib(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument(
        "--big-bytes",
        type=int,
        default=-1,
        help="size of the one big input dropped at the end (-1: NEWSFLOW_MAX_FILE_BYTES as shipped; 0: none)",
    )
    parser.add_argument("--rounds", type=int, default=8, help="interleaved slices of the corpus")
    parser.add_argument(
        "--warmup", type=int, default=WARMUP, help="documents through both sides before the clock starts"
    )
    parser.add_argument(
        "--es-warmup",
        type=int,
        default=800,
        help="documents through a throwaway pipeline into the node before anything is measured",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "elasticsearch"),
        default="sqlite",
        help="elasticsearch: also run the pipeline into Elasticsearch, side by side",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "throughput.json")
    args = parser.parse_args()
    if not (BENCH / "extraction").exists():
        print(f"note: {BENCH} not found; the corpus is the seeds only, replicated", file=sys.stderr)

    tmp = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    try:
        inbox = tmp / "inbox"
        es_warmup = args.es_warmup if args.backend == "elasticsearch" else 0
        corpus = build_corpus(args.docs + args.warmup + es_warmup, tmp / "corpus")
        corpus, node_warmup = corpus[: len(corpus) - es_warmup], corpus[len(corpus) - es_warmup :]
        warmup, paths = split_warmup(corpus, args.warmup)
        n_words = words(paths)
        processes = args.workers * args.concurrency
        print(f"corpus: {len(paths)} documents, {n_words} words; {processes} processes", flush=True)

        # In rounds, alternating which goes first (A B B A ...): a shared machine's speed
        # drifts by over 10% within minutes (the same code measured 0.80 and 0.93 an hour
        # apart when the two ran one after the other), and interleaving gives both the same
        # machine. Each round is the next slice of the corpus; both keep their stores.
        node: Any = None
        node_warm: dict[str, float] = {}
        if args.backend == "elasticsearch":
            es_url, node = start_elasticsearch()
            if node_warmup:
                node_warm = warm_node(tmp, args.workers, args.concurrency, es_url, node, node_warmup)
                print(f"node warmed with {len(node_warmup)} documents", flush=True)
        reference = Reference(tmp, processes)
        pipeline = Pipeline(tmp, args.workers, args.concurrency)
        spacy = BareSpacy(tmp, processes)
        elastic: ElasticPipeline | None = None
        sides: dict[str, Any] = {"reference": reference, "pipeline": pipeline, "spacy": spacy}
        if args.backend == "elasticsearch":
            elastic = sides["elasticsearch"] = ElasticPipeline(tmp, args.workers, args.concurrency, es_url)
        rounds: list[dict[str, float]] = []
        # CPU seconds of each side's own processes while it runs: steadier than wall time on
        # a machine whose speed drifts (idle cores do not count), printed next to the ratio.
        cpu: dict[str, dict[str, float]] = {side: {} for side in sides}
        node_threads: dict[str, float] = {}  # the node's CPU by thread group (JVM_THREADS)
        try:
            pipeline.start(inbox)
            reference.run(warmup)
            pipeline.feed(warmup)
            spacy.run(warmup)
            if elastic is not None:
                elastic.start(tmp / "es-inbox")
                elastic.feed(warmup)
            redis_before = redis_info(pipeline)
            size = -(-len(paths) // args.rounds)
            for n, at in enumerate(range(0, len(paths), size)):
                chunk = paths[at : at + size]
                took: dict[str, float] = {}
                round_cpu: dict[str, float] = {}
                for side in list(sides)[:: -1 if n % 2 else 1]:
                    runner = sides[side].run if side in ("reference", "spacy") else sides[side].feed
                    groups = sides[side].pid_groups()
                    if side == "elasticsearch" and node is not None:
                        from workers.local import child_pids

                        groups["cluster"] = [node.proc.pid, *child_pids(node.proc.pid)]
                    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
                    threads_before = thread_cpu_seconds(groups.get("cluster", []))
                    took[side] = runner(chunk)
                    for name, pids in groups.items():
                        used = cpu_seconds(pids) - before[name]
                        cpu[side][name] = cpu[side].get(name, 0.0) + used
                        round_cpu[side] = round_cpu.get(side, 0.0) + used
                    for name, used in thread_cpu_seconds(groups.get("cluster", [])).items():
                        key = f"cluster_{name}"
                        node_threads[key] = node_threads.get(key, 0.0) + used - threads_before.get(name, 0.0)
                rounds.append(took)
                print(
                    f"round {n + 1}: {len(chunk)} documents, "
                    + ", ".join(f"{side} {len(chunk) / s:.1f} docs/s" for side, s in took.items())
                    + f", ratio {took['reference'] / took['pipeline']:.3f}"
                    + f", pipeline {1000 * round_cpu['pipeline'] / len(chunk):.1f}"
                    + f" spacy {1000 * round_cpu['spacy'] / len(chunk):.1f} CPU ms/doc"
                    + f", cpu_vs_spacy {cpu_vs(cpu, 'pipeline', 'spacy'):.3f} so far"
                    + (f", es_ratio {took['pipeline'] / took['elasticsearch']:.3f}" if elastic else ""),
                    flush=True,
                )
            redis_after = redis_info(pipeline)
            sqlite_write = measure_sqlite_write(pipeline.home / "index.sqlite3", tmp / "sqlite-write")
            if elastic is not None:
                # Every input final once, none failed, and as many documents as the embedded index.
                es_states, sqlite_states = states(elastic), states(pipeline)
                es_docs = elastic.es_count()
                from pipeline.sqlite.index import SqliteIndex

                embedded = SqliteIndex(pipeline.home / "index.sqlite3")
                sqlite_docs = embedded.count()
                embedded.close()
            latencies = measure_latency(pipeline, inbox, args.drops)
            rss = pipeline.worker_rss_mib()
            from config.settings import Settings

            big_bytes = Settings().max_file_bytes if args.big_bytes < 0 else args.big_bytes
            big = measure_big_input(pipeline, inbox, big_bytes) if big_bytes else {}
        finally:
            pipeline.stop()
            reference.stop()
            spacy.stop()
            if elastic is not None:
                elastic.stop()
                with contextlib.suppress(Exception):  # the figures matter more than the cleanup
                    elastic.drop_indices()
            if node is not None:
                node.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ref_s = sum(r["reference"] for r in rounds)
    pipe_s = sum(r["pipeline"] for r in rounds)
    ratio = ref_s / pipe_s
    p50 = statistics.median(latencies)
    p95 = sorted(latencies)[max(0, round(0.95 * len(latencies)) - 1)]
    result = {
        "docs": len(paths),
        "words": n_words,
        "processes": processes,
        "reference_docs_per_s": round(len(paths) / ref_s, 2),
        "rounds": len(rounds),
        "round_ratio_min": round(min(r["reference"] / r["pipeline"] for r in rounds), 3),
        "round_ratio_max": round(max(r["reference"] / r["pipeline"] for r in rounds), 3),
        "pipeline_docs_per_s": round(len(paths) / pipe_s, 2),
        "reference_cpu_ms_per_doc": round(1000 * sum(cpu["reference"].values()) / len(paths), 1),
        "pipeline_cpu_ms_per_doc": round(1000 * sum(cpu["pipeline"].values()) / len(paths), 1),
        # Where each side's CPU goes: pool processes (the stages; for the pipeline also the
        # index writes and the tasks' own work), workers' main processes, watcher, Redis.
        **{
            f"{side}_cpu_{name}": round(1000 * used / len(paths), 1)
            for side in cpu
            for name, used in cpu[side].items()
        },
        "cpu_ratio": round(sum(cpu["reference"].values()) / sum(cpu["pipeline"].values()), 3),
        "spacy_docs_per_s": round(len(paths) / sum(r["spacy"] for r in rounds), 2),
        "spacy_cpu_ms_per_doc": round(1000 * sum(cpu["spacy"].values()) / len(paths), 1),
        # The pipeline's CPU (all its processes) per bare spaCy's, same documents.
        "cpu_vs_spacy": round(cpu_vs(cpu, "pipeline", "spacy"), 3),
        # Shared components, per document of the measured rounds (for the scale-out plan in
        # docs/PRODUCTION.md): Redis's CPU, memory it kept and bytes through its socket
        # (the bench's polls of the ledger included: a few hundred bytes per document).
        "redis_cpu_ms_per_doc": round(1000 * cpu["pipeline"]["redis"] / len(paths), 2),
        "redis_mem_bytes_per_doc": round(
            (redis_after["used_memory"] - redis_before["used_memory"]) / len(paths)
        ),
        "redis_net_bytes_per_doc": round(
            sum(redis_after[k] - redis_before[k] for k in ("total_net_input_bytes", "total_net_output_bytes"))
            / len(paths)
        ),
        "redis_commands_per_doc": round(
            (redis_after["total_commands_processed"] - redis_before["total_commands_processed"]) / len(paths),
            1,
        ),
        # Which commands they are (calls per document, the most called first).
        "redis_commands_top": top_commands(redis_before, redis_after, len(paths)),
        **sqlite_write,
        "reference_cpu_vs_spacy": round(cpu_vs(cpu, "reference", "spacy"), 3),
        "ratio": round(ratio, 3),
        "latency_p50_s": round(p50, 3),
        "latency_p95_s": round(p95, 3),
        "worker_rss_mib": round(rss, 1),
        **big,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    last = (
        f"ratio {ratio:.3f} latency_p50 {p50:.3f} latency_p95 {p95:.3f} worker_rss_mib {rss:.0f}"
        f" cpu_vs_spacy {cpu_vs(cpu, 'pipeline', 'spacy'):.3f}"
    )
    if big:
        last += f" big_input_rss_mib {big['big_input_rss_mib']:.0f}"
    if elastic is not None:
        es_s = sum(r["elasticsearch"] for r in rounds)
        es_cpu = cpu["elasticsearch"].get("cluster")
        result.update(
            {
                "es_docs_per_s": round(len(paths) / es_s, 2),
                "es_side_cpu_ms_per_doc": round(1000 * sum(cpu["elasticsearch"].values()) / len(paths), 1),
                "es_ratio": round(pipe_s / es_s, 3),
                # The node's CPU split: its own work, the JVM compiling hot code, the collector.
                **{
                    f"es_{name}_cpu_ms_per_doc": round(1000 * used / len(paths), 1)
                    for name, used in sorted(node_threads.items())
                },
                "es_node_warmup_docs": len(node_warmup),
                **{
                    f"es_node_warmup_{name}_cpu_ms_per_doc": round(1000 * used / len(node_warmup), 1)
                    for name, used in sorted(node_warm.items())
                    if node_warmup
                },
                "es_round_ratio_min": round(min(r["pipeline"] / r["elasticsearch"] for r in rounds), 3),
                "es_round_ratio_max": round(max(r["pipeline"] / r["elasticsearch"] for r in rounds), 3),
                "es_states": es_states,
                "embedded_states": sqlite_states,
                "es_documents": es_docs,
                "embedded_documents": sqlite_docs,
            }
        )
        cluster = f"{1000 * es_cpu / len(paths):.1f}" if es_cpu is not None else "n/a"
        last += f" es_ratio {pipe_s / es_s:.3f} es_cluster_cpu_ms_per_doc {cluster}"
        if es_states != sqlite_states or "failed" in es_states or es_docs != sqlite_docs:
            print(
                f"warning: Elasticsearch side not exactly once: states {es_states}, "
                f"{es_docs} documents against {sqlite_docs} embedded",
                file=sys.stderr,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(f"{'measure':<28}{'value':>12}")
    for key, value in result.items():
        print(f"{key:<28}{value!s:>12}")
    print(last)


if __name__ == "__main__":
    main()
