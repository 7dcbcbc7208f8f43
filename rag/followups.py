"""Follow-up questions in a conversation, resolved without an LLM.

Staff ask 「N-netってどこに整備するもの？」 and then 「令和6年度の予算は？」, 「担当は？」: the later
questions name no subject. A question is read as a follow-up when it leans on the conversation
(a pronoun or demonstrative such as そのうち / それ / この / "it" / "which of them", an opening such
as じゃあ / "and", or so few words of its own that it cannot stand alone); it is then asked together
with the *topic* of the conversation: the subject of the last question that stood on its own. A
question that says it changes the subject (話変わるけど, ところで, "separately"), or that is long
and names its own subject, stands alone and becomes the new topic.

The resolution is shown to the reader (``（N-netについて）``) so a wrong guess is visible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.text import has_japanese

MAX_TURNS = 10  # history the service looks at; older turns do not decide the topic
TOPIC_CHARS = 60

_SWITCH_JA = re.compile(
    r"^(?:話(?:は|が)?変わ(?:る|り|って)[^、。？?]{0,6}[、,]?|ところで|別件(?:で|ですが)?|さて|それとは別に)"
)
_SWITCH_EN = re.compile(
    r"^(?:separately|unrelated|on another (?:topic|note)|by the way|changing (?:the )?subject|new question)\b",
    re.I,
)
_LEAN_JA = re.compile(
    r"そのうち|その中|それぞれ|それら|それって|それは|それを|それが|それに|それの|^それ|これら|^これ|^この|^その|^あの|"
    r"^じゃあ|^じゃ、|^では|^なら|^で、|^でも|^あと|^他に|^ほかに|^他は|^ほかは|^逆に|^前者|^後者|^同じ|^また、|^ちなみに|^それで"
)
_LEAN_EN = re.compile(
    r"^(?:and|also|so|then|what about|how about|and what|but)\b|\b(?:it|its|it's|they|them|their|theirs|those|these|"
    r"that one|this one|which of them|of them|the same|he|she|his|her)\b",
    re.I,
)
# Words a question is made of besides its subject: asking, attributes, politeness.
_ASKING_JA = re.compile(
    r"何|なに|なん|どれ|どこ|どの|どう|どんな|どちら|いつ|誰|だれ|いくら|いくつ|どのくらい|どれくらい|"
    r"教えて|ください|下さい|ですか|ますか|でしょうか|の？|って|とは|は|が|を|に|で|も|の|と|か|？|\?|。|、|\s"
)
_ENGLISH_WORD = re.compile(r"[a-z][a-z\-']+", re.I)
_ENGLISH_FILLER = frozenset(
    "what which who whom whose when where why how is are was were do does did the a an of in on for to by and or "
    "much many long large big about with from into any there that this than more most less least please tell me "
    "can could would should will be been being has have had give list name kind kinds type types".split()
)
# Endings that ask about the subject rather than name it: cut to find the topic phrase.
_TOPIC_END_JA = re.compile(
    r"(?:について|に関して|に関する|とは|って|は|が|を|の)?(?:全部|全て|すべて|ぜんぶ)?"
    r"(?:何|なに|なん|どれ|どこ|どの|どう|どんな|いつ|誰|だれ|いくら|いくつ|どのくらい|どれくらい|教えて|ある|あります|挙げて)"
    r"[^、]*$"
)
_TOPIC_LEAD_EN = re.compile(
    r"^(?:according to [^,]+,\s*)?(?:what|which|who|when|where|why|how(?: many| much| long)?)\s+"
    r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)?\s*",
    re.I,
)
_SHORT_JA = 12  # characters of its own (besides asking words) below which a question cannot stand alone
_SHORT_EN = 4  # content words
_TOPIC_JA = 20  # ...and at or above which a later question sets a new topic without saying so
_TOPIC_EN = 6


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of the conversation, as the client shows it."""

    question: str
    answer: str = ""


@dataclass(frozen=True)
class Resolution:
    """How a question is asked: ``query`` is what retrieval and the composer read; ``topic`` is set
    when it was resolved against the conversation, and names what it was understood to be about."""

    query: str
    topic: str | None = None

    @property
    def is_follow_up(self) -> bool:
        return self.topic is not None


def changes_subject(question: str) -> bool:
    q = question.strip()
    return bool(_SWITCH_JA.match(q) or _SWITCH_EN.match(q))


def _own_words(question: str) -> int:
    """How much a question says besides asking: characters (Japanese) or content words (English)."""
    if has_japanese(question):
        return len(_ASKING_JA.sub("", question))
    return len([w for w in _ENGLISH_WORD.findall(question.lower()) if w not in _ENGLISH_FILLER])


def leans_on_context(question: str) -> bool:
    """Whether the question needs the conversation to be understood."""
    q = question.strip()
    if changes_subject(q):
        return False
    if (_LEAN_JA if has_japanese(q) else _LEAN_EN).search(q):
        return True
    return _own_words(q) < (_SHORT_JA if has_japanese(q) else _SHORT_EN)


def sets_topic(question: str) -> bool:
    """Whether a question in a conversation names a subject of its own for the turns after it: it
    says it changes the subject, or it is long and leans on nothing."""
    q = question.strip()
    if changes_subject(q):
        return True
    return not leans_on_context(q) and _own_words(q) >= (_TOPIC_JA if has_japanese(q) else _TOPIC_EN)


def topic_of(question: str) -> str:
    """The subject a standalone question asks about: 「N-netってどこに整備するもの？」 → 「N-net」."""
    q = _strip_switch(question.strip())
    if has_japanese(q):
        topic = _TOPIC_END_JA.sub("", q)
        topic = re.sub(r"(?:には|では|は|って|とは|に|で)[？?]?$", "", topic.strip(" 、,。？?")).strip(
            " 、,。？?"
        )
    else:
        topic = _TOPIC_LEAD_EN.sub("", q).strip(" ,.?")
    return topic or q.strip(" 、,。？?")


def resolve(question: str, history: Sequence[Turn] = ()) -> Resolution:
    """The question as the service should ask it, given the conversation so far (oldest first)."""
    question = question.strip()
    recent = list(history)[-MAX_TURNS:]
    if not recent or not leans_on_context(question):
        return Resolution(_strip_switch(question))
    # The topic comes from the last question that set one, else from the first question: a short
    # standalone question in between ("How many people died?") is a follow-up in all but form.
    starter = next((t.question for t in reversed(recent) if sets_topic(t.question)), recent[0].question)
    topic = topic_of(starter)
    return Resolution(f"{topic} {question}", topic)


def shown_topic(topic: str) -> str:
    return topic if len(topic) <= TOPIC_CHARS else topic[:TOPIC_CHARS].rstrip() + "…"


def understood(topic: str, question: str) -> str:
    """The note an answer starts with, so the reader sees what a follow-up was taken to mean."""
    topic = shown_topic(topic)
    return f"（{topic}について）" if has_japanese(question) or has_japanese(topic) else f"(About: {topic})"


def _strip_switch(question: str) -> str:
    stripped = _SWITCH_JA.sub("", question)
    stripped = _SWITCH_EN.sub("", stripped).lstrip(" :,、，-—")
    return stripped.strip() or question
