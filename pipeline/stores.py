"""What the write path and the command line need of each store, as Protocols (pure).

Each back-end satisfies them structurally, and mypy checks it (at the bottom of this
module, and where workers/resources.py builds them): the embedded index (pipeline/sqlite/)
and the production index (pipeline/elastic/) alike, and the Redis state (pipeline/redis/).
Only the methods somebody outside the back-end calls are listed: a back-end may have more.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.claims.plan import ClaimsPlan
from pipeline.document import Document

# A story label: (the story store's generation that said so, story id), per document id.
Labels = Mapping[str, tuple[int, str]]


class DocumentIndex(Protocol):
    """Enriched documents, searchable: SqliteIndex, ElasticIndex."""

    def write(self, docs: Sequence[Document], labels: Labels | None = None) -> list[tuple[str, str]]:
        """Upsert by id; (doc id, reason) for each document the index refused. `labels`:
        each document's story label now (the story store's), written with its body unless
        the index holds a newer one."""
        ...

    def get(self, doc_id: str) -> dict[str, Any] | None: ...

    def count(self) -> int: ...

    def iter_all(self) -> Iterator[dict[str, Any]]: ...

    def search(self, query: str, *, limit: int = 10, duplicates: bool = False) -> list[dict[str, Any]]: ...

    def delete(self, doc_ids: Sequence[str]) -> None: ...

    def set_sources(self, sources: Mapping[str, Sequence[str]]) -> None: ...

    def with_entities(self, keys: Iterable[str]) -> list[str]:
        """Ids of the documents that mention any of these entities (`kind:canonical`)."""
        ...

    def close(self) -> None: ...


class StoriesStore(Protocol):
    """Story records and story ids on the documents: SqliteStories, ElasticStories."""

    def update_many(self, items: Sequence[tuple[Document, Labels]]) -> None: ...

    def mark_copies(self, shown_of: Mapping[str, str]) -> None: ...

    def forget(self, doc_ids: Sequence[str], stories: Iterable[str] = ()) -> None:
        """Documents retired: out of their stories (and `stories`), records rebuilt."""
        ...

    def all(self) -> Iterator[dict[str, Any]]: ...

    def get(self, story_id: str) -> dict[str, Any] | None: ...


class ClaimsStore(Protocol):
    """Claims grouped across documents: SqliteClaims, ElasticClaims."""

    def apply(self, plan: ClaimsPlan) -> int:
        """Persist a plan (pipeline/claims/plan.py); the claim records written."""
        ...

    def groups(
        self,
        *,
        speaker: str = "",
        conflicts: bool = False,
        min_sources: int = 0,
        kinds: Sequence[str] = ("direct", "reported", "statement"),
    ) -> list[dict[str, Any]]: ...

    def search(self, query: str, *, limit: int = 20) -> list[dict[str, Any]]: ...


class ClaimPlanner(Protocol):
    """The claim groups registry (pipeline/redis/claim_groups.ClaimGroups)."""

    def planning(self, docs: Sequence[Document]) -> AbstractContextManager[ClaimsPlan]:
        """The plan for writing `docs`, to persist inside the block; filed on a clean exit."""
        ...


class ComponentLabels(Protocol):
    """The story store's labels for a document's component (pipeline/redis/story_store.StoryStore)."""

    def component_labels(self, doc_id: str) -> dict[str, tuple[int, str]]: ...

    def forget(self, doc_ids: Sequence[str]) -> set[str]:
        """Take retired documents out; the stories whose members changed."""
        ...


class NearDuplicateLookup(Protocol):
    """Which documents are copies of another (pipeline/redis/story_store.NearDuplicates)."""

    def shown_instead(self, ids: Sequence[str]) -> dict[str, str]:
        """For those of `ids` that are copies: id -> the copy search shows instead."""
        ...

    def forget(self, ids: Sequence[str]) -> dict[str, str]:
        """Take retired documents out; the copies they hid -> the copy shown now ("": itself)."""
        ...


class SourceLedger(Protocol):
    """Where every input stands (pipeline/redis/ledger.Ledger): the write path's part."""

    def add_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        """Add each (document id, source); each document's sources, sorted."""
        ...

    def doc_sources(self, doc_ids: Sequence[str]) -> list[list[str]]: ...

    def get_many(self, sources: Sequence[str]) -> Sequence[Any]:
        """Each source's record (with the `document` it gave last), or None."""
        ...

    def remove_doc_sources(self, pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
        """Remove each (document id, source); each document's sources left, sorted."""
        ...

    def mark_many(self, state: str, updates: Mapping[str, Mapping[str, Any]]) -> object: ...


class EntityNames(Protocol):
    """Canonical names that settled after documents were written with an earlier one
    (pipeline/redis/entity_registry.RedisEntityRegistry)."""

    def current_names(self, keys: Collection[str]) -> dict[str, str]:
        """Entity key -> the entity's name now, for entities renamed since."""
        ...

    def renames(self, *, rest_s: float = 0.0) -> AbstractContextManager[dict[str, str]]:
        """Renames not yet carried into indexed documents, taken off when the block ends;
        with `rest_s`, none during the rest that follows a turn."""
        ...

    def waiting(self) -> int:
        """How many renames are not yet carried."""
        ...

    def book_turn(self, after_s: float) -> bool:
        """True for one caller per `after_s`: the one to queue a delayed turn."""
        ...


if TYPE_CHECKING:  # mypy checks here that every back-end fits its Protocols (no import at run time)
    from pipeline.elastic.claims import ElasticClaims
    from pipeline.elastic.documents import ElasticIndex
    from pipeline.elastic.stories import ElasticStories
    from pipeline.redis.claim_groups import ClaimGroups
    from pipeline.redis.entity_registry import RedisEntityRegistry
    from pipeline.redis.ledger import Ledger
    from pipeline.redis.story_store import NearDuplicates, StoryStore
    from pipeline.sqlite.claims import SqliteClaims
    from pipeline.sqlite.index import SqliteIndex
    from pipeline.sqlite.stories import SqliteStories

    _INDICES: tuple[type[DocumentIndex], ...] = (SqliteIndex, ElasticIndex)
    _STORIES: tuple[type[StoriesStore], ...] = (SqliteStories, ElasticStories)
    _CLAIMS: tuple[type[ClaimsStore], ...] = (SqliteClaims, ElasticClaims)
    _PLANNER: type[ClaimPlanner] = ClaimGroups
    _NAMES: type[EntityNames] = RedisEntityRegistry
    _REDIS: tuple[type[ComponentLabels], type[NearDuplicateLookup], type[SourceLedger]] = (
        StoryStore,
        NearDuplicates,
        Ledger,
    )
