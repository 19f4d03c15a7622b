"""Copy a secret to the clipboard once, then wipe it if nobody has copied anything else since.

The access key's secret is shown once; the operator copies it into CircleCI's settings page.
:class:`CopyOnce` lets that happen exactly one time and remembers only a hash of what it
copied, so it can empty the clipboard after :data:`CLEAR_AFTER_SECONDS` without wiping
something the operator copied later. The timer belongs to the caller: the Textual screens use
``set_timer`` (the headless CLI never copies a secret; it hands it to CircleCI or the keyring).

:class:`SystemClipboard` is the desktop clipboard. pyperclip picks the mechanism (xclip, xsel,
wl-clipboard, pbcopy, Windows...), but each instance asks afresh instead of using pyperclip's
module-level cache, which remembers "unavailable" forever. For xclip, xsel and wl-copy it runs
the tool itself: pyperclip lets them inherit the caller's stdout/stderr, so their background
selection server keeps a capturing parent waiting forever and their errors land on the
terminal Textual is drawing on. A copy is read back before it counts, because with a dead
``DISPLAY`` these tools fail without raising. Anything with ``copy(text)`` and ``paste()``
(the :class:`Clipboard` protocol) works with :class:`CopyOnce`, e.g. the screens' OSC 52 adapter.

A copied secret must not outlive the program: a timer dies with the process, but the tool's
selection server (an orphaned ``xclip``) would go on serving the secret. So every copied secret
stays *pending* (:func:`pending_copies`) until a clear has looked at its clipboard, and
:func:`clear_pending` wipes each one still there; the UI calls it on every way out, and it is also
an ``atexit`` hook. Clearing gives up the selection instead of serving an empty text forever: the
old server exits when it loses the selection, and ``xclip -loops 1`` (or ``xsel --clear``) leaves
no process behind. :func:`clear_pending` is bounded in time: the tools we run get the time left
(a hung ``xclip`` is killed), and waiting for a clear already under way stops at the deadline.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import hmac
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol

CLEAR_AFTER_SECONDS = 30
#: Seconds :func:`clear_pending` may take at exit, whatever the clipboard tools do.
EXIT_CLEAR_SECONDS = 3.0

#: Seconds a clipboard tool may take before it counts as not working.
_TOOL_TIMEOUT = 5
#: Seconds a copied text may take to appear on the clipboard.
_SETTLE_SECONDS = 1.0

_FIX = (
    "Run the wizard in a graphical session (DISPLAY or WAYLAND_DISPLAY set to a running display) "
    "with a clipboard tool installed (xclip or xsel on X11, wl-clipboard on Wayland), or copy "
    "the value from the screen by hand."
)

# pyperclip's copy functions, by name, and what we call the mechanism.
_PYPERCLIP_NAMES = {
    "copy_xclip": "xclip",
    "copy_xsel": "xsel",
    "copy_wl": "wl-clipboard",
    "copy_osx_pbcopy": "pbcopy",
    "copy_osx_pyobjc": "pyobjc",
    "copy_windows": "Windows",
    "copy_wsl": "WSL",
    "copy_klipper": "klipper",
    "copy_qt": "Qt",
    "copy_dev_clipboard": "Cygwin",
}

# The tools we run ourselves: (copy argv, clear argv or None to copy "", paste argv).
# A clear takes the selection from the server holding the text (which then exits) and leaves
# none behind: xclip serves the empty text to one reader (the check that follows) and exits;
# xsel and wl-copy give the selection up.
_OWN_TOOLS: dict[str, tuple[list[str], list[str] | None, list[str]]] = {
    "xclip": (
        ["xclip", "-selection", "clipboard"],
        ["xclip", "-selection", "clipboard", "-loops", "1"],
        ["xclip", "-selection", "clipboard", "-o"],
    ),
    "xsel": (
        ["xsel", "--clipboard", "--input"],
        ["xsel", "--clipboard", "--clear"],
        ["xsel", "--clipboard", "--output"],
    ),
    "wl-clipboard": (["wl-copy"], ["wl-copy", "--clear"], ["wl-paste", "--no-newline"]),
}


class ClipboardUnavailable(RuntimeError):
    """No working clipboard; the message says why and what to do. Never contains the text."""


class AlreadyCopied(RuntimeError):
    """A :class:`CopyOnce` secret was already copied; it cannot be copied a second time."""


class Clipboard(Protocol):
    """What :class:`CopyOnce` needs: put text on a clipboard and read it back."""

    def copy(self, text: str) -> None: ...

    def paste(self) -> str: ...


#: When set (by :func:`clear_pending`, in its own context), the monotonic time by which every
#: clipboard call made in this context must be done.
_DEADLINE: ContextVar[float | None] = ContextVar("clipboard_deadline", default=None)


def _time_left(limit: float) -> float:
    """``limit`` seconds, or less if a deadline is set (never below a few milliseconds)."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return limit
    return max(0.01, min(limit, deadline - time.monotonic()))


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[float]:
    deadline = time.monotonic() + seconds
    current = _DEADLINE.get()
    token = _DEADLINE.set(deadline if current is None else min(current, deadline))
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def _where() -> str:
    display = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY")
    return f" on display {display}" if display else ""


class _Tool:
    """One of xclip/xsel/wl-clipboard, run with its output kept away from our streams."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._copy_argv, self._clear_argv, self._paste_argv = _OWN_TOOLS[name]

    def copy(self, text: str) -> None:
        argv = self._clear_argv if (not text and self._clear_argv) else self._copy_argv
        # The tool forks a process that serves the selection and keeps every inherited file
        # open: stdout goes nowhere and stderr to a file we read once the parent has exited.
        with tempfile.TemporaryFile() as err:
            try:
                done = subprocess.run(
                    argv,
                    input=text.encode("utf-8"),
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    timeout=_time_left(_TOOL_TIMEOUT),
                    check=False,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise ClipboardUnavailable(
                    f"{self.name} could not be run ({type(exc).__name__}). {_FIX}"
                ) from None
            err.seek(0)
            message = err.read().decode("utf-8", "replace").strip()
        if done.returncode != 0:
            raise ClipboardUnavailable(
                f"{self.name} failed{_where()}: {message or f'exit {done.returncode}'}. {_FIX}"
            )

    def paste(self) -> str:
        try:
            done = subprocess.run(
                self._paste_argv,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_time_left(_TOOL_TIMEOUT),
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise ClipboardUnavailable(
                f"{self.name} could not be run ({type(exc).__name__}). {_FIX}"
            ) from None
        message = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            if "display" in message.lower():  # "Can't open display", "cannot connect to display"
                raise ClipboardUnavailable(f"{self.name} failed{_where()}: {message}. {_FIX}")
            return ""  # an empty clipboard ("target STRING not available", "No selection")
        return done.stdout.decode("utf-8", "replace")


class SystemClipboard:
    """The desktop clipboard, chosen by pyperclip when first used, verified on every copy."""

    def __init__(self) -> None:
        self._mechanism: tuple[str, Callable[[str], Any], Callable[[], str]] | None = None

    def _resolve(self) -> tuple[str, Callable[[str], Any], Callable[[], str]]:
        if self._mechanism is None:
            import pyperclip

            copy, paste = pyperclip.determine_clipboard()
            if not bool(copy):  # typed as a function, but "no mechanism" is a falsy object
                raise ClipboardUnavailable(
                    f"No clipboard found (DISPLAY and WAYLAND_DISPLAY are unset or no tool is "
                    f"installed). {_FIX}"
                )
            name = _PYPERCLIP_NAMES.get(getattr(copy, "__name__", ""), "pyperclip")
            if name in _OWN_TOOLS:
                tool = _Tool(name)
                self._mechanism = (name, tool.copy, tool.paste)
            else:
                self._mechanism = (name, copy, paste)
        return self._mechanism

    @property
    def name(self) -> str:
        """The mechanism: ``xclip``, ``xsel``, ``wl-clipboard``, ``pbcopy``, ``Windows``..."""
        return self._resolve()[0]

    def copy(self, text: str) -> None:
        """Put ``text`` on the clipboard and prove it is there, or raise ClipboardUnavailable."""
        name, copy, _ = self._resolve()
        try:
            copy(text)
        except ClipboardUnavailable:
            raise
        except Exception as exc:  # pyperclip raises its own and OS errors; all mean "no clipboard"
            raise ClipboardUnavailable(f"{name} failed ({type(exc).__name__}). {_FIX}") from None
        # xsel and wl-copy fork before they own the selection, so the text may show up a moment
        # after the command returns: poll briefly before calling the copy lost.
        deadline = time.monotonic() + _time_left(_SETTLE_SECONDS)
        while self.paste() != text:
            if time.monotonic() >= deadline:
                raise ClipboardUnavailable(
                    f"The clipboard ({name}{_where()}) did not keep the text: it read back "
                    f"differently. {_FIX}"
                )
            time.sleep(0.02)

    def paste(self) -> str:
        """The clipboard's text ('' when empty)."""
        name, _, paste = self._resolve()
        try:
            return paste() or ""
        except ClipboardUnavailable:
            raise
        except Exception as exc:  # see copy()
            raise ClipboardUnavailable(f"{name} failed ({type(exc).__name__}). {_FIX}") from None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


# The copied secrets not yet cleared (or found replaced), oldest first, and whether the
# atexit hook is in place. Guarded by _PENDING_LOCK: copies and clears run in threads.
_PENDING: dict[int, CopyOnce] = {}
_PENDING_LOCK = threading.Lock()
_atexit_registered = False


def _add_pending(once: CopyOnce) -> None:
    global _atexit_registered
    with _PENDING_LOCK:
        _PENDING[id(once)] = once
        if not _atexit_registered:
            atexit.register(clear_pending)
            _atexit_registered = True


def _drop_pending(once: CopyOnce) -> None:
    with _PENDING_LOCK:
        _PENDING.pop(id(once), None)


class CopyOnce:
    """A secret that may be copied to a clipboard one time, and wiped from it afterwards.

    ``secret`` is called only when copying, so the value need not sit in this object; after
    the copy only its SHA-256 is kept, to recognise it on the clipboard later, with the
    clipboard it went to, until a clear has looked there (:attr:`pending`).
    """

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret
        self._digest: bytes | None = None
        #: Where the secret was copied to, while a clear is still owed there.
        self._clipboard: Clipboard | None = None
        self._lock = threading.Lock()  # one clear at a time (the timer's and the exit's)

    @property
    def used(self) -> bool:
        """True once the secret has been copied."""
        return self._digest is not None

    @property
    def pending(self) -> bool:
        """True from the copy until a clear found the clipboard holding something else or
        emptied it; a clipboard that could not be read leaves it pending."""
        return self._clipboard is not None

    def copy(self, clipboard: Clipboard) -> None:
        """Copy the secret. A failed copy may be retried (e.g. via OSC 52); a second may not."""
        if self.used:
            raise AlreadyCopied(
                "This secret was already copied once; paste it from the clipboard, or create a "
                "new key if it was lost."
            )
        value = self._secret()
        clipboard.copy(value)
        self._digest = _digest(value)
        self._clipboard = clipboard
        _add_pending(self)

    def on_clipboard(self) -> bool:
        """True if the clipboard the secret went to still holds it (False if unreadable)."""
        clipboard = self._clipboard
        if self._digest is None or clipboard is None:
            return False
        try:
            return hmac.compare_digest(_digest(clipboard.paste() or ""), self._digest)
        except ClipboardUnavailable:
            return False

    def clear_if_unchanged(self, clipboard: Clipboard | None = None) -> bool:
        """Empty the clipboard if it still holds the secret; True if it did.

        ``clipboard`` defaults to the one the secret was copied to. Never raises
        ClipboardUnavailable: it runs from timers, where an exception would only spoil the
        screen. A clipboard that cannot be read is left as it is (and the clear stays pending).
        """
        clipboard = clipboard if clipboard is not None else self._clipboard
        if self._digest is None or clipboard is None:
            return False
        deadline = _DEADLINE.get()
        wait = -1 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._lock.acquire(timeout=wait):
            return False  # another clear is under way and the time is up
        try:
            current = clipboard.paste()
            if hmac.compare_digest(_digest(current or ""), self._digest):
                clipboard.copy("")
                cleared = True
            else:
                cleared = False
        except ClipboardUnavailable:
            return False
        finally:
            self._lock.release()
        if clipboard is self._clipboard:
            self._clipboard = None
            _drop_pending(self)
        return cleared

def pending_copies() -> tuple[CopyOnce, ...]:
    """The secrets copied in this process whose clipboard may still hold them, oldest first."""
    with _PENDING_LOCK:
        return tuple(_PENDING.values())


def pending_on_clipboard(timeout: float = 1.0) -> int:
    """How many copied secrets their clipboard still holds (read within ``timeout`` s).

    Never raises; a clipboard that cannot be read in time counts as not holding it.
    """
    held = 0
    with _deadline(timeout) as deadline:
        for once in pending_copies():
            if time.monotonic() >= deadline:
                break
            with contextlib.suppress(Exception):
                held += once.on_clipboard()
    return held


def clear_pending(timeout: float = EXIT_CLEAR_SECONDS) -> int:
    """Wipe every pending secret still on its clipboard; how many were wiped.

    For every exit path: idempotent (a wiped or replaced secret is no longer pending), never
    raises, and returns within about ``timeout`` seconds even if a clipboard tool hangs (the
    tool is killed). What the operator copied since is left alone (compared by digest).
    """
    cleared = 0
    with contextlib.suppress(Exception), _deadline(timeout) as deadline:
        for once in pending_copies():
            if time.monotonic() >= deadline:
                break
            with contextlib.suppress(Exception):
                cleared += once.clear_if_unchanged()
    return cleared
