"""The bounded memo behind the question, line-token and line-vector caches."""

from __future__ import annotations

import threading

from rag.memo import Memo


def test_least_recently_used_entries_go_first() -> None:
    memo: Memo[str, int] = Memo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "a" is now the most recent
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    assert len(memo) == 2


def test_computes_once_per_key() -> None:
    calls: list[str] = []
    memo: Memo[str, str] = Memo(10)
    for _ in range(3):
        assert memo("x", lambda k: calls.append(k) or k.upper()) == "X"
    assert calls == ["x"]


def test_many_computes_only_the_missing_keys_in_one_call_and_keeps_order() -> None:
    batches: list[list[str]] = []
    memo: Memo[str, int] = Memo(10)
    memo.put("b", 20)

    def compute(keys: list[str]) -> list[int]:
        batches.append(keys)
        return [ord(k) for k in keys]

    assert memo.many(["a", "b", "c", "a"], compute) == [97, 20, 99, 97]
    assert batches == [["a", "c"]]  # one batch, each missing key once
    assert memo.many(["c", "a"], compute) == [99, 97]
    assert batches == [["a", "c"]]


def test_threads_share_it_safely() -> None:
    memo: Memo[int, int] = Memo(50)

    def work(offset: int) -> None:
        for i in range(2000):
            key = (i + offset) % 80
            assert memo(key, lambda k: k * k) == key * key

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(memo) == 50
