"""Writes as a dependency graph: independent chains at once, each waiting only for what it needs.

``apply`` runs every step that has something to do in its own thread. A step waits for the
milestones it needs (:meth:`Work.need`: "the user exists", "the bucket exists") and announces its
own as soon as they are true (:meth:`Work.ready`), so the bucket chain runs beside the IAM chain
and the access key is created the moment its user exists. The critical path of a fresh setup is
about three round trips instead of ten.

A failure stops the graph cleanly: no step starts another write after it (each write passes
:meth:`Work.checkpoint` first), steps waiting for the failed one are stopped, and every step
still reports what it did before stopping, so nothing is left half-started and unreported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, overload

from .errors import WizardError


class Stopped(WizardError):
    """This step did not (fully) run because another one failed first."""


@dataclass
class Graph:
    """Milestones of one apply: one per step key taking part, set when the step says so."""

    keys: Iterable[str]
    _events: dict[str, threading.Event] = field(init=False, repr=False)
    _failed: dict[str, str] = field(init=False, default_factory=dict, repr=False)
    _stop: str | None = field(init=False, default=None, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._events = {key: threading.Event() for key in self.keys}

    def ready(self, key: str) -> None:
        """Milestone ``key`` is reached: steps waiting for it go on."""
        event = self._events.get(key)
        if event is not None:
            event.set()

    def fail(self, key: str, reason: str) -> None:
        """Step ``key`` failed: nothing new starts, and whoever waits for it is stopped."""
        with self._lock:
            self._failed.setdefault(key, reason)
            if self._stop is None:
                self._stop = reason
        for event in self._events.values():
            event.set()  # wake every waiter: each one checks why it woke

    def need(self, *keys: str) -> None:
        """Wait for the milestones ``keys`` (those taking part in this apply)."""
        for key in keys:
            event = self._events.get(key)
            if event is None:
                continue
            event.wait()
            self.checkpoint()

    def checkpoint(self) -> None:
        """Raise :class:`Stopped` if another step failed: called before every write."""
        reason = self._stop
        if reason is not None:
            raise Stopped(f"stopped because an earlier call failed: {reason}")


@dataclass
class Work:
    """What a step's apply gets: the graph, and a record of what it did so far."""

    key: str
    graph: Graph
    done: list[str] = field(default_factory=list)

    def need(self, *keys: str) -> None:
        self.graph.need(*keys)

    def ready(self, key: str | None = None) -> None:
        self.graph.ready(key or self.key)

    def checkpoint(self) -> None:
        self.graph.checkpoint()

    def did(self, sentence: str) -> None:
        """Record one finished write, in words (the step's result repeats them)."""
        self.done.append(sentence)


def run_all(jobs: Mapping[str, Callable[[Work], object]], graph: Graph,
            on_done: Callable[[str, Work, object], None] | None = None,
            ) -> dict[str, tuple[Work, object]]:
    """Run each job in its own thread with its :class:`Work`; wait for all of them.

    Returns, per key, the job's Work (what it did) and its return value or the exception it
    raised; ``on_done`` hears each as it finishes. A job that raises marks its milestone failed,
    which stops the others cleanly.
    """
    outcome: dict[str, tuple[Work, object]] = {}

    def run(key: str, job: Callable[[Work], object]) -> None:
        work = Work(key, graph)
        try:
            value: object = job(work)
            graph.ready(key)
        except BaseException as exc:  # noqa: BLE001 - reported as this step's result
            value = exc
            graph.fail(key, str(exc))
        outcome[key] = (work, value)
        if on_done is not None:
            on_done(key, work, value)

    threads = [threading.Thread(target=run, args=(key, job), name=f"apply-{key}", daemon=True)
               for key, job in jobs.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
T = TypeVar("T")


@overload
def at_once(a: Callable[[], A], b: Callable[[], B], /) -> tuple[A, B]: ...


@overload
def at_once(a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], /) -> tuple[A, B, C]: ...


def at_once(*calls: Callable[[], object]) -> tuple[object, ...]:
    """Two or three different calls concurrently (each a round trip to AWS), their answers in
    order; raise the first failure. Every call finishes before this returns, failed or not, so
    no write is left in flight."""
    return tuple(each_at_once(calls))


def each_at_once(calls: Iterable[Callable[[], T]]) -> list[T]:
    """Any number of like calls concurrently, as :func:`at_once`: their answers in order."""
    calls = list(calls)
    if len(calls) <= 1:
        return [call() for call in calls]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="at-once") as pool:
        futures = [pool.submit(call) for call in calls]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
    return [f.result() for f in futures]
