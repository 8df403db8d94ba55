"""Cross-document claim groups shared by every worker, in Redis (does I/O).

Redis is the one real-time place grouping reads from: Elasticsearch search sees a write
only after a refresh, and SQLite's transaction is not shared with Elasticsearch. Keys
(prefix `newsflow:claims`), one per document, group, speaker and match key, so that each
family can be given a TTL of its own:

    <p>:r:<doc id>                  hash: the document's claims, "<o>" (the claim's number in
                                    the document) -> its span and what grouping reads of it:
                                    speaker, its clauses' content words, group, conflict,
                                    figures' values and units (a compact JSON list, `_dump`:
                                    the group a claim heads as 0, and a trailing 0 group, no
                                    conflict and no figures left out);
                                    "@" -> the document's outlet; "#" -> its number N (base 36).
                                    A record longer than CHUNK (64) bytes is kept in pieces:
                                    "<o>" (prefixed with their count), "<o>.1", "<o>.2"...,
                                    so that the hash stays a listpack
    <p>:i:<xx>                      hash, split over 256 (pipeline/redis/split.py): N -> doc
                                    id (`retention.arrival_name`: a 32-hex id in 16 bytes);
                                    versions before kept one hash, `<p>:i`, of the ids as
                                    text: still read
    <p>:g:<group>                   set: the group's members, each as its ref N * 4096 + o;
                                    only for a group of two or more (most claims stand alone)
    <p>:m:<speaker key>             set: the speaker's claims' refs (counted; read when small),
                                    and "0" (POSTED, never a ref) while its claims are posted
    <p>:p:<speaker key>:<match key> set: the refs of the speaker's newest POSTINGS claims
                                    filed under that `grouping.match_keys` key (the newest:
                                    the highest refs, their documents' numbers being given in
                                    order), which Redis keeps as an intset, 4 bytes a ref;
                                    kept only for a speaker that outgrew EXACT_REGROUP_MAX
                                    (POSTED): a smaller one is read whole, postings unused.
                                    Versions before kept a sorted set, `<p>:k:...`, scored by
                                    the plan's generation: still read, and taken out as its
                                    claims leave
    <p>:lock:<speaker key>          string: the token of the writer planning for that speaker
    <p>:gen                         counter: one generation per plan
    <p>:n                           counter: one number per document filed
    <p>:arrived:<xx>                sorted sets: doc id (`retention.arrival_name`) -> when its
                                    claims were filed (`retention.Arrivals`)

A claim is named in the sets and postings by its ref, an integer (its document's number
and its own in the document), not by its claim key (`<doc id>:<start>-<end>`, 42 bytes):
a claim sits in one group, one speaker's set and a posting per content word, so the key
was the bulk of them; and Redis keeps a set of integers as an intset and a small sorted
set of them as a listpack, a few bytes a member (a set of strings costs some 50). `r:`
keeps the claim's record where its document is, in one hash (not a key per claim), with
the outlet once; and of the claim's text only what grouping compares, its clauses'
content words, stemmed (`grouping.pack_units`): the claims table has the text.

Earlier, a claim's ref was "N.<start>-<end>" and its field in the hash its span (the
record without the span; with the claim's text in the first of them). Older versions
filed each claim under a key of its own (`<p>:c:<claim key>`: a compact JSON list, or
before that an object with every field named), a document's claims in a set
(`<p>:d:<doc id>`: spans, or before that whole claim keys), and whole claim keys (with a
":") in the sets and postings. A registry they filled is read as it is: a claim they
filed is filed again in this form when a plan changes it or rewrites its document; the
others leave with the window. Nothing to run on upgrade.

A document's claims are pruned once it was filed more than the retention window ago
(`prune`, pipeline/redis/retention.py): they leave their speaker's postings and their
groups (the other members keep their group ids), under the speakers' locks. A later
claim no longer groups with them; the claims table keeps them as they were.

Postings are most of what a claim costs here, and most speakers are quoted in a few
articles a month: their claims are read whole (EXACT_REGROUP_MAX) and never looked up by
key. So a speaker's claims are posted from the plan that takes it past the bound, which
reads them all (at most EXACT_REGROUP_MAX) anyway, picks the same candidates the
postings would give (`_candidates_among`), and posts them with the new ones; from then on
every new claim of it is posted, and "0" in its `m:` set says so, until pruning takes it
back to the bound or below (`_unpost`: its postings go, and it is read whole again). A
speaker an older version filed (every claim posted, no "0") with more claims than the
bound is taken as posted; one with fewer keeps its postings until its claims leave.

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
import re
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from pipeline.claims.grouping import (
    ClaimRef,
    group_id,
    match_keys,
    pack_units,
    speaker_key,
    units_of,
    unpack_units,
)
from pipeline.claims.plan import ClaimsPlan, StoredClaim, plan_claims
from pipeline.claims.records import claim_ref
from pipeline.document import Document, Figure
from pipeline.errors import TransientError
from pipeline.redis import claim_words
from pipeline.redis.errors import unavailable
from pipeline.redis.retention import Arrivals, Retention, arrival_doc, arrival_name
from pipeline.redis.split import SplitHash

# A speaker with this many claims or fewer is regrouped whole (exact, whatever the order).
# Beyond that, regrouping everything on every write grows with the square of the
# speaker's claims (measured on SQLite: 83 ms per write after only 150 documents, 25 ms
# with the bound at 40); then only the batch's claims, for each of them the CANDIDATES
# claims sharing most of its match keys, and every member of these claims' groups and of
# the documents' old groups are regrouped: bounded work, exact within that neighbourhood.
EXACT_REGROUP_MAX = 20
CANDIDATES = 30
# The newest claims read per match key: a word every statement of a speaker uses
# would otherwise make each lookup read all of them (the posting grows with the corpus).
# Older ones are never read, so a posting keeps no more (`_post`): a set of integers, which
# Redis keeps as an intset up to set-max-intset-entries (512), 4 bytes a ref. (Before, a
# sorted set of 200: past 128 members a skiplist, some 113 bytes a member; then of 127, a
# listpack, some 11.)
POSTINGS = 127
# The lock covers reading, planning, the claims table's write and filing the plan here
# (tens of milliseconds; an Elasticsearch write under load, seconds). A writer that
# dies holding it delays the speaker's next writers by at most LOCK_TTL_MS; one that
# outlives it cannot file its plan (`_COMMIT` checks the tokens) and is retried.
LOCK_TTL_MS = 30_000
LOCK_WAIT_S = 15.0

# A claim's ref: its document's number N and its own o in the document, N * PER_DOC + o.
# Before, "<N>.<start>-<end>" (_SPAN_REF); anything else in a set or posting is a whole
# claim key, as older versions filed them.
PER_DOC = 4096
_SPAN_REF = re.compile(r"([0-9a-z]+)\.(\d+-\d+)")
_SPAN = re.compile(r"\d+-\d+")
_NUMBER, _OUTLET = "#", "@"  # the fields of a document's hash that are not claims
POSTED = "0"  # in a speaker's `m:` set: its claims are posted (no claim's ref is 0: N >= 1)
# A record longer than this is kept in pieces of at most this many bytes: "<o>" the first,
# prefixed with how many there are, then "<o>.1", "<o>.2"... Redis keeps a small hash as a
# listpack only while each of its values is at most 64 bytes (hash-max-listpack-value)
# and it has at most 128 fields: a document's hash of whole records (most are longer) is a
# hash table, some 50% above the records' own bytes.
CHUNK = 64
_CHUNK_FIELD = re.compile(r"(\d+)\.(\d+)")
_COUNT = re.compile(rb"\d+")
# A record's group, conflict flag and figures when left out at its end (`_dump`): the group
# its claim heads (0), no conflict, no figures.
_RECORD_DEFAULTS: list[Any] = [0, 0, []]

# Release the locks that still hold our tokens (not those another writer has taken since).
_RELEASE = """
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[i] then redis.call('del', key) end
end
return 0
"""
# File a plan if every lock still holds our token: ARGV[#KEYS + 1] is a JSON list of
# Redis commands ([name, key, args...]); ["TIDY", key] deletes a set left with one
# member, ["TIDY", key, member] one left with that member only; ["TRIM", key, n] keeps
# the n highest refs of a set of refs; ["HEX", name, key, args...] runs the command with
# its last argument from hex (bytes: JSON carries text).
_COMMIT = """
for i, key in ipairs(KEYS) do
  if redis.call('get', key) ~= ARGV[i] then return 0 end
end
for _, command in ipairs(cjson.decode(ARGV[#KEYS + 1])) do
  if command[1] == 'HEX' then  -- a command whose last argument is bytes, sent as hex
    local last = command[#command]
    command[#command] = (last:gsub('%x%x', function(x) return string.char(tonumber(x, 16)) end))
    redis.call(unpack(command, 2))
  elseif command[1] == 'TRIM' then  -- keep the highest refs of a posting, at most ARGV's count
    local n = tonumber(command[3])
    if redis.call('scard', command[2]) > n then
      local refs = redis.call('smembers', command[2])
      table.sort(refs, function(a, b) return tonumber(a) < tonumber(b) end)
      for i = 1, #refs - n do redis.call('srem', command[2], refs[i]) end
    end
  elseif command[1] == 'TIDY' then
    if redis.call('scard', command[2]) == 1
      and (command[3] == nil or redis.call('sismember', command[2], command[3]) == 1) then
      redis.call('del', command[2])
    end
  else
    redis.call(unpack(command))
  end
end
return 1
"""


@dataclass
class Filed:
    """Claims as the registry holds them: each by its claim key, the member that names it
    in the sets and postings (its integer ref; for a claim an earlier version filed, its
    "N.<span>" ref or its key), and the numbers of their documents."""

    claims: dict[str, StoredClaim] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)  # claim key -> member
    numbers: dict[str, str] = field(default_factory=dict)  # doc id -> N
    pieces: dict[str, int] = field(default_factory=dict)  # claim key -> its record's pieces
    # Of a plan's neighbourhood (`_neighbourhood`): the speakers whose claims are posted,
    # and of those, the ones this plan posts first, with every claim they had (`posting`).
    posted: set[str] = field(default_factory=set)
    posting: dict[str, tuple[StoredClaim, str]] = field(default_factory=dict)  # key -> (claim, member)

    def update(self, other: Filed) -> None:
        for key, claim in other.claims.items():
            self.claims.setdefault(key, claim)
            self.members.setdefault(key, other.members[key])
            self.pieces.setdefault(key, other.pieces.get(key, 1))
        for doc_id, n in other.numbers.items():
            self.numbers.setdefault(doc_id, n)

    def speakers(self) -> set[str]:
        return {speaker_key(s.ref.speaker) for s in self.claims.values()}


class ClaimGroups:
    def __init__(
        self, client: redis.Redis, *, prefix: str = "newsflow:claims", retention: Retention | None = None
    ) -> None:
        self.redis = client
        self.prefix = prefix
        self.arrivals = Arrivals(client, self._key("arrived"), retention or Retention())
        self.numbered = SplitHash(self._key("i"))
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
                plan = plan_claims(docs, stored.claims, gen=int(self.redis.incr(self._key("gen"))))
                yield plan
                self._file(plan, stored, docs, tokens)

    def stored(self, keys: Iterable[str]) -> dict[str, StoredClaim]:
        """The claims the registry holds, of those with these claim keys."""
        keys = sorted(set(keys))
        with unavailable("the claim groups"):
            filed = self._previous(sorted({k.rpartition(":")[0] for k in keys}))
        return {k: filed.claims[k] for k in keys if k in filed.claims}

    # -- retention -------------------------------------------------------------
    def prune(self, limit: int | None = None) -> int:
        """Unfile the claims of the documents filed before the window (under their speakers'
        locks, as a plan would): they leave their speakers' postings and their groups.
        Returns how many documents were pruned."""
        with unavailable("the claim groups"):
            due = self.arrivals.due(limit)
            if not due:
                return 0
            speakers = self._previous(due).speakers()
            tokens = self._lock(speakers)
            try:
                due = self.arrivals.still_due(due)  # filed again meanwhile: kept
                previous = self._previous(due)
                if not previous.speakers() <= speakers:
                    return 0  # rewritten meanwhile with other speakers: the next turn
                commands: list[list[Any]] = [
                    c for key in previous.claims for c in self._unfile(previous, key)
                ]
                for d in due:
                    commands += self._forget(d, previous.numbers.get(d))
                commands += self._unpost(previous)
                if commands and not self._commit(
                    keys=list(tokens), args=[*tokens.values(), json.dumps(commands)]
                ):
                    return 0  # a lock expired: the next turn
            finally:
                self._release(keys=list(tokens), args=list(tokens.values()))
        return len(due)

    def _unpost(self, leaving: Filed) -> list[list[Any]]:
        """Commands that unpost each posted speaker `leaving` takes back to EXACT_REGROUP_MAX
        claims or fewer (called under the speakers' locks). Such a speaker is read whole
        again (`_neighbourhood`), so its postings would be kept for nothing; the plan that
        takes it past the bound again posts it anew, as it did the first time
        (`crossing`). Without this, a speaker once past the bound stays posted while any
        claim of it is in the window, and the postings creep as more speakers pass it."""
        gone = Counter(speaker_key(c.ref.speaker) for c in leaving.claims.values())
        small = [
            speaker
            for speaker, (count, posted) in self._sizes(sorted(gone)).items()
            if posted and 0 < count - gone[speaker] <= EXACT_REGROUP_MAX
        ]
        if not small:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for speaker in small:
            pipe.smembers(self._key("m", speaker))
        left = {_text(m) for ms in pipe.execute() for m in ms} - {POSTED} - set(leaving.members.values())
        keys = {
            (speaker_key(c.ref.speaker), k)
            for c in self._claims(left).claims.values()
            for k in match_keys(c.ref)[0]
        }
        commands: list[list[Any]] = [["DEL", *self._postings(*sk)] for sk in sorted(keys)]
        return commands + [["SREM", self._key("m", speaker), POSTED] for speaker in small]

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
    def _locked(self, docs: Sequence[Document]) -> Iterator[tuple[dict[str, str], Filed]]:
        """Lock every speaker the batch touches (its claims' and its documents' previous
        claims'), then read what the batch can affect."""
        ids = list({doc.id: None for doc in docs})
        speakers = {speaker_key(claim_ref(doc, c).speaker) for doc in docs for c in doc.claims}
        speakers |= self._previous(ids).speakers()
        tokens = self._lock(speakers)
        try:
            previous = self._previous(ids)  # again, under the locks
            if not previous.speakers() <= speakers:
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
    def _previous(self, doc_ids: Sequence[str]) -> Filed:
        """The claims the registry holds for these documents (their previous versions)."""
        pipe = self.redis.pipeline(transaction=False)
        for doc_id in doc_ids:
            pipe.hgetall(self._key("r", doc_id))
            pipe.smembers(self._key("d", doc_id))  # as older versions filed them
        replies = iter(pipe.execute())
        out, older = Filed(), []
        for doc_id in doc_ids:
            out.update(_documents_claims(doc_id, next(replies)))
            older += [_claim_key(doc_id, _text(m)) for m in next(replies)]
        out.update(self._older([k for k in older if k not in out.claims]))
        return out

    def _neighbourhood(self, docs: Sequence[Document], previous: Filed) -> Filed:
        """The stored claims the batch can affect: the documents' previous claims; all the
        claims of a speaker with up to EXACT_REGROUP_MAX, else for each new claim the
        CANDIDATES sharing most of its match keys; and every member of their groups."""
        new: dict[str, list[ClaimRef]] = defaultdict(list)
        for doc in docs:
            for c in doc.claims:
                ref = claim_ref(doc, c)
                new[speaker_key(ref.speaker)].append(ref)
        replaced = Counter(speaker_key(s.ref.speaker) for s in previous.claims.values())
        exact: list[str] = []
        bounded: list[str] = []
        crossing: list[str] = []  # past the bound with this plan: read whole, then posted
        posted: set[str] = set()
        for speaker, (count, flag) in self._sizes(sorted(new)).items():
            if flag or count > EXACT_REGROUP_MAX:  # the latter: posted by an older version
                posted.add(speaker)
            whole = count - replaced[speaker] + len(new[speaker]) <= EXACT_REGROUP_MAX
            (exact if whole else bounded if speaker in posted else crossing).append(speaker)
        pipe = self.redis.pipeline(transaction=False)
        for speaker in [*exact, *crossing]:
            pipe.smembers(self._key("m", speaker))
        replies = iter(pipe.execute())
        wanted = {_text(m) for _ in exact for m in next(replies)} - {POSTED}
        batch = {doc.id for doc in docs}
        wanted |= self._candidates([(s, r) for s in bounded for r in new[s]], batch, previous)
        posting = self._claims({_text(m) for _ in crossing for m in next(replies)} - {POSTED})
        wanted |= _candidates_among(posting, [(s, r) for s in crossing for r in new[s]], batch)
        stored = Filed(
            posted=posted | set(crossing),
            posting={k: (c, posting.members[k]) for k, c in posting.claims.items()},
        )
        stored.update(previous)
        stored.update(self._claims(wanted - set(stored.members.values())))
        pipe = self.redis.pipeline(transaction=False)
        groups = sorted({s.group for s in stored.claims.values() if s.group})
        for group in groups:
            pipe.smembers(self._key("g", group))
        members = {_text(m) for ms in pipe.execute() for m in ms}
        stored.update(self._claims(members - set(stored.members.values())))
        return stored

    def _sizes(self, speakers: Sequence[str]) -> dict[str, tuple[int, bool]]:
        """Each speaker's claims in the registry, and whether they are posted."""
        pipe = self.redis.pipeline(transaction=False)
        for speaker in speakers:
            pipe.scard(self._key("m", speaker))
            pipe.sismember(self._key("m", speaker), POSTED)
        replies = iter(pipe.execute())
        out = {}
        for speaker in speakers:
            count, posted = next(replies), bool(next(replies))
            out[speaker] = (count - posted, posted)
        return out

    def _candidates(self, refs: Sequence[tuple[str, ClaimRef]], batch: set[str], previous: Filed) -> set[str]:
        """For each (speaker, new claim): the CANDIDATES other documents' claims sharing
        most of its match keys (at least as many as grouping needs), among the newest
        POSTINGS per key."""
        ours = {n for doc_id, n in previous.numbers.items() if doc_id in batch}
        queries = []  # (how many keys must be shared, how many keys were looked up)
        pipe = self.redis.pipeline(transaction=False)
        for speaker, ref in refs:
            keys, least = match_keys(ref)
            if len(keys) < least:
                continue  # shares too little with anything to group
            queries.append((least, len(keys)))
            for k in sorted(keys):
                posting, older = self._postings(speaker, k)
                pipe.smembers(posting)
                pipe.zrevrange(older, 0, POSTINGS - 1)
        replies = iter(pipe.execute())
        found: set[str] = set()
        for least, n in queries:
            postings = ({*map(_text, next(replies)), *map(_text, next(replies))} for _ in range(n))
            shared = Counter(m for members in postings for m in members if not _in_batch(m, batch, ours))
            ranked = sorted((-count, m) for m, count in shared.items() if count >= least)
            found |= {m for _, m in ranked[:CANDIDATES]}
        return found

    def _claims(self, members: Iterable[str]) -> Filed:
        """The claims these members of sets and postings name (refs, or older claim keys)."""
        fields: dict[str, list[str]] = defaultdict(list)  # N -> fields of its document's hash
        older = []
        for m in sorted(set(members)):
            if m.isdigit():
                number, o = divmod(int(m), PER_DOC)
                fields[_base36(number)].append(str(o))
            elif found := _SPAN_REF.fullmatch(m):
                fields[found[1]].append(found[2])
            else:
                older.append(m)
        out = Filed()
        numbers = sorted(fields)
        if numbers:
            doc_ids = self.numbered.hmget(self.redis, numbers)
            known = [(n, arrival_doc(d)) for n, d in zip(numbers, doc_ids, strict=True) if d is not None]
            pipe = self.redis.pipeline(transaction=False)
            for n, doc_id in known:
                pipe.hmget(self._key("r", doc_id), [_NUMBER, _OUTLET, *fields[n]])
            read: list[tuple[str, dict[str, Any], list[str]]] = []
            rest = self.redis.pipeline(transaction=False)  # the other pieces of long records
            for (n, doc_id), values in zip(known, pipe.execute(), strict=True):
                number, outlet, *records = values
                if number is None or _text(number) != n:
                    continue  # pruned meanwhile
                found_fields = {f: raw for f, raw in zip(fields[n], records, strict=True) if raw is not None}
                more = [f"{f}.{i}" for f, raw in found_fields.items() for i in range(1, _pieces(raw))]
                read.append((doc_id, {_NUMBER: n, _OUTLET: outlet or b"", **found_fields}, more))
                rest.hmget(self._key("r", doc_id), more or ["-"])
            for (doc_id, found_fields, more), values in zip(
                read, rest.execute() if read else [], strict=True
            ):
                found_fields.update({f: raw for f, raw in zip(more, values, strict=False) if raw is not None})
                out.update(_documents_claims(doc_id, found_fields))
        out.update(self._older(older))
        return out

    def _older(self, keys: Sequence[str]) -> Filed:
        """Claims filed by older versions, each under its own key (`c:<claim key>`)."""
        out = Filed()
        if keys:
            raw = self.redis.mget([self._key("c", k) for k in keys])
            for k, v in zip(keys, raw, strict=True):
                if v is not None:
                    out.claims[k], out.members[k] = _load_older(k, v), k
        return out

    # -- filing ----------------------------------------------------------------
    def _file(
        self, plan: ClaimsPlan, stored: Filed, docs: Sequence[Document], tokens: dict[str, str]
    ) -> None:
        """File the plan in one script, if the locks are still ours (else TransientError:
        the retry plans again from the registry as it is)."""
        numbers = dict(stored.numbers)
        taken: dict[str, set[int]] = defaultdict(set)  # doc id -> the claim numbers it uses
        for key, member in stored.members.items():
            if member.isdigit():
                taken[stored.claims[key].ref.doc_id].add(int(member) % PER_DOC)
        commands: list[list[Any]] = []
        for key in plan.deleted:
            commands += self._unfile(stored, key)
        indexed: set[str] = set()  # claim keys this plan files anew
        refs: dict[str, str] = {}  # claim key -> its member, of the plan's claims
        written: dict[str, str] = {}  # doc id -> outlet, of the documents whose hash is written
        for key, claim in plan.claims.items():
            old, member = stored.claims.get(key), stored.members.get(key, "")
            current = member.isdigit()  # else filed by an earlier version: filed again
            same = old is not None and current and _content(old) == _content(claim)
            if same and _grouped(old) == _grouped(claim):
                refs[key] = member
                continue  # only its group's outlets or documents changed: not kept here
            doc_id = claim.ref.doc_id
            if doc_id not in numbers:
                numbers[doc_id] = _base36(int(self.redis.incr(self._key("n"))))
            if current:
                o = int(member) % PER_DOC
            else:
                o = min(set(range(len(taken[doc_id]) + 1)) - taken[doc_id])
                if o >= PER_DOC:
                    raise ValueError(f"document {doc_id} has more than {PER_DOC} claims")
                taken[doc_id].add(o)
            ref = refs[key] = str(int(numbers[doc_id], 36) * PER_DOC + o)
            if old is None or not same:  # new, rewritten, or filed by an earlier version
                if old is not None:
                    commands += self._unfile(stored, key)
                commands += self._index(claim, ref, posted=stored.posted)
                indexed.add(key)
            elif old.group != claim.group:
                commands.append(["SREM", self._key("g", old.group), ref])
            pieces = _pieces_of(_dump(claim))
            names = [str(o), *(f"{o}.{i}" for i in range(1, len(pieces)))]
            commands.append(
                [
                    "HSET",
                    self._key("r", doc_id),
                    *(x for pair in zip(names, pieces, strict=True) for x in pair),
                ]
            )
            before = stored.pieces.get(key, 1) if current else 1
            if before > len(pieces):  # the record was longer: its last pieces go
                commands.append(
                    ["HDEL", self._key("r", doc_id), *(f"{o}.{i}" for i in range(len(pieces), before))]
                )
            written[doc_id] = claim.outlet
        commands += self._groups(plan, stored, refs)
        for key, (claim, member) in sorted(stored.posting.items()):  # a speaker posted from now on
            if key not in indexed and key not in plan.deleted:
                for k in sorted(match_keys(claim.ref)[0]):
                    commands += self._post(speaker_key(claim.ref.speaker), k, member)
        for speaker in sorted(stored.posted):
            commands.append(["SADD", self._key("m", speaker), POSTED])
            commands.append(["TIDY", self._key("m", speaker), POSTED])  # if every claim of it left
        for doc_id, outlet in sorted(written.items()):
            commands.append(["HSET", self._key("r", doc_id), _NUMBER, numbers[doc_id], _OUTLET, outlet])
            n = numbers[doc_id]
            commands.append(["HEX", "HSET", self.numbered.part(n), n, arrival_name(doc_id).hex()])
        now = repr(self.arrivals.retention.clock())
        for doc_id in {doc.id: None for doc in docs}:
            commands.append(["DEL", self._key("d", doc_id)])  # older versions' set: refiled or deleted
            if any(c.ref.doc_id == doc_id for c in plan.claims.values()):
                key, name = self.arrivals.home(doc_id)
                commands.append(["HEX", "ZADD", key, "GT", now, name.hex()])
            else:  # a version with no claims
                commands += self._forget(doc_id, stored.numbers.get(doc_id))
        if commands and not self._commit(keys=list(tokens), args=[*tokens.values(), json.dumps(commands)]):
            raise TransientError("claim groups lock expired before the plan was filed; retry")

    def _index(self, claim: StoredClaim, ref: str, *, posted: set[str]) -> list[list[Any]]:
        speaker = speaker_key(claim.ref.speaker)
        commands: list[list[Any]] = [["SADD", self._key("m", speaker), ref]]
        if speaker in posted:
            for k in sorted(match_keys(claim.ref)[0]):
                commands += self._post(speaker, k, ref)
        return commands

    def _post(self, speaker: str, match_key: str, ref: str) -> list[list[Any]]:
        """File a claim under a match key, and drop what falls past the newest POSTINGS of
        it: nothing reads them (`_candidates`)."""
        posting, _ = self._postings(speaker, match_key)
        return [["SADD", posting, ref], ["TRIM", posting, POSTINGS]]

    def _postings(self, speaker: str, match_key: str) -> tuple[str, str]:
        """A speaker's posting of a match key: the set, and the sorted set versions before kept."""
        return self._key("p", speaker, match_key), self._key("k", speaker, match_key)

    def _groups(self, plan: ClaimsPlan, stored: Filed, refs: dict[str, str]) -> list[list[Any]]:
        """The sets of the groups the plan touched, as they are after it: a group of one
        has none (`_neighbourhood` reaches a group through its members, so the one member
        is read already). `stored` holds every member of every group it names, so each
        set is written whole: the members that stay, and those the plan adds. A member
        that leaves is taken out where it leaves (`_unfile`, or its new group)."""
        members: dict[str, set[str]] = defaultdict(set)
        for key, claim in stored.claims.items():
            if key not in plan.claims and key not in plan.deleted:
                members[claim.group].add(stored.members[key])
        for key, claim in plan.claims.items():
            members[claim.group].add(refs[key])
        touched = {c.group for c in plan.claims.values()}
        touched |= {stored.claims[k].group for k in [*plan.claims, *plan.deleted] if k in stored.claims}
        commands: list[list[Any]] = []
        for group in sorted(touched - {""}):
            if len(members[group]) > 1:
                commands.append(["SADD", self._key("g", group), *sorted(members[group])])
            else:
                commands.append(["DEL", self._key("g", group)])
        return commands

    def _unfile(self, filed: Filed, key: str) -> list[list[Any]]:
        claim, member = filed.claims[key], filed.members[key]
        speaker = speaker_key(claim.ref.speaker)
        if member == key:  # filed by an older version: its own key, and in its document's set
            commands: list[list[Any]] = [
                ["DEL", self._key("c", key)],
                ["SREM", self._key("d", claim.ref.doc_id), key.rpartition(":")[2], key],
            ]
        else:  # its field: its number in the document, or (earlier) its span
            field = str(int(member) % PER_DOC) if member.isdigit() else member.partition(".")[2]
            pieces = [f"{field}.{i}" for i in range(1, filed.pieces.get(key, 1))]
            commands = [["HDEL", self._key("r", claim.ref.doc_id), field, *pieces]]
        commands += [
            ["SREM", self._key("m", speaker), member],
            ["SREM", self._key("g", claim.group), member],
        ]
        for k in sorted(match_keys(claim.ref)[0]):
            posting, older = self._postings(speaker, k)
            commands += [["SREM", posting, member], ["ZREM", older, member]]
        commands += [["TIDY", self._key("m", speaker), POSTED], ["TIDY", self._key("g", claim.group)]]
        return commands

    def _forget(self, doc_id: str, number: str | None) -> list[list[Any]]:
        """A document with no claims filed any more: its hash, number, arrival and older set."""
        commands: list[list[Any]] = [
            ["DEL", self._key("r", doc_id)],
            ["DEL", self._key("d", doc_id)],
            *(["HEX", "ZREM", key, m.hex()] for key, m in self.arrivals.places(doc_id)),
        ]
        if number is not None:
            commands += [["HDEL", key, number] for key in (self.numbered.part(number), self.numbered.key)]
        return commands

    def _key(self, family: str, *parts: str) -> str:
        return ":".join((self.prefix, family, *parts))


def _in_batch(member: str, batch: set[str], numbers: set[str]) -> bool:
    if member.isdigit():
        return _base36(int(member) // PER_DOC) in numbers
    if found := _SPAN_REF.fullmatch(member):
        return found[1] in numbers
    return member.rsplit(":", 1)[0] in batch


def _candidates_among(filed: Filed, refs: Sequence[tuple[str, ClaimRef]], batch: set[str]) -> set[str]:
    """`ClaimGroups._candidates` over claims in hand (a speaker's, read whole) rather than
    its postings: for each (speaker, new claim), the CANDIDATES claims of other documents
    sharing most of its match keys, at least as many as grouping needs."""
    found: set[str] = set()
    for speaker, ref in refs:
        keys, least = match_keys(ref)
        if len(keys) < least:
            continue
        shared = Counter(
            {
                filed.members[k]: len(keys & match_keys(c.ref)[0])
                for k, c in filed.claims.items()
                if speaker_key(c.ref.speaker) == speaker and c.ref.doc_id not in batch
            }
        )
        ranked = sorted((-count, m) for m, count in shared.items() if count >= least)
        found |= {m for _, m in ranked[:CANDIDATES]}
    return found


def _span(ref: ClaimRef) -> str:
    """The claim's span, as its record in its document's hash keeps it. Claim keys are
    "<doc id>:<start>-<end>" (`records.claim_key`)."""
    head, _, span = ref.key.rpartition(":")
    if head != ref.doc_id or not _SPAN.fullmatch(span):
        raise ValueError(f"claim key {ref.key!r} is not '<doc id>:<start>-<end>'")
    return span


def _claim_key(doc_id: str, member: str) -> str:
    """The claim key of a member of an older version's document set: a span, or (as
    versions before it wrote them all) a whole key, which has a ":"."""
    return member if ":" in member else f"{doc_id}:{member}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, d = divmod(n, 36)
        out = digits[d] + out
        if not n:
            return out


def _content(claim: StoredClaim) -> list[Any]:
    """What a claim's record keeps that depends on the claim itself, not its group:
    speaker, its clauses' content words, its figures' values and units."""
    ref = claim.ref
    return [ref.speaker, pack_units(units_of(ref)), [[f.value, f.unit] for f in ref.figures]]


def _grouped(claim: StoredClaim | None) -> tuple[Any, ...]:
    """What else a claim's record, and its document's hash, keep of it."""
    return (claim.group, claim.conflict, claim.outlet) if claim else ()


def _dump(claim: StoredClaim) -> str:
    """A claim's record in its document's hash, compact: `[span, speaker, clauses, group,
    conflict, figures]` (a list, no spaces; clauses: each clause's content words, as
    `grouping.pack_units` writes them, the common ones as codes (`claim_words.encode`;
    records before were plain words, still read); figures: `[value, unit]`, what
    grouping compares).
    The document and outlet are the hash's: its key and "@"."""
    speaker, units, figures = _content(claim)
    # the group a claim heads (most claims stand alone) as 0, its id being theirs to compute
    group: str | int = 0 if claim.group == _own_group(claim.ref) else claim.group
    record = [_span(claim.ref), speaker, claim_words.encode(units), group, int(claim.conflict), figures]
    while len(record) > 3 and record[-1] in (0, []):
        record.pop()  # what is left out at the end reads as its default (`_RECORD_DEFAULTS`)
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _own_group(ref: ClaimRef) -> str:
    """The id of a group whose first claim is `ref` (`grouping.group_refs`)."""
    return group_id(speaker_key(ref.speaker), ref.key)


def _documents_claims(doc_id: str, fields: dict[Any, Any]) -> Filed:
    """A document's hash (`r:<doc id>`, or some of its fields) as claims. A field that is
    a span holds a record as the hash's earlier versions wrote it, without the span (its
    ref "N.<span>"), and with the claim's text in the first of them (figures `[text,
    value, unit, modifier]`)."""
    out = Filed()
    fields = {_text(k): v for k, v in fields.items()}
    if _NUMBER not in fields:
        return out
    number, outlet = _text(fields.pop(_NUMBER)), _text(fields.pop(_OUTLET, b""))
    out.numbers[doc_id] = number
    rest = {f: v for f, v in fields.items() if _CHUNK_FIELD.fullmatch(f)}
    for field_, raw in fields.items():
        if field_ in rest:
            continue
        n = _pieces(raw)
        if n > 1:  # a long record, in pieces
            parts = [rest.get(f"{field_}.{i}") for i in range(1, n)]
            if any(part is None for part in parts):
                continue  # rewritten meanwhile (not read under its speaker's lock): not known here
            raw = _bytes(raw)[len(str(n)) :] + b"".join(_bytes(part) for part in parts if part is not None)
        record = json.loads(raw)
        if field_.isdigit():
            span, *record = record
            record += _RECORD_DEFAULTS[len(record) - 2 :]
            member = str(int(number, 36) * PER_DOC + int(field_))
        else:
            span, member = field_, f"{number}.{field_}"
        speaker, units, group, conflict, figs = record
        key = f"{doc_id}:{span}"
        if group == 0:
            group = group_id(speaker_key(speaker), key)
        if isinstance(units, str):  # the text itself
            ref = ClaimRef(key=key, doc_id=doc_id, speaker=speaker, text=units, figures=_figures(figs))
        else:
            figures = tuple(Figure(text="", value=v, unit=u) for v, u in figs)
            units = unpack_units(claim_words.decode(units))
            ref = ClaimRef(key=key, doc_id=doc_id, speaker=speaker, text="", figures=figures, units=units)
        out.claims[key] = StoredClaim(ref, outlet=outlet, group=group, conflict=bool(conflict))
        out.members[key] = member
        out.pieces[key] = n
    return out


def _pieces_of(record: str) -> list[str]:
    """A record as its document's hash keeps it: itself when it fits in CHUNK bytes, else
    in pieces of at most CHUNK bytes (whole characters), the first prefixed with their
    count (a record is a JSON list: it never starts with a digit)."""
    if len(record.encode()) <= CHUNK:
        return [record]
    pieces: list[str] = []
    piece: list[str] = []
    size = 0
    for ch in record:
        width = len(ch.encode())
        if size + width > CHUNK - 2:  # room for the count (at most 99 pieces)
            pieces.append("".join(piece))
            piece, size = [], 0
        piece.append(ch)
        size += width
    pieces.append("".join(piece))
    if len(pieces) > 99:
        return [record]  # longer than 6 KB: whole (its hash is then a hash table)
    return [f"{len(pieces)}{pieces[0]}", *pieces[1:]]


def _pieces(raw: bytes | str) -> int:
    """How many pieces a record's first field says it has (1: it is whole)."""
    found = _COUNT.match(_bytes(raw))
    return int(found[0]) if found else 1


def _bytes(raw: bytes | str) -> bytes:
    return raw if isinstance(raw, bytes) else raw.encode()


def _figures(figs: list[list[Any]]) -> tuple[Figure, ...]:
    return tuple(Figure(text=t, value=v, unit=u, modifier=m) for t, v, u, m in figs)


def _load_older(key: str, raw: bytes | str) -> StoredClaim:
    """A claim record as older versions filed it under `c:<claim key>`: a compact JSON
    list `[speaker, text, outlet, group, conflict, figures(, doc id)]`, or before that a
    JSON object with every field named."""
    d = json.loads(raw)
    if isinstance(d, dict):  # filed under its own key, so d["key"] == key
        d = [d["speaker"], d["text"], d["outlet"], d["group"], d["conflict"], d["figures"], d["doc"]]
    speaker, text, outlet, group, conflict, figs = d[:6]
    doc_id = d[6] if len(d) > 6 else key.rsplit(":", 1)[0]
    ref = ClaimRef(key=key, doc_id=doc_id, speaker=speaker, text=text, figures=_figures(figs))
    return StoredClaim(ref, outlet=outlet, group=group, conflict=bool(conflict))
