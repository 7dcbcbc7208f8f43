"""The keyword index of a process that ingests uploads while it answers.

``KeywordIndex`` (``rag.keyword``) brings itself up to date on the first read after the registry
changed: for an upload of 2,000 pages that is thousands of chunks fetched and a BM25 index built
while every request of that moment waits for it. Here the upload's worker builds the next state
before its commit (``prepare``, from ``Store.write_documents``' ``before_commit``), and the first
reader of the new revision (or of a later one with the same live generations: the commit that
drops the spent markers) only takes it. Two more changes of revision cost readers nothing: one
whose live generations are those already indexed (a commit that only marks generations pending or
retired) keeps the index under the new revision, and a reader still on the previous revision gets
the previous index back instead of rebuilding it.
"""

from __future__ import annotations

from dataclasses import replace

from core.store import RegistrySnapshot, Store
from rag.keyword import KeywordIndex, KeywordState, build_keyword_state


class SwitchingKeywordIndex(KeywordIndex):
    def __init__(self, store: Store):
        super().__init__(store)
        self._next: KeywordState | None = None
        self._previous: KeywordState | None = None

    def prepare(self, snap: RegistrySnapshot) -> KeywordState:
        """Build the state for ``snap`` (a registry about to be committed) without showing it yet."""
        self._next = build_keyword_state(self._store, snap, held=self._state)
        return self._next

    def _update(self, snap: RegistrySnapshot) -> KeywordState:
        state = self._state
        if self._previous is not None and self._previous.revision == snap.revision:
            return self._previous
        live = {d.gen for d in snap.documents.values()}
        # The prepared state, or the one held, when it indexes exactly the live generations:
        # under this revision (the commit's, or a later one that only dropped markers).
        for held in (self._next, state):
            if held is not None and held.revision is not None and set(held.by_gen) == live:
                return self._install(replace(held, revision=snap.revision))
        built = super()._update(snap)
        self._previous = state
        return built

    def _install(self, new: KeywordState) -> KeywordState:
        if self._next is not None and self._next.by_gen is new.by_gen:
            self._next = None
        self._previous, self._state = self._state, new
        return new
