"""Every read of a run, asked once: a thread-safe memo of questions put to AWS and CircleCI.

The plan runs each step's check in its own thread. Several steps ask the same question (does the
user exist? the group? which keys does the user have?); :meth:`Reads.once` makes the first caller
ask and every other caller wait for that answer, so a plan makes each distinct request once and
all of them at the same time. After a write, :meth:`Reads.forget` drops what the write changed,
so the next question is asked afresh and nothing else is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Reads:
    """Answers by key. A failed read is raised to every caller waiting for it, then forgotten,
    so asking again (a retry) makes the request again."""

    def __init__(self) -> None:
        self._answers: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    def once(self, key: Hashable, ask: Callable[[], T]) -> T:
        """The answer to ``key``: asked with ``ask()`` by the first caller, awaited by the rest."""
        with self._lock:
            future = self._answers.get(key)
            mine = future is None
            if mine:
                future = self._answers[key] = Future()
        assert future is not None
        if mine:
            try:
                future.set_result(ask())
            except BaseException as exc:  # handed to every caller waiting now, then forgotten
                future.set_exception(exc)
                with self._lock:
                    if self._answers.get(key) is future:
                        del self._answers[key]
        answer: T = future.result()  # futures of every type share the dict: this key's is T
        return answer

    def known(self, key: Hashable) -> bool:
        """True when ``key`` has been answered successfully (no request needed to know it)."""
        with self._lock:
            future = self._answers.get(key)
        return future is not None and future.done() and future.exception() is None

    def put(self, key: Hashable, value: Any) -> None:
        """Record what a write just told us (e.g. the ARN in CreateUser's answer)."""
        future: Future[Any] = Future()
        future.set_result(value)
        with self._lock:
            self._answers[key] = future

    def forget(self, *prefixes: Hashable) -> None:
        """Drop answers whose key is one of ``prefixes`` or a tuple starting with one."""
        with self._lock:
            for key in list(self._answers):
                head = key[0] if isinstance(key, tuple) and key else key
                if key in prefixes or head in prefixes:
                    del self._answers[key]

    def hand_over(self, other: Reads, *keys: Hashable) -> None:
        """Give ``other`` the answers to ``keys`` already known here."""
        with self._lock:
            found = {k: self._answers[k] for k in keys if k in self._answers}
        with other._lock:
            for key, future in found.items():
                if future.done() and future.exception() is None:
                    other._answers[key] = future
