"""How much of a question a piece of text holds: the IDF-weighted share of the question's terms.

A Japanese compound is indexed whole and as its parts (経済安全保障 and 経済, 安全, 保障), so a
text naming only a part can still be found. For weighing a match, though, the compound and its
parts are one idea of the question, not four: counted separately, a question's long compound
would outweigh the rarer word that actually says what is asked (能登半島地震 against 死因). Each
term group therefore weighs as much as its head term's rarity; a text holding the head covers all
of it, a text holding only some parts covers the parts' share of it.

Nouns the question writes side by side (a ``Phrase``: 特定重要物資, which the dictionary knows only
as 特定, 重要 and 物資) weigh as much as their words together. A text that writes them side by side
too covers the phrase; a text that holds them scattered (特に重要となる物資を精査・特定) covers only
``SCATTERED`` of their share: it names the words, not the thing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from core.tokenize import Phrase, TermGroup, compact

__all__ = ["SCATTERED", "Coverage", "Phrase", "QueryGroup", "TermGroup", "compact", "flatten"]

# Chosen on the tune parts (0, 0.25 and 0.5 measured: deck answer_pass 0.799, 0.799, 0.787 and
# unanswerable refused 0.929 at 0.25; the real-PDF tune part did not move); kept above 0 so that
# a text naming every word of a phrase still outranks one naming none.
SCATTERED = 0.25

QueryGroup = TermGroup | Phrase


class _Word:
    def __init__(self, group: TermGroup, idf: Callable[[str], float]):
        self.group = group
        self.weight = idf(group[0])
        self.part_weights = [idf(p) for p in group[1:]]

    def held(self, tokens: Collection[str]) -> float:
        if self.group[0] in tokens:
            return self.weight
        parts_total = sum(self.part_weights)
        if not parts_total:
            return 0.0
        share = sum(w for p, w in zip(self.group[1:], self.part_weights) if p in tokens) / parts_total
        return self.weight * share


class _Phrase:
    def __init__(self, phrase: Phrase, idf: Callable[[str], float]):
        self.text = phrase.text
        self.words = [_Word(member, idf) for member in phrase.members]
        self.weight = sum(word.weight for word in self.words)

    def held(self, tokens: Collection[str], text: str) -> float:
        if self.text and self.text in text:
            return self.weight
        return SCATTERED * sum(word.held(tokens) for word in self.words)


class Coverage:
    """Scores a text (its token set, and its ``compact`` form for phrases) against one question's
    term groups; 0 when the question has no terms."""

    def __init__(self, groups: Sequence[QueryGroup], idf: Callable[[str], float]):
        self._words: list[_Word] = []
        self._phrases: list[_Phrase] = []
        seen: set[str] = set()
        for group in groups:
            if isinstance(group, Phrase):
                if group.text not in seen:
                    seen.add(group.text)
                    self._phrases.append(_Phrase(group, idf))
            elif group and group[0] not in seen:
                seen.add(group[0])
                self._words.append(_Word(group, idf))
        self._total = sum(w.weight for w in self._words) + sum(p.weight for p in self._phrases)

    @property
    def empty(self) -> bool:
        return not self._total

    def __call__(self, tokens: Collection[str], text: str = "") -> float:
        """``text``: the same text in ``compact`` form (without it, phrases count as scattered)."""
        if not self._total:
            return 0.0
        held = sum(w.held(tokens) for w in self._words) + sum(p.held(tokens, text) for p in self._phrases)
        return held / self._total


def flatten(groups: Sequence[QueryGroup]) -> list[str]:
    """Every term of the groups once, in order: what the keyword index is searched with."""
    terms: list[str] = []
    for group in groups:
        for member in group.members if isinstance(group, Phrase) else (group,):
            terms.extend(member)
    return list(dict.fromkeys(terms))
