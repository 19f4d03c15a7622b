"""The frame every page shares: the step list on the left, the page on the right, the Footer.

A page is a ``Screen[Nav]``: it dismisses with where the driver should go next, so the flow
lives in one place (:meth:`screens.app.WizardApp.run_flow`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from screens.flow import BACK, PAGE_KEYS, TITLES, Nav, applies
from screens.help_screen import HelpScreen
from screens.widgets.step_list import StepList

if TYPE_CHECKING:
    from screens.app import WizardApp


class PageScreen(Screen[Nav]):
    """One page of the wizard."""

    #: The page key from :data:`screens.flow.PAGES`.
    KEY: ClassVar[str] = ""
    #: Extra help for F1, after the step's own explanation.
    HELP: ClassVar[str] = ""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Previous step; answers are kept"),
        Binding("f1", "help", "Help", id="help", tooltip="What this step does and its keys"),
    ]

    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield StepList(id="steps")
            with VerticalScroll(id="page"):
                yield Static(self.heading(), id="heading", classes="heading")
                yield from self.compose_page()
        yield Footer()

    def compose_page(self) -> ComposeResult:
        """The page's own widgets."""
        yield from ()

    def heading(self) -> str:
        config = self.wizard.config
        shown = [key for key in PAGE_KEYS[1:-1] if applies(key, config)]
        title = TITLES[self.KEY]
        if self.KEY in shown:
            return f"Step {shown.index(self.KEY) + 1} of {len(shown)} · {title}"
        return title

    def help_text(self) -> str:
        return self.HELP

    def on_screen_resume(self) -> None:
        self.refresh_steps()

    def refresh_steps(self) -> None:
        for widget in self.query(StepList):
            widget.refresh()

    def busy(self) -> bool:
        """True while the page waits for AWS; going back then would lose the answer."""
        return False

    def action_back(self) -> None:
        if self.busy():
            self.notify("Wait for the step to finish before going back.", severity="warning")
            return
        self.dismiss(BACK)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(TITLES[self.KEY], self.help_text()))
