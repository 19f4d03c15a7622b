"""Wipe a copied secret from the clipboard on every way out of the app, not only after 30 s.

The 30-second timer dies with the app, while the clipboard tool's server (an orphaned ``xclip``)
would go on serving the secret. So the app clears what is still pending
(:func:`wizard.clipboard.clear_pending`) when it unmounts, which a quit and a crash both reach
(Textual shuts down after an unhandled exception too), and when a signal asks it to stop.

Textual 8's Linux driver handles only job control and resizing (SIGTSTP, SIGCONT, SIGWINCH), and
it turns the terminal's ISIG off, so ctrl+c arrives as a key (``help_quit``: a hint, not an exit)
unless ``TEXTUAL_ALLOW_SIGNALS`` is set. SIGTERM and SIGHUP (terminal closed, SSH dropped) would
otherwise end the process on the spot, skipping the unmount, and SIGINT (ctrl+c with
``TEXTUAL_ALLOW_SIGNALS``, or ``kill -INT``) would cancel asyncio's main task and end the app
with status 0. The supported hook is asyncio's ``loop.add_signal_handler``, as
Textual's own web driver uses for SIGINT and SIGTERM: the callback runs on the event loop, where
it may use the app. It clears first (after a hang-up the terminal is gone and the shutdown may
not finish), then asks the app to exit with the shell's status for the signal (128 + number).
A signal that comes while that exit has been stuck for :data:`FORCE_AFTER_SECONDS` ends the
process at once (a hurried second ctrl+c does not: it would leave the terminal in raw mode).

After a hang-up or SIGTERM nobody is there to send a second signal, and the orderly exit can
stick for good: Textual's output thread dies writing to a terminal that is gone, its bounded
queue fills with frames, and the shutdown then waits forever to queue its last write (seen when
an SSH session drops while the wizard paints; the process lives on, holding the run's lock). So
those two signals also start a watchdog that ends the process with the same status once
:data:`FORCE_AFTER_SECONDS` have passed; an exit that finishes sooner is not affected, and a
headless app (driven by tests, with no terminal) gets none.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from typing import Any

from textual.app import App

from ..wizard.clipboard import clear_pending, pending_on_clipboard

#: The signals that end the wizard, after it has cleared the clipboard.
EXIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)

#: Seconds an exit asked for by a signal may take before another signal (or, after a hang-up
#: or SIGTERM, the watchdog) forces it.
FORCE_AFTER_SECONDS = 3.0

#: The exit signals no one follows with a second one: the terminal hung up, or a supervisor
#: asked the process to end.
UNATTENDED_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)

QUIT_NOTE = ("The secret you copied is still on the clipboard: quitting clears it, so paste it "
             "first.")


def quit_note() -> str:
    """A sentence for the quit dialog when a copied secret is still on its clipboard, else ''."""
    return QUIT_NOTE if pending_on_clipboard() else ""


class ClipboardExitGuard:
    """Clears copied secrets when the app stops, however it stops.

    :meth:`start` from the app's ``on_mount`` (it needs the running loop); :meth:`stop` from
    its ``on_unmount``. Both are safe to call more than once.
    """

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The signals handled, with the Python-level handler each had before.
        self._previous: dict[int, Any] = {}
        #: When (monotonic) a signal first asked the app to exit.
        self._exit_asked: float | None = None

    def start(self) -> None:
        """Handle the exit signals on the app's loop (only possible in the main thread)."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        for signum in EXIT_SIGNALS:
            previous = signal.getsignal(signum)
            try:
                self._loop.add_signal_handler(signum, self._on_signal, signum)
            except (ValueError, RuntimeError, NotImplementedError):
                continue  # not the main thread, or no signals on this platform
            self._previous[signum] = previous

    def stop(self) -> None:
        """Clear what is still pending, then give the signals back to their old handlers."""
        clear_pending()
        loop, self._loop = self._loop, None
        for signum, previous in self._previous.items():
            with contextlib.suppress(Exception):
                if loop is not None:
                    loop.remove_signal_handler(signum)
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def _on_signal(self, signum: int) -> None:
        clear_pending()
        status = 128 + signum
        now = time.monotonic()
        if self._exit_asked is None:
            self._exit_asked = now
            # Not when headless (tests drive the app in their own process, with no terminal
            # to hang up on): there the watchdog would end the test run.
            if signum in UNATTENDED_SIGNALS and not self._app.is_headless:
                watchdog = threading.Timer(FORCE_AFTER_SECONDS, os._exit, (status,))
                watchdog.daemon = True  # an exit that finishes in time is not held up by it
                watchdog.start()
            self._app.exit(return_code=status)
        elif now - self._exit_asked >= FORCE_AFTER_SECONDS:
            os._exit(status)  # the orderly exit is stuck; the clipboard is clear

