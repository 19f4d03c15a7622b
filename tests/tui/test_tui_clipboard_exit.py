"""A copied secret never outlives the wizard: quit, crash and exit signals all clear it.

In-process (Textual's ``run_test``) against moto and the real X clipboard (Xvfb + xclip): the
app copies the access key's secret with its default clipboard, the test leaves the app within
the 30 seconds, and then reads the clipboard as another program would and looks for the xclip
process that served it. Checks compare digests, so a failure never prints the secret.
The same in a real terminal, as a separate process, is in ``test_tui_clipboard_exit_process``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from textual.worker import WorkerFailed

from circleci_s3_wizard.screens.app import make_app
from circleci_s3_wizard.screens.clipboard_exit import QUIT_NOTE
from circleci_s3_wizard.screens.confirm_screen import ConfirmScreen
from circleci_s3_wizard.wizard.clipboard import clear_pending, pending_copies
from tests.fixtures.clipboard_support import (
    alive,
    clipboard_text,
    copy_as_operator,
    eventually,
    holds,
    xclip_servers,
)
from tests.tui.support import (
    UP_TO_THE_USER,
    MemoryStore,
    flat,
    goto,
    made_by_the_engine,
    screen_text,
    wait_for,
)

BUCKET = "circleci-builds-123456789012"
USER = "circleci_service"
OPERATOR_TEXT = "something the operator copied later"


def dialog_says_it_clears(app: Any) -> bool:
    """True if the screen tells the operator that quitting clears the clipboard."""
    return flat(QUIT_NOTE) in flat(screen_text(app))


@pytest.fixture
def display(x_display: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    clear_pending()
    yield x_display
    clear_pending()


def secret_of(store: MemoryStore) -> str:
    key = store.load_access_key(USER)
    assert key is not None, "the wizard did not keep the key"
    return key.secret_access_key


async def copied_secret(pilot: Any, store: MemoryStore, display: str) -> tuple[str, int]:
    """On the access key page: make the key, copy its secret once (ctrl+s); the secret and the
    pid of the xclip process serving it."""
    app = pilot.app
    await goto(pilot, "access_key")
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
    secret = secret_of(store)
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: holds(secret, display), what="the secret on the clipboard")
    await wait_for(pilot, lambda: len(xclip_servers(display)) == 1, what="one xclip server")
    await wait_for(pilot, lambda: "copied once with xclip" in flat(screen_text(app)),
                   what="the copy note")
    return secret, xclip_servers(display)[0]


def owed_a_clear(app: Any, store: MemoryStore) -> bool:
    """True if the run's copy of the secret is still pending a clear (by the engine's account)."""
    key_id = store.load_access_key(USER).access_key_id

    def never() -> str:
        raise AssertionError("the run has no copy-once guard for this key")

    once = app.state.copy_once(key_id, never)  # the run's one guard for that key
    return once.pending and once in pending_copies()


def new_app(session: Any, store: MemoryStore) -> Any:
    """The app as the console script builds it, but with moto and an in-memory keyring; no
    clipboard given, so it uses the desktop's (xclip on the test's X server)."""
    made_by_the_engine(session, store, *UP_TO_THE_USER)
    return make_app({"bucket": BUCKET, "create_bucket": True}, session=session,
                    secret_store=store)


async def test_quit_within_30_seconds_clears_the_clipboard(aws_session: Any, display: str
                                                           ) -> None:
    store = MemoryStore()
    app = new_app(aws_session, store)
    async with app.run_test(size=(100, 32)) as pilot:
        secret, server = await copied_secret(pilot, store, display)
        assert owed_a_clear(app, store)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert dialog_says_it_clears(app)
        await pilot.press("y")
        await pilot.pause(0.2)
    assert app.return_code == 0
    still_there = holds(secret, display)
    assert not still_there, "the secret outlived the app on the clipboard"
    assert clipboard_text(display) == ""
    assert eventually(lambda: not alive(server)), "the xclip serving the secret still runs"
    assert xclip_servers(display) == []  # the clear left no server behind either
    assert not owed_a_clear(app, store)


async def test_quit_keeps_what_the_operator_copied_since(aws_session: Any, display: str
                                                         ) -> None:
    store = MemoryStore()
    app = new_app(aws_session, store)
    async with app.run_test(size=(100, 32)) as pilot:
        _, server = await copied_secret(pilot, store, display)
        copy_as_operator(OPERATOR_TEXT, display)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "What was already created stays in AWS" in flat(screen_text(app))
        assert not dialog_says_it_clears(app)  # nothing of ours left on the clipboard to clear
        await pilot.press("y")
        await pilot.pause(0.2)
    assert clipboard_text(display) == OPERATOR_TEXT
    assert not alive(server)  # it lost the selection to the operator's copy
    assert len(xclip_servers(display)) == 1  # the operator's own, untouched


async def test_a_crash_in_a_worker_clears_the_clipboard(aws_session: Any, display: str) -> None:
    """An unhandled exception in a worker ends the app through Textual's crash path."""
    store = MemoryStore()
    app = new_app(aws_session, store)

    async def fails() -> None:
        raise RuntimeError("a bug in a worker")

    with pytest.raises(WorkerFailed, match="a bug in a worker"):  # run_test re-raises it
        async with app.run_test(size=(100, 32)) as pilot:
            secret, server = await copied_secret(pilot, store, display)
            app.run_worker(fails(), exit_on_error=True)
            await pilot.pause(1)
    assert app.return_code == 1
    still_there = holds(secret, display)
    assert not still_there, "the secret outlived the crashed app on the clipboard"
    assert not alive(server)


async def test_sigterm_clears_the_clipboard_and_exits_143(aws_session: Any, display: str
                                                          ) -> None:
    store = MemoryStore()
    app = new_app(aws_session, store)
    before = signal.getsignal(signal.SIGTERM)
    async with app.run_test(size=(100, 32)) as pilot:
        secret, server = await copied_secret(pilot, store, display)
        handled = signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, before)
        assert handled, "SIGTERM is not handled: it would end the test run itself"
        os.kill(os.getpid(), signal.SIGTERM)
        await pilot.pause(0.5)
    assert app.return_code == 128 + signal.SIGTERM
    still_there = holds(secret, display)
    assert not still_there, "the secret outlived SIGTERM on the clipboard"
    assert not alive(server)
    assert signal.getsignal(signal.SIGTERM) == before  # handed back on unmount


async def test_quit_dialog_after_the_timer_cleared_says_nothing_of_the_clipboard(
        aws_session: Any, display: str) -> None:
    store = MemoryStore()
    app = new_app(aws_session, store)
    async with app.run_test(size=(100, 32)) as pilot:
        app.clear_after = 1.0
        secret, _ = await copied_secret(pilot, store, display)
        await wait_for(pilot, lambda: not owed_a_clear(app, store), what="the timer's clear")
        assert not holds(secret, display)
        await wait_for(pilot, lambda: "cleared from the clipboard" in flat(screen_text(app)),
                       what="the cleared note")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert not dialog_says_it_clears(app)
        assert "What was already created stays in AWS" in flat(screen_text(app))
        await pilot.press("y")
