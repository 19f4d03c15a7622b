"""Snapshots of every screen of the wizard at a fixed terminal size, against moto.

Each test builds the state an operator would have on arriving at the page (the earlier steps
made by the engine and recorded in the app, as a walk through the pages would), shows the page
and compares an SVG screenshot with the one accepted in ``tests/__snapshots__/``. The app runs
with ``stable_ids=True``, so key ids, a secret's last four characters and local ports are masked;
everything else on screen (moto's fixed account, the ARNs) is the real output.

Update after an intended change of the UI with ``uv run pytest tests/test_tui_snapshots.py
--snapshot-update`` and look at the SVGs before committing them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from screens.app import WizardApp, make_app
from screens.confirm_screen import ConfirmScreen
from screens.flow import PAGE_KEYS
from screens.help_screen import HelpScreen
from tests.tui_support import MemoryClipboard, MemoryStore, svg_rows, wait_for, wait_page
from wizard.config import SetupConfig
from wizard.context import RunContext
from wizard.steps.base import StepResult

BUCKET = "circleci-builds-123456789012"
SIZE = (100, 32)
SMALL = (80, 24)
#: Pages whose steps the engine can make before the app starts (the rest need the app).
ENGINE_PAGES = ("bucket", "folder", "group", "policy", "attach", "user", "access_key",
                "circleci")

Snap = Callable[..., bool]
RunBefore = Callable[[Pilot], Awaitable[None]]


def new_app(session: Any, store: MemoryStore) -> WizardApp:
    config = SetupConfig(bucket=BUCKET, create_bucket=True)
    return make_app(config, session_factory=lambda _: session, secret_store=store,
                    clipboard=MemoryClipboard(), stable_ids=True)


def made_before(session: Any, store: MemoryStore, page: str) -> list[tuple[str, StepResult]]:
    """Apply, with the engine, every step the operator would have run before ``page``."""
    from wizard.engine import Engine

    ctx = RunContext(SetupConfig(bucket=BUCKET, create_bucket=True), session, secrets=store)
    engine = Engine(ctx)
    before = PAGE_KEYS[:PAGE_KEYS.index(page)]
    return [(step.key, step.apply(ctx)) for step in engine.steps
            if step.key in ENGINE_PAGES and step.key in before]


async def settle(pilot: Pilot) -> None:
    """Let every background job finish (not the page driver), and stop cursors blinking."""
    app = pilot.app

    def idle() -> bool:
        return all(w.is_finished for w in app.workers if w.group != "flow")

    await wait_for(pilot, idle, what="background work")
    for screen in app.screen_stack:
        for box in screen.query(Input):
            box.cursor_blink = False  # a blinking cursor is a coin toss in a screenshot
    await pilot.pause()


def arrive(page: str, made: Sequence[tuple[str, StepResult]] = ()) -> RunBefore:
    """Run-before for ``snap_compare``: connect, record what was made, go to ``page``."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        await wait_for(pilot, lambda: app.connection != "connecting", what="the connection")
        assert app.connection == "ready", app.connection_error
        for key, result in made:
            app.record(key, result)
        if page != "welcome":
            app.jump_to(page)
            await wait_page(pilot, page)
        await settle(pilot)

    return run_before


def then(first: RunBefore, more: RunBefore) -> RunBefore:
    """``first``, then ``more`` (keys pressed on the page), then wait for the app to settle."""

    async def run_before(pilot: Pilot) -> None:
        await first(pilot)
        await more(pilot)
        await settle(pilot)

    return run_before


def snap(snap_compare: Snap, app: WizardApp, run_before: RunBefore,
         size: tuple[int, int] = SIZE) -> str:
    """Compare the app's screen with its snapshot; return the screen's text.

    The text comes from a screenshot taken just before ``snap_compare``'s own, of the same
    settled screen; tests assert on it (a passing compare means the accepted SVG shows the same).
    """
    shots: list[str] = []

    async def and_keep(pilot: Pilot) -> None:
        await run_before(pilot)
        shots.append(pilot.app.export_screenshot())

    assert snap_compare(app, terminal_size=size, run_before=and_keep)
    return "\n".join(svg_rows(shots[-1]))


def in_panels(text: str) -> str:
    """The text inside bordered panels, whitespace removed, so wrapped ARNs join up again."""
    inner = [line.split("│", 1)[1].rsplit("│", 1)[0] for line in text.splitlines()
             if line.count("│") >= 2]
    return re.sub(r"\s+", "", "".join(inner))


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["100x32", "80x24"])
def test_welcome(snap_compare: Snap, aws_session: Any, store: MemoryStore,
                 size: tuple[int, int]) -> None:
    text = snap(snap_compare, new_app(aws_session, store), arrive("welcome"), size)
    assert "123456789012" in text


def test_welcome_in_the_sandbox(snap_compare: Snap, store: MemoryStore,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard.sandbox import Sandbox

    for name in Sandbox().environment():  # the sandbox points this process at itself
        monkeypatch.setenv(name, "restored-after-test")
    app = make_app(SetupConfig(), sandbox=True, secret_store=store, clipboard=MemoryClipboard(),
                   stable_ids=True)
    text = snap(snap_compare, app, arrive("welcome"))
    assert "SANDBOX" in text and "127.0.0.1:PORT" in text


@pytest.mark.parametrize("page", ["bucket", "folder", "group", "attach", "user"])
def test_step_page_before_running(snap_compare: Snap, aws_session: Any, store: MemoryStore,
                                  page: str) -> None:
    made = made_before(aws_session, store, page)
    text = snap(snap_compare, new_app(aws_session, store), arrive(page, made))
    assert "What will happen" in text


@pytest.mark.parametrize("size", [SIZE, SMALL], ids=["100x32", "80x24"])
def test_policy(snap_compare: Snap, aws_session: Any, store: MemoryStore,
                size: tuple[int, int]) -> None:
    made = made_before(aws_session, store, "policy")
    text = snap(snap_compare, new_app(aws_session, store), arrive("policy", made), size)
    assert "Create customer-managed policy" in text


def test_access_key_after_it_was_made(snap_compare: Snap, aws_session: Any,
                                      store: MemoryStore) -> None:
    made = made_before(aws_session, store, "access_key")

    async def make_the_key(pilot: Pilot) -> None:
        screen = pilot.app.screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.state == "applied", what="the access key")

    text = snap(snap_compare, new_app(aws_session, store),
                then(arrive("access_key", made), make_the_key))
    key = store.load_access_key("circleci_service")
    assert key.secret_access_key not in text and key.access_key_id not in text
    assert "AKIA" + "*" * 16 in text and "•" * 16 + "XXXX" in text


def test_circleci_without_a_token(snap_compare: Snap, aws_session: Any,
                                  store: MemoryStore) -> None:
    made = made_before(aws_session, store, "circleci")
    text = snap(snap_compare, new_app(aws_session, store), arrive("circleci", made))
    assert store.load_access_key("circleci_service").secret_access_key not in text


async def verified(pilot: Pilot) -> None:
    """On the Verify page: wait for its report."""
    await wait_for(pilot, lambda: pilot.app.screen.report is not None, what="the report")


def test_verify_after_running(snap_compare: Snap, aws_session: Any, store: MemoryStore) -> None:
    made = made_before(aws_session, store, "verify")
    text = snap(snap_compare, new_app(aws_session, store),
                then(arrive("verify", made), verified))
    assert "should be allowed" in text


def test_done(snap_compare: Snap, aws_session: Any, store: MemoryStore) -> None:
    made = made_before(aws_session, store, "verify")

    async def finish(pilot: Pilot) -> None:
        await verified(pilot)
        await pilot.press("enter")
        await wait_page(pilot, "done")

    text = in_panels(snap(snap_compare, new_app(aws_session, store),
                          then(arrive("verify", made), finish)))
    assert f"arn:aws:s3:::{BUCKET}" in text
    assert "arn:aws:iam::123456789012:user/circleci-s3-wizard/circleci_service" in text
    assert "AccesskeyidAKIA" + "*" * 16 in text


def test_help_modal(snap_compare: Snap, aws_session: Any, store: MemoryStore) -> None:
    made = made_before(aws_session, store, "group")

    async def help_(pilot: Pilot) -> None:
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")

    text = snap(snap_compare, new_app(aws_session, store), then(arrive("group", made), help_))
    assert "Help: IAM group" in text


def test_confirm_modal(snap_compare: Snap, aws_session: Any, store: MemoryStore) -> None:
    made = made_before(aws_session, store, "group")

    async def quit_(pilot: Pilot) -> None:
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen),
                       what="the question")

    text = snap(snap_compare, new_app(aws_session, store), then(arrive("group", made), quit_))
    assert "Quit the wizard?" in text
