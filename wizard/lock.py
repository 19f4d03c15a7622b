"""One run at a time per CircleCI identity: a file lock, so two runs cannot interleave.

Two ``apply`` runs on the same user at once could each see "no key", each create one, and each
store its own: one key would be left whose secret nobody holds. Every command that changes AWS
(apply, destroy, rotate, a step run from the TUI) takes this lock first and plans under it, so
the second run waits, then sees what the first one made. The lock is a file in the wizard's
state folder (one machine; runs on other machines are not seen) named after the IAM user or role,
with a note of who holds it, so a waiting run can say plainly what it waits for.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import WizardError

#: How long a run waits for another one before giving up.
DEFAULT_WAIT_SECONDS = 600.0


class LockHeld(WizardError):
    """Another run holds the lock and did not let go in time."""


def _name(kind: str, name: str, sandbox: bool) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.@+=,-]", "_", name)
    return f"{'sandbox-' if sandbox else ''}{kind}-{safe}"


def holder_note(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            return dict(json.load(handle))
    except (OSError, ValueError):
        return {}


def describe_holder(note: dict[str, Any]) -> str:
    if not note:
        return "another circleci-s3-wizard run"
    started = time.strftime("%H:%M:%S", time.localtime(note.get("started", 0)))
    return (f"another circleci-s3-wizard run (process {note.get('pid', '?')}, "
            f"`{note.get('command', '?')}`, started at {started})")


@contextmanager
def run_lock(kind: str, name: str, *, sandbox: bool = False, command: str = "",
             wait: float = DEFAULT_WAIT_SECONDS,
             on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock for ``kind`` (``user``/``role``) ``name`` while the block runs.

    If another run holds it, ``on_wait`` is told who, once, and this waits up to ``wait``
    seconds (0: not at all) before raising :class:`LockHeld`.
    """
    from filelock import FileLock, Timeout

    from .state import state_dir

    folder = state_dir() / "locks"
    folder.mkdir(exist_ok=True, mode=0o700)
    base = folder / _name(kind, name, sandbox)
    note_path = f"{base}.json"
    lock = FileLock(f"{base}.lock", thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        who = describe_holder(holder_note(note_path))
        if wait <= 0:
            raise LockHeld(f"{who[0].upper()}{who[1:]} is changing the setup of {kind} {name} "
                           "right now.", hint="Wait for it to finish, then try again.") from None
        if on_wait is not None:
            on_wait(f"Waiting for {who} to finish with {kind} {name}…")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise LockHeld(f"{who[0].upper()}{who[1:]} still holds the lock on {kind} {name} "
                           f"after {wait:.0f} s.", hint="Let it finish, or end it, and try "
                           "again.") from None
    try:
        with open(note_path, "w", encoding="utf-8") as handle:
            json.dump({"pid": os.getpid(), "command": command or " ".join(sys.argv[1:2]),
                       "started": time.time()}, handle)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(note_path)
        lock.release()
