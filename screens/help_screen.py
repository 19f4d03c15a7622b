"""F1: what the current step does, why, and the keys that work on it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = """\
[b]Keys[/b]
  Enter    run the step, or continue once it is done
  Escape   back to the previous step (nothing typed is lost)
  Tab      next input or choice;  Space picks a choice
  F1       this help
  Ctrl+P   command palette: jump to a step, light/dark theme, quit
  Ctrl+Q   quit (asks first in the middle of the setup)"""


class HelpScreen(ModalScreen[None]):
    """Help for one page; Escape, F1 or q closes it."""

    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="close-help")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(id="help", classes="dialog"):
            yield Static(f"Help: {self.title_text}", classes="dialog-title")
            with VerticalScroll(classes="help-body"):
                yield Static(self.body, markup=False, classes="help-text")
                yield Static(KEYS)

    def action_close(self) -> None:
        self.dismiss(None)
