"""Where a CircleCI personal API token is pasted, when the wizard has none (or CircleCI refused it).

The token goes straight from the input to :func:`wizard.connect.sign_in_circleci` (in a worker),
which checks it with CircleCI and keeps it in the OS keyring; the input is emptied at once, and
no message ever holds the token.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

ASK = ("No CircleCI token yet (CIRCLE_TOKEN is unset and the keyring holds none). Paste a "
       "personal API token (User Settings > Personal API Tokens) and press Enter to let the "
       "wizard set the variables; or leave it empty and add them by hand.")


class TokenBox(Vertical):
    """A hidden input for the token and a line saying what happened to it."""

    DEFAULT_CSS = """
    TokenBox { height: auto; margin-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Label("CircleCI API token (hidden; kept in your OS keyring)", classes="field-label")
        yield Input(password=True, id="token", placeholder="paste the token, then Enter",
                    compact=True)
        yield Static(ASK, id="token-note", classes="note")

    @property
    def input(self) -> Input:
        return self.query_one("#token", Input)

    def take(self) -> str:
        """The pasted token, removed from the input."""
        token = self.input.value.strip()
        self.input.value = ""
        return token

    def say(self, text: str) -> None:
        self.query_one("#token-note", Static).update(Text(text))
