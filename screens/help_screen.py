"""F1: the keys that work on the current page, and what it does and why (the registry's words).

The keys are read from the page's active bindings when F1 is pressed, so the list is exactly what
works there, described by each binding's tooltip, plus the keys its widgets understand
(``PageScreen.WIDGET_KEYS``).
"""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

GENERAL = [("tab", "Next answer or choice; the arrow keys change a choice"),
           ("ctrl+p", "Command palette: go to any page, change the theme, quit")]


class HelpScreen(ModalScreen[None]):
    """Help for one page; Escape or F1 closes it."""

    BINDINGS = [Binding("escape,f1", "close", "Close help", id="close-help",
                        tooltip="Back to the page")]

    def __init__(self, title: str, body: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.keys = keys + GENERAL

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, what in self.keys:
            table.add_row(key, what)
        with Vertical(id="help", classes="dialog"):
            yield Static(f"Help: {self.title_text}", classes="dialog-title")
            with VerticalScroll(classes="help-body"):
                # The keys first: on a small terminal they are what the operator came for, and
                # the explanation scrolls below them.
                yield Static("Keys", classes="field-label")
                yield Static(table)
                yield Static(self.body, markup=False, classes="help-text")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
