"""Cross-document claim groups shared by every worker, in Redis (does I/O).

Redis is the one real-time place grouping reads from: Elasticsearch search sees a write
only after a refresh, and SQLite's transaction is not shared with Elasticsearch. Keys
(prefix `newsflow:claims`), one per claim, document, group, speaker and match key, so
that each family can be given a TTL of its own:

    <p>:c:<claim key>               string: the claim's speaker, text, outlet, group, conflict,
                                    figures (a compact JSON list, `_dump`; older versions wrote
                                    a JSON object with every field named: still read)
    <p>:d:<doc id>                  set: the document's claims' spans, "<start>-<end>" (what a
                                    rewrite replaces; older versions kept whole claim keys: read too)
    <p>:g:<group>                   set: the group's member claim keys
    <p>:m:<speaker key>             set: the speaker's claim keys (counted; read when small)
    <p>:k:<speaker key>:<match key> sorted set: the speaker's claim keys filed under that
                                    `grouping.match_keys` key, scored by the plan's generation
    <p>:lock:<speaker key>          string: the token of the writer planning for that speaker
    <p>:gen                         counter: one generation per plan
    <p>:arrived                     sorted set: doc id -> when its claims were filed

A document's claims are pruned once it was filed more than the retention window ago
(`prune`, pipeline/redis/retention.py): they leave their speaker's postings and their
groups (the other members keep their group ids), under the speakers' locks. A later
claim no longer groups with them; the claims table keeps them as they were.

(Match keys are words or "<value>|<unit word>", never with a ":", so the last ":" of a
k: key ends the speaker.) `planning(docs)` locks the speakers a batch touches, reads
what the batch can affect (`_neighbourhood`), plans it (`plan.plan_claims`, pure),
lets the caller persist the plan in the claims table, and only then files it here, so
the registry never runs ahead of the table: a plan whose write fails is planned again
by the retry from the same state, and nothing it would have changed is lost.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import redis

from pipeline.claims.grouping import ClaimRef, match_keys, speaker_key
from pipeline.claims.plan import ClaimsPlan, StoredClaim, plan_claims
from pipeline.claims.records import claim_ref
from pipeline.document import Document, Figure
from pipeline.errors import TransientError
from pipeline.redis.errors import unavailable
from pipeline.redis.retention import Arrivals, Retention

# A speaker with this many claims or fewer is regrouped whole (exact, whatever the order).
# Beyond that, regrouping everything on every write grows with the square of the
# speaker's claims (measured on SQLite: 83 ms per write after only 150 documents, 25 ms
# with the bound at 40); then only the batch's claims, for each of them the CANDIDATES
# claims sharing most of its match keys, and every member of these claims' groups and of
# the documents' old groups are regrouped: bounded work, exact within that neighbourhood.
EXACT_REGROUP_MAX = 20
CANDIDATES = 30
# The newest claim keys read per match key: a word every statement of a speaker uses
# would otherwise make each lookup read all of them (the posting grows with the corpus).
POSTINGS = 200
# The lock covers reading, planning, the claims table's write and filing the plan here
# (tens of milliseconds; an Elasticsearch write under load, seconds). A writer that
# dies holding it delays the speaker's next writers by at most LOCK_TTL_MS; one that
# outlives it cannot file its plan (`_COMMIT` checks the tokens) and is retried.
LOCK_TTL_MS = 30_000
LOCK_WAIT_S = 15.0

# Release the locks that still hold our tokens (not those another writer has taken since).
_RELEASE = """
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[i] then redis.call('del', key) end
end
return 0
"""
# File a plan if every lock still holds our token: ARGV[#KEYS + 1] is a JSON list of
# Redis commands ([name, key, args...]).
_COMMIT = """
for i, key in ipairs(KEYS) do
  if redis.call('get', key) ~= ARGV[i] then return 0 end
end
for _, command in ipairs(cjson.decode(ARGV[#KEYS + 1])) do redis.call(unpack(command)) end
return 1
"""


class ClaimGroups:
    def __init__(
        self, client: redis.Redis, *, prefix: str = "newsflow:claims", retention: Retention | None = None
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.arrivals = Arrivals(client, self._key("arrived"), retention or Retention())
        self._release = client.register_script(_RELEASE)
        self._commit = client.register_script(_COMMIT)

    @contextlib.contextmanager
    def planning(self, docs: Sequence[Document]) -> Iterator[ClaimsPlan]:
        """The plan for writing `docs`; persist it inside the block (`store.apply(plan)`).

        On a clean exit the registry files the plan; if the block raises, the registry
        is left as it was and the locks are released. Raises TransientError when Redis
        is unreachable or a lock cannot be had within LOCK_WAIT_S.
        """
        with unavailable("the claim groups"):
            self._maybe_prune()  # first (holding no lock): claims past the window group no more
            with self._locked(docs) as (tokens, stored):
                plan = plan_claims(docs, stored, gen=int(self.redis.incr(self._key("gen"))))
                yield plan
                self._file(plan, stored, docs, tokens)

    # -- retention -------------------------------------------------------------
    def prune(self, limit: int | None = None) -> int:
        """Unfile the claims of the documents filed before the window (under their speakers'
        locks, as a plan would): they leave their speakers' postings and their groups.
        Returns how many documents were pruned."""
        with unavailable("the claim groups"):
            due = self.arrivals.due(limit)
            if not due:
                return 0
            docs = [Document(id=d, source="", raw_text="") for d in due]
            speakers = {speaker_key(s.ref.speaker) for s in self._previous(docs).values()}
            tokens = self._lock(speakers)
            try:
                due = self.arrivals.still_due(due)  # filed again meanwhile: kept
                docs = [Document(id=d, source="", raw_text="") for d in due]
                previous = self._previous(docs)
                if not {speaker_key(s.ref.speaker) for s in previous.values()} <= speakers:
                    return 0  # rewritten meanwhile with other speakers: the next turn
                commands: list[list[Any]] = [c for claim in previous.values() for c in self._unfile(claim)]
                commands += [["DEL", self._key("d", d)] for d in due]
                if due:
                    commands.append(["ZREM", self._key("arrived"), *due])
                if commands and not self._commit(
                    keys=list(tokens), args=[*tokens.values(), json.dumps(commands)]
                ):
                    return 0  # a lock expired: the next turn
            finally:
                self._release(keys=list(tokens), args=list(tokens.values()))
        return len(due)

    def _maybe_prune(self) -> None:
        if self.arrivals.turn():
            try:
                self.prune()
            except TransientError:
                pass  # a speaker locked for long: pruning waits for the next turn, not the write
            finally:
                self.arrivals.release()

    # -- locking ---------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, docs: Sequence[Document]) -> Iterator[tuple[dict[str, str], dict[str, StoredClaim]]]:
        """Lock every speaker the batch touches (its claims' and its documents' previous
        claims'), then read what the batch can affect."""
        speakers = {speaker_key(claim_ref(doc, c).speaker) for doc in docs for c in doc.claims}
        previous = self._previous(docs)
        speakers |= {speaker_key(s.ref.speaker) for s in previous.values()}
        tokens = self._lock(speakers)
        try:
            previous = self._previous(docs)  # again, under the locks
            if not {speaker_key(s.ref.speaker) for s in previous.values()} <= speakers:
                raise TransientError("a document was rewritten meanwhile with other speakers; retry")
            yield tokens, self._neighbourhood(docs, previous)
        finally:
            self._release(keys=list(tokens), args=list(tokens.values()))

    def _lock(self, speakers: Iterable[str]) -> dict[str, str]:
        """Lock key -> our token. Taken in sorted order: no two writers can each hold a lock
        the other is waiting for."""
        tokens: dict[str, str] = {}
        deadline = time.monotonic() + LOCK_WAIT_S
        try:
            for speaker in sorted(speakers):
                key, token = self._key("lock", speaker), secrets.token_hex(8)
                pause = 0.002
                while not self.redis.set(key, token, nx=True, px=LOCK_TTL_MS):
                    if time.monotonic() > deadline:
                        raise TransientError(f"claim groups of {speaker!r} locked for {LOCK_WAIT_S:.0f} s")
                    time.sleep(pause)
                    pause = min(pause * 2, 0.05)
                tokens[key] = token
        except BaseException:
            self._release(keys=list(tokens), args=list(tokens.values()))
            raise
        return tokens

    # -- reading ---------------------------------------------------------------
    def _previous(self, docs: Sequence[Document]) -> dict[str, StoredClaim]:
        """The claims the registry holds for these documents (their previous versions)."""
        pipe = self.redis.pipeline(transaction=False)
        for doc in docs:
            pipe.smembers(self._key("d", doc.id))
        replies = pipe.execute()
        return self._claims(
            _claim_key(doc.id, _text(k)) for doc, keys in zip(docs, replies, strict=True) for k in keys
        )

    def _neighbourhood(
        self, docs: Sequence[Document], previous: dict[str, StoredClaim]
    ) -> dict[str, StoredClaim]:
        """The stored claims the batch can affect: the documents' previous claims; all the
        claims of a speaker with up to EXACT_REGROUP_MAX, else for each new claim the
        CANDIDATES sharing most of its match keys; and every member of their groups."""
        batch = {doc.id for doc in docs}
        new: dict[str, list[ClaimRef]] = defaultdict(list)
        for doc in docs:
            for c in doc.claims:
                ref = claim_ref(doc, c)
                new[speaker_key(ref.speaker)].append(ref)
        replaced = Counter(speaker_key(s.ref.speaker) for s in previous.values())
        speakers = sorted(new)
        pipe = self.redis.pipeline(transaction=False)
        for speaker in speakers:
            pipe.scard(self._key("m", speaker))
        exact: list[str] = []
        bounded: list[str] = []
        for speaker, count in zip(speakers, pipe.execute(), strict=True):
            whole = count - replaced[speaker] + len(new[speaker]) <= EXACT_REGROUP_MAX
            (exact if whole else bounded).append(speaker)
        pipe = self.redis.pipeline(transaction=False)
        for speaker in exact:
            pipe.smembers(self._key("m", speaker))
        wanted = {_text(k) for keys in pipe.execute() for k in keys}
        wanted |= self._candidates([(s, r) for s in bounded for r in new[s]], batch)
        stored = previous | self._claims(wanted - set(previous))
        pipe = self.redis.pipeline(transaction=False)
        groups = sorted({s.group for s in stored.values() if s.group})
        for group in groups:
            pipe.smembers(self._key("g", group))
        members = {_text(k) for keys in pipe.execute() for k in keys}
        return stored | self._claims(members - set(stored))

    def _candidates(self, refs: Sequence[tuple[str, ClaimRef]], batch: set[str]) -> set[str]:
        """For each (speaker, new claim): the CANDIDATES other documents' claims sharing
        most of its match keys (at least as many as grouping needs), among the newest
        POSTINGS per key."""
        queries = []  # (how many keys must be shared, how many keys were looked up)
        pipe = self.redis.pipeline(transaction=False)
        for speaker, ref in refs:
            keys, least = match_keys(ref)
            if len(keys) < least:
                continue  # shares too little with anything to group
            queries.append((least, len(keys)))
            for k in sorted(keys):
                pipe.zrevrange(self._key("k", speaker, k), 0, POSTINGS - 1)
        replies = iter(pipe.execute())
        found: set[str] = set()
        for least, n in queries:
            postings = (map(_text, next(replies)) for _ in range(n))
            shared = Counter(k for keys in postings for k in keys if _doc_of(k) not in batch)
            ranked = sorted((-count, k) for k, count in shared.items() if count >= least)
            found |= {k for _, k in ranked[:CANDIDATES]}
        return found

    def _claims(self, keys: Iterable[str]) -> dict[str, StoredClaim]:
        keys = sorted(set(keys))
        if not keys:
            return {}
        raw = self.redis.mget([self._key("c", k) for k in keys])
        return {k: _load(k, v) for k, v in zip(keys, raw, strict=True) if v is not None}

    # -- filing ----------------------------------------------------------------
    def _file(
        self,
        plan: ClaimsPlan,
        stored: dict[str, StoredClaim],
        docs: Sequence[Document],
        tokens: dict[str, str],
    ) -> None:
        """File the plan in one script, if the locks are still ours (else TransientError:
        the retry plans again from the registry as it is)."""
        commands: list[list[Any]] = []
        for key in plan.deleted:
            commands += self._unfile(stored[key])
        for key, claim in plan.claims.items():
            old = stored.get(key)
            if old == claim:
                continue  # only its group's outlets or documents changed: not kept here
            if old is None or old.ref != claim.ref:  # new, or rewritten with another speaker
                if old is not None:
                    commands += self._unfile(old)
                commands += self._index(claim, plan.gen)
            elif old.group != claim.group:
                commands += [
                    ["SREM", self._key("g", old.group), key],
                    ["SADD", self._key("g", claim.group), key],
                ]
            commands.append(["SET", self._key("c", key), _dump(claim)])
        for doc in {doc.id: doc for doc in docs}.values():
            keys = sorted(k for k, c in plan.claims.items() if c.ref.doc_id == doc.id)
            commands.append(["DEL", self._key("d", doc.id)])
            if keys:
                commands.append(["SADD", self._key("d", doc.id), *(_span(doc.id, k) for k in keys)])
                commands.append(
                    ["ZADD", self._key("arrived"), "GT", repr(self.arrivals.retention.clock()), doc.id]
                )
        if commands and not self._commit(keys=list(tokens), args=[*tokens.values(), json.dumps(commands)]):
            raise TransientError("claim groups lock expired before the plan was filed; retry")

    def _index(self, claim: StoredClaim, gen: int) -> list[list[Any]]:
        speaker, key = speaker_key(claim.ref.speaker), claim.ref.key
        commands: list[list[Any]] = [
            ["SADD", self._key("m", speaker), key],
            ["SADD", self._key("g", claim.group), key],
        ]
        for k in sorted(match_keys(claim.ref)[0]):
            commands.append(["ZADD", self._key("k", speaker, k), str(gen), key])
        return commands

    def _unfile(self, claim: StoredClaim) -> list[list[Any]]:
        speaker, key = speaker_key(claim.ref.speaker), claim.ref.key
        commands: list[list[Any]] = [
            ["DEL", self._key("c", key)],
            ["SREM", self._key("m", speaker), key],
            ["SREM", self._key("g", claim.group), key],
        ]
        for k in sorted(match_keys(claim.ref)[0]):
            commands.append(["ZREM", self._key("k", speaker, k), key])
        return commands

    def _key(self, family: str, *parts: str) -> str:
        return ":".join((self.prefix, family, *parts))


def _doc_of(claim_key: str) -> str:
    return claim_key.rsplit(":", 1)[0]  # "<doc id>:<start>-<end>"


def _span(doc_id: str, claim_key: str) -> str:
    """A claim key as its document's set keeps it: the span alone ("<start>-<end>", no ":")
    when the key is "<doc id>:<span>", else the whole key."""
    head, _, span = claim_key.rpartition(":")
    return span if head == doc_id else claim_key


def _claim_key(doc_id: str, member: str) -> str:
    """The claim key of a member of a document's set: a span, or (as older versions wrote
    them all) a whole key, which has a ":"."""
    return member if ":" in member else f"{doc_id}:{member}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _dump(claim: StoredClaim) -> str:
    """The claim record, compact: `[speaker, text, outlet, group, conflict, figures]` (a
    list, no spaces; figures `[text, value, unit, modifier]`). The claim key and its
    document are the Redis key's own (`<p>:c:<doc id>:<start>-<end>`); a document id that
    differs from the key's follows as a seventh item."""
    ref = claim.ref
    record: list[Any] = [
        ref.speaker,
        ref.text,
        claim.outlet,
        claim.group,
        int(claim.conflict),
        [[f.text, f.value, f.unit, f.modifier] for f in ref.figures],
    ]
    if ref.doc_id != _doc_of(ref.key):
        record.append(ref.doc_id)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _load(key: str, raw: bytes | str) -> StoredClaim:
    """A claim record, compact (`_dump`) or as versions before it wrote it (a JSON object
    with every field named)."""
    d = json.loads(raw)
    if isinstance(d, dict):  # the older format: filed under its own key, so d["key"] == key
        d = [d["speaker"], d["text"], d["outlet"], d["group"], d["conflict"], d["figures"], d["doc"]]
    speaker, text, outlet, group, conflict, figs = d[:6]
    doc_id = d[6] if len(d) > 6 else _doc_of(key)
    figures = tuple(Figure(text=t, value=v, unit=u, modifier=m) for t, v, u, m in figs)
    ref = ClaimRef(key=key, doc_id=doc_id, speaker=speaker, text=text, figures=figures)
    return StoredClaim(ref, outlet=outlet, group=group, conflict=bool(conflict))
