"""Step 7: the access key. The secret goes to the keyring first; the screen only masks it.

The key id can be copied as often as needed; the secret exactly once (then the action is
gone), and the clipboard is wiped after 30 seconds if it still holds it. The full secret is
never put into a widget, a notification or a log.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from screens.step_screen import StepScreen
from wizard.config import AuthMode
from wizard.context import RunContext
from wizard.steps.base import Action, StepResult

MASK = "•" * 16


def masked(last_four: str) -> str:
    """What the screen shows for a secret: bullets and its last four characters."""
    return f"{MASK}{last_four}"


class AccessKeyScreen(StepScreen):
    KEY = "access_key"
    HELP = ("Before the key is created the wizard proves the OS keyring works (write, read "
            "back, delete a test entry) and refuses insecure backends, so a key is never made "
            "whose secret could not be kept. 'Copy secret' works once; paste it into CircleCI "
            "(or let the CircleCI step do it through the API). The clipboard is cleared after "
            "30 seconds if it still holds the secret.")
    BINDINGS = [
        Binding("k", "copy_key_id", "Copy id", id="copy-key-id"),
        Binding("s", "copy_secret", "Copy secret (once)", id="copy-secret-key"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.key_id: str | None = None
        self.last_four: str | None = None
        self.once: Any = None
        self.backend: str | None = None

    def compose_details(self) -> ComposeResult:
        yield Static("", id="key-panel", classes="panel")
        with Horizontal(id="copy-buttons", classes="buttons"):
            yield Button("Copy key id (k)", id="copy-id")
            yield Button("Copy secret once (s)", id="copy-secret", variant="warning")
        yield Static("", id="copy-note", classes="note")

    def on_mount(self) -> None:
        super().on_mount()
        for button in self.query(Button):
            button.can_focus = False  # Enter stays "run / next"; k and s copy
        self._show_key()

    def gather(self, ctx: RunContext) -> Any:
        """The keyring's name, and the stored key when the step is already done, so a re-run
        (or coming back to this page) still offers its copy-once of the secret."""
        if ctx.secrets is None:
            return None, None
        stored = None
        if ctx.config.auth is not AuthMode.OIDC:
            from contextlib import suppress

            with suppress(Exception):  # an unusable keyring is the check's to explain
                stored = ctx.secrets.load_access_key(ctx.config.user)
        key = (stored.access_key_id, stored.secret_access_key[-4:]) if stored else None
        return ctx.secrets.backend_name(), key

    def show_gathered(self, extra: Any) -> None:
        self.backend, key = extra
        if key is not None and self.key_id is None and self.last_check is not None \
                and self.last_check.action is Action.EXISTS:
            self.key_id, self.last_four = key
            self.once = self.wizard.secret_once(self.wizard.config.user, self.key_id)
            self._show_key()

    def after_apply(self, ctx: RunContext, result: StepResult) -> Any:
        if result.action is Action.SKIP or ctx.secrets is None:
            return None
        stored = ctx.secrets.load_access_key(ctx.config.user)
        if stored is None:
            return None
        return stored.access_key_id, stored.secret_access_key[-4:]

    def show_applied(self, result: StepResult, extra: Any) -> None:
        if extra is None:
            return
        self.key_id, self.last_four = extra
        self.once = self.wizard.secret_once(self.wizard.config.user, self.key_id)
        self._show_key()

    def handle_error(self, error: Exception) -> bool:
        from wizard.steps.access_key_step import SecretHandoff

        if not isinstance(error, SecretHandoff):
            return False
        key = error.access_key
        self.key_id, self.last_four = key.access_key_id, key.secret_access_key[-4:]
        self.once = self.wizard.secret_once(self.wizard.config.user, self.key_id,
                                            lambda: key.secret_access_key)
        self.wizard.set_status(self.KEY, "failed")
        self.set_state("failed")
        self.show_outcome(f"✗ {error}\nCopy the secret now (s): it is the only chance.", "error")
        self._show_key()
        return True

    def _show_key(self) -> None:
        panel = self.query_one("#key-panel", Static)
        have = self.key_id is not None
        panel.display = have
        self.query_one("#copy-buttons").display = have
        self.query_one("#copy-secret").display = have and not self.once.used
        if have:
            where = f"in your OS keyring ({self.backend})" if self.backend else \
                "in your OS keyring"
            secret_line = (f"{masked(self.last_four or '')}  (copied once; kept {where})"
                           if self.once.used else f"{masked(self.last_four or '')}  ({where})")
            panel.update(Text(self.wizard.shown(f"Access key id   {self.key_id}\n"
                                                f"Secret          {secret_line}")))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_key_id":
            return self.key_id is not None
        if action == "copy_secret":
            return self.once is not None and not self.once.used
        return super().check_action(action, parameters)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy-id":
            self.action_copy_key_id()
        elif event.button.id == "copy-secret":
            self.action_copy_secret()

    def action_copy_key_id(self) -> None:
        if self.key_id:
            self.wizard.copy(self.key_id, "the access key id", done=self._copied)

    def action_copy_secret(self) -> None:
        if self.once is None or self.once.used:
            return
        self.wizard.copy(None, "the secret (once)", once=self.once, done=self._copied)

    def _copied(self, mechanism: str) -> None:
        if not self.is_attached:
            return
        seconds = int(self.wizard.clear_after)
        note = f"Copied with {mechanism}."
        if self.once is not None and self.once.used:
            note += (f" The secret will be cleared from the clipboard in {seconds} s if it is "
                     "still there.")
        self.query_one("#copy-note", Static).update(Text(note))
        self._show_key()
