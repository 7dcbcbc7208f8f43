"""How much of a question a piece of text holds: the IDF-weighted share of the question's terms.

A Japanese compound is indexed whole and as its parts (経済安全保障 and 経済, 安全, 保障), so a
text naming only a part can still be found. For weighing a match, though, the compound and its
parts are one idea of the question, not four: counted separately, a question's long compound
would outweigh the rarer word that actually says what is asked (能登半島地震 against 死因). Each
term group therefore weighs as much as its head term's rarity; a text holding the head covers all
of it, a text holding only some parts covers the parts' share of it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

TermGroup = tuple[str, ...]  # a term, then the parts it splits into (none for a simple word)


class Coverage:
    """Scores token sets against one question's term groups; 0 when the question has no terms."""

    def __init__(self, groups: Sequence[TermGroup], idf: Callable[[str], float]):
        heads: dict[str, TermGroup] = {}
        for group in groups:
            if group and group[0] not in heads:
                heads[group[0]] = group
        self._groups = [(group, idf(group[0]), [idf(p) for p in group[1:]]) for group in heads.values()]
        self._total = sum(weight for _, weight, _ in self._groups)

    @property
    def empty(self) -> bool:
        return not self._total

    def __call__(self, tokens: Collection[str]) -> float:
        if not self._total:
            return 0.0
        held = 0.0
        for group, weight, part_weights in self._groups:
            if group[0] in tokens:
                held += weight
            elif part_weights:
                parts_total = sum(part_weights)
                if parts_total:
                    share = sum(w for p, w in zip(group[1:], part_weights) if p in tokens) / parts_total
                    held += weight * share
        return held / self._total


def flatten(groups: Sequence[TermGroup]) -> list[str]:
    """Every term of the groups once, in order: what the keyword index is searched with."""
    return list(dict.fromkeys(term for group in groups for term in group))
