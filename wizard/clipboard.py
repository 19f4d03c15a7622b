"""Copy a secret to the clipboard once, then wipe it if nobody has copied anything else since.

The access key's secret is shown once; the operator copies it into CircleCI's settings page.
:class:`CopyOnce` lets that happen exactly one time and remembers only a hash of what it
copied, so it can empty the clipboard after :data:`CLEAR_AFTER_SECONDS` without wiping
something the operator copied later. The timer belongs to the caller: the Textual screens use
``set_timer``; the CLI uses :meth:`CopyOnce.schedule_clear` (a ``threading.Timer``).

:class:`SystemClipboard` is the desktop clipboard. pyperclip picks the mechanism (xclip, xsel,
wl-clipboard, pbcopy, Windows...), but each instance asks afresh instead of using pyperclip's
module-level cache, which remembers "unavailable" forever. For xclip, xsel and wl-copy it runs
the tool itself: pyperclip lets them inherit the caller's stdout/stderr, so their background
selection server keeps a capturing parent waiting forever and their errors land on the
terminal Textual is drawing on. A copy is read back before it counts, because with a dead
``DISPLAY`` these tools fail without raising. Anything with ``copy(text)`` and ``paste()``
(the :class:`Clipboard` protocol) works with :class:`CopyOnce`, e.g. the screens' OSC 52 adapter.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

CLEAR_AFTER_SECONDS = 30

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
_OWN_TOOLS: dict[str, tuple[list[str], list[str] | None, list[str]]] = {
    "xclip": (
        ["xclip", "-selection", "clipboard"],
        None,
        ["xclip", "-selection", "clipboard", "-o"],
    ),
    "xsel": (["xsel", "--clipboard", "--input"], None, ["xsel", "--clipboard", "--output"]),
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
                    timeout=_TOOL_TIMEOUT,
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
                self._paste_argv, capture_output=True, timeout=_TOOL_TIMEOUT, check=False
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
            if not copy:  # pyperclip's "no mechanism" object is falsy
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
        deadline = time.monotonic() + _SETTLE_SECONDS
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


class CopyOnce:
    """A secret that may be copied to a clipboard one time, and wiped from it afterwards.

    ``secret`` is called only when copying, so the value need not sit in this object; after
    the copy only its SHA-256 is kept, to recognise it on the clipboard later.
    """

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret
        self._digest: bytes | None = None

    @property
    def used(self) -> bool:
        """True once the secret has been copied."""
        return self._digest is not None

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

    def clear_if_unchanged(self, clipboard: Clipboard) -> bool:
        """Empty the clipboard if it still holds the secret; True if it did.

        Never raises ClipboardUnavailable: it runs from timers, where an exception would only
        spoil the screen. A clipboard that cannot be read is left as it is.
        """
        if self._digest is None:
            return False
        try:
            current = clipboard.paste()
            if not hmac.compare_digest(_digest(current or ""), self._digest):
                return False
            clipboard.copy("")
        except ClipboardUnavailable:
            return False
        return True

    def schedule_clear(
        self,
        clipboard: Clipboard,
        seconds: float = CLEAR_AFTER_SECONDS,
        timer_factory: Callable[[float, Callable[[], Any]], Any] = threading.Timer,
    ) -> Any:
        """Start a timer that calls :meth:`clear_if_unchanged` after ``seconds``; return it.

        The timer is a daemon thread where the factory allows it, so it never holds the program
        open; the CLI should ``join()`` it if it wants the wipe to happen before it exits.
        """
        timer = timer_factory(seconds, lambda: self.clear_if_unchanged(clipboard))
        if hasattr(timer, "daemon"):
            timer.daemon = True
        timer.start()
        return timer
