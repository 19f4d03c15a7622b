"""Clipboards for the screens: the desktop one (pyperclip) with Textual's OSC 52 as fallback.

The engine's :class:`~wizard.clipboard.CopyOnce` works with anything that can ``copy`` and
``paste``. Copies run in thread workers (xclip can take a moment), so the OSC 52 adapter hops
to the app's thread (``call_from_thread``) before it writes the escape sequence. ``name`` says
which mechanism was used, because the screen tells the operator.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from ..wizard.clipboard import Clipboard, ClipboardUnavailable


class TerminalClipboard:
    """Textual's ``copy_to_clipboard`` (OSC 52): works over SSH and in tmux.

    The terminal cannot be read back, so ``paste`` returns what this app last copied (Textual
    keeps it in ``App.clipboard``), which is what "clear if unchanged" needs to know.
    """

    name = "OSC 52 (your terminal's clipboard)"

    def __init__(self, app: App[Any]) -> None:
        self._app = app

    def copy(self, text: str) -> None:
        """From a worker thread (as every copy runs); on the app's own thread, directly."""
        try:
            self._app.call_from_thread(self._app.copy_to_clipboard, text)
        except RuntimeError:  # called on the app's thread: no hop needed
            self._app.copy_to_clipboard(text)

    def paste(self) -> str:
        return self._app.clipboard


class FallbackClipboard:
    """The desktop clipboard while it works, then OSC 52 for the rest of the run."""

    def __init__(self, app: App[Any], system: Clipboard | None = None) -> None:
        from ..wizard.clipboard import SystemClipboard

        self._system: Clipboard | None = system if system is not None else SystemClipboard()
        self._terminal = TerminalClipboard(app)
        self.name = "the system clipboard"
        #: Why the desktop clipboard was given up, shown once on screen.
        self.fallback_reason: str | None = None

    @property
    def _active(self) -> Clipboard:
        return self._system if self._system is not None else self._terminal

    def copy(self, text: str) -> None:
        if self._system is not None:
            try:
                self._system.copy(text)
                self.name = getattr(self._system, "name", "the system clipboard")
                return
            except ClipboardUnavailable as exc:
                self.fallback_reason = str(exc)
                self._system = None
        self._terminal.copy(text)
        self.name = self._terminal.name

    def paste(self) -> str:
        return self._active.paste()


def describe(clipboard: Any) -> str:
    """The mechanism a clipboard object used (or will use), for the screen."""
    return str(getattr(clipboard, "name", type(clipboard).__name__))
