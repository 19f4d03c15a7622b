"""A real wizard process for the clipboard exit tests, left holding a freshly copied secret.

    python -m tests.e2e.clipboard_exit_driver PIDFILE [--stuck-output]

It starts a sandbox (moto's server, in this process), has the engine make everything up to the
IAM user, then runs the app from ``screens.app.make_app`` in the terminal it was started in (a
tmux pane in the tests) with the real keyring from the environment (under the sandbox's service
name) and the default clipboard (xclip on the test's X server). Textual's auto-pilot, the
supported way to drive an app, goes to the access key page, presses Enter to create the key and
ctrl+s to copy its secret once, as an operator would; then the app waits, within its 30 seconds,
for the test to end it.

SIGUSR1 makes a handler raise, as a bug would, so the app ends through its crash path. With
``--stuck-output``, Textual's output thread never finishes stopping, as happens when it died
writing to a terminal that hung up and its queue is full: the app's orderly exit then sticks
for good. The process id is written to PIDFILE; nothing secret is written anywhere.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

BUCKET = "circleci-builds-123456789012"


def _bug() -> None:
    raise RuntimeError("a bug in a handler")


async def _drive(pilot: Any) -> None:
    from tests.tui.support import wait_for, wait_page

    app = pilot.app
    await wait_for(pilot, lambda: app.connection == "ready", timeout=60, what="the connection")
    app.jump_to("access_key")
    await wait_page(pilot, "access_key", timeout=60)
    screen = app.screen
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen.phase == "ran", timeout=60, what="the key")
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, app.call_later, _bug)
    await pilot.press("ctrl+s")


def _stick_the_output() -> None:
    """Textual's ``WriterThread.stop`` blocked for good, as it is behind a dead terminal."""
    import threading

    from textual.drivers._writer_thread import WriterThread

    WriterThread.stop = lambda self: threading.Event().wait()  # type: ignore[method-assign]


def main(pidfile: str, *options: str) -> int:
    from circleci_s3_wizard.screens.app import make_app
    from circleci_s3_wizard.wizard.sandbox import SANDBOX_SERVICE, Sandbox
    from circleci_s3_wizard.wizard.secret_store import SecretStore
    from tests.tui.support import UP_TO_THE_USER, made_by_the_engine

    if "--stuck-output" in options:
        _stick_the_output()
    with Sandbox() as sandbox:
        sandbox.activate()
        session = sandbox.session()
        store = SecretStore(service=SANDBOX_SERVICE)
        made_by_the_engine(session, store, *UP_TO_THE_USER, bucket=BUCKET)
        app = make_app({"bucket": BUCKET, "create_bucket": True}, session=session,
                       secret_store=store)
        Path(pidfile).write_text(str(os.getpid()))
        app.run(auto_pilot=_drive)
        return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
