"""An access key as a page shows it: its id, the secret masked, and the one copy of the secret.

The Access key page, the CircleCI page's by-hand box and the Done page show the same key, and the
secret can be copied once per run, from whichever page comes first: they share one
:class:`~wizard.clipboard.CopyOnce` per key id (see :meth:`screens.run_state.RunState.copy_once`).
The same keys everywhere: ctrl+k copies the key id, ctrl+s the secret (once). The full secret
never enters a widget: the page knows only its last four characters.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

MASK = "•" * 16

#: The copy keys of every page that shows a key (the page implements the two actions).
COPY_BINDINGS = [
    Binding("ctrl+k", "copy_key_id", "Copy key id", priority=True, id="copy-key-id",
            tooltip="Copy the access key id to the clipboard"),
    Binding("ctrl+s", "copy_secret", "Copy secret once", priority=True, id="copy-secret",
            tooltip="Copy the secret to the clipboard, once per run; cleared after 30 s"),
]


def masked(last_four: str | None) -> str:
    """What the screen shows for a secret: bullets and its last four characters."""
    return f"{MASK}{last_four or '????'}"


class SecretCopy(Vertical):
    """Key id, masked secret, copy buttons (not Tab stops: ctrl+k/ctrl+s) and the copy note."""

    DEFAULT_CSS = """
    SecretCopy { height: auto; }
    SecretCopy > Horizontal { height: auto; }
    SecretCopy Button { margin: 0 1 0 0; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="key-lines")
        with Horizontal():
            yield Button("Copy key id (ctrl+k)", id="copy-key-id-button",
                         action="screen.copy_key_id", compact=True)
            yield Button("Copy secret once (ctrl+s)", id="copy-secret-button",
                         action="screen.copy_secret", variant="warning", compact=True)
        yield Static("", classes="copy-note")

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False  # Enter stays the page's key; ctrl+k/ctrl+s copy

    def show(self, key_id: str, last_four: str | None, where: str, *, can_copy: bool,
             note: str) -> None:
        secret = masked(last_four) if last_four else "(only in your keyring)"
        self.query_one(".key-lines", Static).update(Text(
            f"Access key id  {key_id}\nSecret         {secret}  ({where})"))
        self.query_one("#copy-secret-button").display = can_copy
        self.query_one(".copy-note", Static).update(Text(note))
