"""What the app tells its pages when background work ends, and when the run's state changed.

Every engine call runs in a thread worker on the app; the app's one router
(:meth:`screens.app.WizardApp.on_worker_state_changed`) records what came back in the
:class:`~screens.run_state.RunState` and posts one of these to the page on show. A page only
re-renders: it never inspects a worker or an exception.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class WorkDone(Message):
    """Job ``job`` (e.g. ``apply``) for step ``key`` (or None) finished with ``value``."""

    def __init__(self, job: str, key: str | None, value: Any) -> None:
        super().__init__()
        self.job = job
        self.key = key
        self.value = value


class WorkFailed(Message):
    """Job ``job`` for step ``key`` failed; ``sentence`` says what and what to do."""

    def __init__(self, job: str, key: str | None, sentence: str) -> None:
        super().__init__()
        self.job = job
        self.key = key
        self.sentence = sentence


class RunChanged(Message):
    """Plans, results, the connection or the clipboard changed: show them again."""


class AwsWaiting(Message):
    """A step's call waits for AWS to show what the run just made (``sentence`` says what).

    Posted from the step's thread (posting is thread-safe; the app is never blocked on it)."""

    def __init__(self, sentence: str) -> None:
        super().__init__()
        self.sentence = sentence
