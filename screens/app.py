"""The Textual app: owns the answers and the connections, and drives the pages in order.

``make_app`` takes every dependency (AWS session factory, keyring store, clipboard), so tests
hand in moto sessions and fakes. The first frame never waits for boto3, moto or the keyring:
the sandbox starts and the session is built in a thread worker once the Welcome page has been
painted, while it says "connecting…". The flow itself is one loop (:meth:`WizardApp.run_flow`)
that awaits each page with ``push_screen_wait``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Callable
from importlib import import_module
from importlib.resources import files
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from screens.clipboard_exit import ClipboardExitGuard, quit_note
from screens.commands import WizardCommands
from screens.confirm_screen import ConfirmScreen
from screens.flow import PAGE_KEYS, QUIT, following, jump
from screens.page import PageScreen
from wizard.config import AuthMode, SetupConfig
from wizard.context import Identity, RunContext
from wizard.errors import explain
from wizard.steps.base import Action, Step, StepResult

SessionFactory = Callable[[SetupConfig], Any]

#: The AWS steps, imported on first use (each module is small and boto3-free at import).
_AWS_STEPS = {
    "bucket": ("wizard.steps.bucket_step", "BucketStep"),
    "folder": ("wizard.steps.folder_step", "FolderStep"),
    "group": ("wizard.steps.group_step", "GroupStep"),
    "policy": ("wizard.steps.policy_step", "PolicyStep"),
    "attach": ("wizard.steps.attach_step", "AttachStep"),
    "user": ("wizard.steps.user_step", "UserStep"),
    "access_key": ("wizard.steps.access_key_step", "AccessKeyStep"),
}
_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b")
_LOCAL_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
_MASKED_SECRET = re.compile(r"(•{16})[^\s•]{4}")
#: A file path: the app writes the time its first page was painted there (for
#: tests/benchmarks/bench_first_frame.py), with the heavy modules loaded by then. Unset: nothing.
FIRST_FRAME_ENV = "CIRCLECI_S3_WIZARD_FIRST_FRAME"
_HEAVY = ("boto3", "botocore", "moto", "keyring")


def write_first_frame(path: str) -> None:
    """``<time.time_ns()> <heavy modules already imported>`` into ``path``."""
    loaded = [name for name in _HEAVY if name in sys.modules]
    Path(path).write_text(f"{time.time_ns()} {','.join(loaded) or '-'}\n")


def stylesheet() -> Path:
    """``assets/wizard.tcss`` from the installed package, wherever it is installed."""
    return Path(str(files("assets").joinpath("wizard.tcss")))


class WizardApp(App[int]):
    """The wizard. Answers live in :attr:`config`; pages read and write them."""

    TITLE = "circleci-s3-wizard"
    CSS_PATH = stylesheet()
    COMMANDS = App.COMMANDS | {WizardCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit",
                tooltip="Leave the wizard; asks first in the middle of the setup"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False, id="theme"),
    ]

    #: connecting | ready | failed
    connection: reactive[str] = reactive("connecting")

    def __init__(
        self,
        config: SetupConfig,
        *,
        sandbox: bool = False,
        session_factory: SessionFactory | None = None,
        secret_store: Any | None = None,
        clipboard: Any | None = None,
        stable_ids: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.use_sandbox = sandbox
        self.session_factory = session_factory
        self.secrets = secret_store
        self.copier = clipboard
        #: Mask random values (key ids, local ports) so screenshots and snapshots are stable.
        self.stable_ids = stable_ids
        #: Seconds after which a copied secret is wiped from the clipboard if still there.
        from wizard.clipboard import CLEAR_AFTER_SECONDS

        self.clear_after: float = CLEAR_AFTER_SECONDS
        self.session: Any = None
        self.identity: Identity | None = None
        self.sandbox: Any = None
        self.circleci: Any = None
        self.circleci_note: str | None = None
        self.connection_error: str | None = None
        self.page_status: dict[str, str] = {}
        self.results: dict[str, StepResult] = {}
        self.outputs: dict[str, Any] = {}
        self.current_page = "welcome"
        self._ctx: RunContext | None = None
        self._steps: dict[str, Step] = {}
        self._copy_once: dict[str, Any] = {}
        #: Wipes a copied secret from the clipboard on quit, crash and exit signals.
        self.clipboard_guard = ClipboardExitGuard(self)

    # -- start-up --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.clipboard_guard.start()
        self.screen_change_signal.subscribe(self, self._first_page_shown)
        self.run_flow()

    def _first_page_shown(self, screen: Any) -> None:
        """Connect once the first page is painted: importing boto3 and moto in a thread
        competes for the GIL, so started any earlier it delays the first frame."""
        if not isinstance(screen, PageScreen):
            return
        self.screen_change_signal.unsubscribe(self)
        marker = os.environ.pop(FIRST_FRAME_ENV, None)
        if marker:
            screen.call_after_refresh(write_first_frame, marker)
        screen.call_after_refresh(self.connect)

    def connect(self) -> None:
        """(Re)connect in the background: sandbox, session, who-am-i, keyring, CircleCI."""
        self.connection = "connecting"
        self.connection_error = None
        self._connect()

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False,
          description="connecting to AWS")
    def _connect(self) -> None:
        try:
            if self.use_sandbox and self.sandbox is None:
                from wizard.sandbox import Sandbox

                sandbox = Sandbox(region=self.config.region or "us-east-1").start()
                sandbox.activate()
                self.sandbox = sandbox
            if self.session_factory is not None:
                session = self.session_factory(self.config)
            elif self.sandbox is not None:
                session = self.sandbox.session()
            else:
                from wizard.context import make_session

                session = make_session(self.config.profile, self.config.region)
            ctx = RunContext(self.config, session)
            identity = ctx.identity
            for service in ("s3", "iam"):  # built here: client creation is not thread-safe
                ctx.client(service)
            if self.secrets is None:
                from wizard.headless import SANDBOX_SERVICE
                from wizard.secret_store import SERVICE, SecretStore

                # As headless --sandbox does: fake keys never replace a real key of that user.
                service = SANDBOX_SERVICE if self.sandbox is not None else SERVICE
                self.secrets = SecretStore(service=service)
        except Exception as exc:  # noqa: BLE001 - shown on the Welcome page with a retry
            self.call_ui(self._connection_failed, str(explain(exc, "connecting to AWS")))
            return
        circleci, note = self.make_circleci_client()
        self.call_ui(self._connected, session, identity, ctx, circleci, note)

    def make_circleci_client(self) -> tuple[Any, str | None]:
        """A CircleCI API client from CIRCLE_TOKEN or the keyring's token, or None and why."""
        try:
            from wizard.circleci.client import CircleCIClient

            return CircleCIClient.from_environment(self.secrets), None
        except Exception as exc:  # noqa: BLE001 - the CircleCI page offers the manual path
            return None, str(exc)

    def call_ui(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """From a worker thread: run ``callback`` on the UI thread (unless the app has gone)."""
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.call_from_thread(callback, *args, **kwargs)

    def _connected(self, session: Any, identity: Identity, ctx: RunContext, circleci: Any,
                   note: str | None) -> None:
        self.session = session
        self.identity = identity
        self.circleci = circleci
        self.circleci_note = note
        self._ctx = ctx  # its clients were built in the worker; identity already asked
        self.connection = "ready"

    def _connection_failed(self, error: str) -> None:
        self.connection_error = error
        self.connection = "failed"

    @property
    def connected(self) -> bool:
        return self.connection == "ready"

    @property
    def profile_name(self) -> str:
        if self.sandbox is not None:
            return "(sandbox)"
        name = self.config.profile or getattr(self.session, "profile_name", None)
        return name or "default"

    def shown(self, text: str) -> str:
        """``text`` as it goes on screen: random parts masked when ``stable_ids`` is on."""
        if not self.stable_ids:
            return text
        text = _KEY_ID.sub(lambda m: m.group(1) + "*" * 16, text)
        text = _MASKED_SECRET.sub(lambda m: m.group(1) + "XXXX", text)
        return _LOCAL_PORT.sub(lambda m: f"{m.group(1)}:PORT", text)

    # -- the engine, bound to the current answers -------------------------------------------

    def context(self) -> RunContext:
        """A RunContext for the answers as they are now, keeping the session's clients."""
        if self._ctx is None:
            self._ctx = RunContext(self.config, self.session, secrets=self.secrets)
            if self.identity is not None:
                self._ctx.__dict__["identity"] = self.identity  # asked once, at connection
        elif self._ctx.config != self.config:
            self._ctx = self._ctx.with_config(self.config)
        self._ctx.secrets = self.secrets
        self._ctx.circleci = self.circleci
        return self._ctx

    def step(self, key: str) -> Step:
        """The engine's step object for ``key`` (steps hold no state, so one of each will do)."""
        if key not in self._steps:
            if key in _AWS_STEPS:
                module, name = _AWS_STEPS[key]
                self._steps[key] = getattr(import_module(module), name)()
            else:  # CircleCI delivery and the OIDC steps: as the engine builds them
                from wizard.engine import build_steps

                oidc = self.config.with_changes(auth=AuthMode.OIDC)
                self._steps.update({s.key: s for s in build_steps(oidc)
                                    if s.key not in _AWS_STEPS})
        return self._steps[key]

    def set_status(self, key: str, status: str) -> None:
        self.page_status[key] = status
        self.refresh_step_list()

    def record(self, key: str, result: StepResult) -> None:
        """Keep what a step did: its status in the step list and its outputs for the summary."""
        self.results[key] = result
        self.outputs.update({k: v for k, v in result.outputs.items() if v is not None})
        status = {Action.EXISTS: "exists", Action.SKIP: "skipped"}.get(result.action, "done")
        self.set_status(key, status)

    def refresh_step_list(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, PageScreen):
                screen.refresh_steps()

    # -- the clipboard ---------------------------------------------------------------------

    def get_copier(self) -> Any:
        """The clipboard in use: the one injected, else the desktop's with OSC 52 fallback."""
        if self.copier is None:
            from screens.clipboard_adapter import FallbackClipboard

            self.copier = FallbackClipboard(self)
        return self.copier

    def secret_once(self, user: str, key_id: str, secret: Callable[[], str] | None = None
                    ) -> Any:
        """The copy-once guard for one access key's secret, shared by every page of this run.

        The secret is read from the keyring only at the moment of copying (in a thread).
        """
        if key_id not in self._copy_once:
            from wizard.clipboard import CopyOnce

            def from_keyring() -> str:
                stored = self.secrets.load_access_key(user) if self.secrets else None
                if stored is None or stored.access_key_id != key_id:
                    raise RuntimeError("The secret is no longer in your keyring.")
                return stored.secret_access_key

            self._copy_once[key_id] = CopyOnce(secret or from_keyring)
        return self._copy_once[key_id]

    def copy(self, text: str | None, what: str, *, once: Any = None,
             done: Callable[[str], None] | None = None) -> None:
        """Copy ``text`` (or ``once``'s secret) in a thread; ``done(mechanism)`` afterwards."""
        self._copy(self.get_copier(), text, what, once, done)

    @work(thread=True, group="clipboard", exit_on_error=False, description="copying")
    def _copy(self, clipboard: Any, text: str | None, what: str, once: Any,
              done: Callable[[str], None] | None) -> None:
        from screens.clipboard_adapter import describe

        try:
            if once is not None:
                once.copy(clipboard)
            else:
                clipboard.copy(text or "")
        except Exception as exc:  # noqa: BLE001 - AlreadyCopied, ClipboardUnavailable...
            self.call_ui(self.notify, f"Could not copy {what}: {exc}", severity="error",
                          timeout=8)
            return
        mechanism = describe(clipboard)
        if once is not None:
            self.call_ui(self._schedule_clear, once, clipboard)
        self.call_ui(self.notify, f"Copied {what} with {mechanism}.")
        if done is not None:
            self.call_ui(done, mechanism)

    def _schedule_clear(self, once: Any, clipboard: Any) -> None:
        self.set_timer(self.clear_after, lambda: self._clear(once, clipboard))

    @work(thread=True, group="clipboard", exit_on_error=False, description="clearing")
    def _clear(self, once: Any, clipboard: Any) -> None:
        if once.clear_if_unchanged(clipboard):
            self.call_ui(self.notify, "The secret was cleared from the clipboard.")

    # -- the flow --------------------------------------------------------------------------

    def page(self, key: str) -> PageScreen:
        from screens.pages import page_screen

        return page_screen(key)()

    @work(exclusive=True, group="flow", description="the wizard's pages in order")
    async def run_flow(self) -> None:
        index = 0
        while True:
            key = PAGE_KEYS[index]
            self.current_page = key
            nav = await self.push_screen_wait(self.page(key))
            if nav is None or nav == QUIT or (key == "done" and nav.kind == "next"):
                self.exit(0)
                return
            index = following(index, nav, self.config)

    def jump_to(self, key: str) -> None:
        """Leave the current page for ``key`` (from the command palette)."""
        if key != "welcome" and not self.connected:
            self.notify("Still connecting to AWS; wait a moment.", severity="warning")
            return
        page = self.screen
        if not isinstance(page, PageScreen):
            return
        if page.busy():
            self.notify("Wait for the step to finish first.", severity="warning")
            return
        page.dismiss(jump(key))

    # -- app-wide actions ------------------------------------------------------------------

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    async def action_quit(self) -> None:
        if self.current_page in ("welcome", "done") or isinstance(self.screen, ConfirmScreen):
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit(0)

        warning = " ".join(filter(None, (self.quit_warning(), quit_note())))
        self.push_screen(ConfirmScreen("Quit the wizard?", warning, yes="Quit", no="Stay"),
                         answered)

    def quit_warning(self) -> str:
        """What quitting now means, in this run's terms (the sandbox forgets everything).

        The dialog adds :func:`screens.clipboard_exit.quit_note` when a copied secret is still
        on the clipboard.
        """
        if self.sandbox is not None:
            return ("Quitting ends the sandbox: everything made in it vanishes, and nothing was "
                    "ever created in AWS.")
        if self.page_status.get("done"):
            return "The setup is complete; quitting leaves it as it is."
        return ("The setup is not finished. What was already created stays in AWS (and the "
                "secret in your keyring); run the wizard again to continue where you left off.")

    def _fatal_error(self) -> None:
        """Report a crash without local variables.

        Textual's own crash report renders every frame's locals, and a frame near the access
        key screen may hold the secret; a secret must never reach the terminal or a log.
        """
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    def on_unmount(self) -> None:
        self.clipboard_guard.stop()
        if self.sandbox is not None:
            self.sandbox.stop()


def make_app(
    config: SetupConfig,
    *,
    sandbox: bool = False,
    session_factory: SessionFactory | None = None,
    secret_store: Any | None = None,
    clipboard: Any | None = None,
    stable_ids: bool = False,
) -> WizardApp:
    """The app with its dependencies; anything not given is made on first use."""
    return WizardApp(config, sandbox=sandbox, session_factory=session_factory,
                     secret_store=secret_store, clipboard=clipboard, stable_ids=stable_ids)


def run_tui(config: SetupConfig, sandbox: bool = False) -> int:
    """Run the wizard in the terminal; the exit status for the CLI."""
    app = make_app(config, sandbox=sandbox)
    code = app.run()
    return int(code or app.return_code or 0)
