"""The frame every page shares: the step list, the page itself, and the Footer.

A page is a ``Screen[Nav]``: it dismisses with where the driver should go next, so the order of
pages lives in one place (:meth:`screens.app.WizardApp.run_flow` over the registry). The heading,
the title and the F1 help come from :mod:`wizard.registry`; the Footer always starts with the
page's Enter key and Quit, so both stay visible on an 80-column terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from ..wizard.model import StepResult
from ..wizard.registry import PAGES, PageInfo
from .flow import BACK, Nav
from .messages import Job, RunChanged, SecretCopied, TextCopied, WorkFailed
from .widgets.field import AnswerField
from .widgets.plan_panel import result_line
from .widgets.step_list import StepList

if TYPE_CHECKING:
    from .app import WizardApp
    from .run_state import RunState

#: Seconds of quiet typing before the plans are asked again.
REPLAN_DELAY = 0.4


def page_info(key: str) -> PageInfo:
    return next(p for p in PAGES if p.key == key)


class PageScreen(Screen[Nav]):
    """One page of the wizard; ``KEY`` is its key in :data:`wizard.registry.PAGES`."""

    KEY: ClassVar[str] = ""
    #: The page puts the focus where it belongs itself, without scrolling the heading away.
    AUTO_FOCUS = None
    #: What F1 adds to the registry's explanation of the step.
    HELP: ClassVar[str] = ""
    #: Keys the page's widgets understand (not page bindings, so the Footer cannot list them):
    #: F1 lists them beside the bindings, so nothing the page answers to goes unsaid.
    WIDGET_KEYS: ClassVar[tuple[tuple[str, str], ...]] = ()

    # Order matters: the Footer lists these first, so Enter and Quit never fall off its end.
    BINDINGS = [
        Binding("enter", "primary", "Continue", priority=True, id="primary",
                tooltip="Go on to the next page"),
        Binding("ctrl+q", "app.quit", "Quit", priority=True, id="quit",
                tooltip="Leave the wizard (asks first in the middle of the setup)"),
        Binding("escape", "back", "Back", id="back",
                tooltip="The previous page; every answer is kept"),
        Binding("f1", "help", "Help", id="help", tooltip="What this page does, and its keys"),
        Binding("pagedown", "scroll_page(1)", "Scroll down", show=False, id="scroll-down",
                tooltip="Scroll the page down"),
        Binding("pageup", "scroll_page(-1)", "Scroll up", show=False, id="scroll-up",
                tooltip="Scroll the page up"),
    ]

    def __init__(self, ran: StepResult | None = None) -> None:
        super().__init__()
        #: What the previous page's step just did (shown on top of this page).
        self.ran_before = ran
        #: True once the widgets exist (mounting has begun): the page can show the run.
        self.shown = False
        self._replan_timer: Timer | None = None

    @property
    def wizard(self) -> WizardApp:
        return cast("WizardApp", self.app)

    @property
    def state(self) -> RunState:
        return self.wizard.state

    @property
    def info(self) -> PageInfo:
        return page_info(self.KEY)

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield StepList(id="steps")
            with VerticalScroll(id="page", can_focus=False):
                yield Static(self.heading(), id="heading", classes="heading")
                yield Static(self._ran_before_text(), id="ran-before", classes="ran-before")
                yield from self.compose_page()
        yield Footer()

    def compose_page(self) -> ComposeResult:
        """The page's own widgets."""
        yield from ()

    def _ran_before_text(self) -> Text:
        result = self.ran_before
        if result is None:
            return Text("")
        number = self.state.step_number(result.key)
        where = f"Step {number[0]} · " if number else ""
        return Text(f"{where}{result.title}: {result_line(result)}")

    def on_mount(self) -> None:
        # The one mount handler of the page classes (Textual calls each class's own handler,
        # so subclasses extend :meth:`mounted` instead).
        self.shown = True
        self.query_one("#ran-before").display = self.ran_before is not None
        # A choice scrolls itself into view when mounted; the page starts at its heading.
        self.call_after_refresh(self._to_top)
        self.mounted()

    def mounted(self) -> None:
        """The page's widgets exist: show the run, put the focus where it belongs."""

    def _to_top(self) -> None:
        self.query_one("#page", VerticalScroll).scroll_home(animate=False)

    def heading(self) -> str:
        number = self.state.step_number(self.KEY)
        if number is None:
            return self.info.title
        return f"Step {number[0]} of {number[1]} · {self.info.title}"

    # -- answers ---------------------------------------------------------------------------

    def answer_text(self, name: str) -> str:
        """An answer as its input shows it (a project slug: the first one)."""
        value = self.state.answers.get(name)
        if isinstance(value, list | tuple):
            return str(value[0]) if value else ""
        return "" if value is None else str(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        field = next((f for f in self.query(AnswerField) if f.input is event.input), None)
        if field is None:
            return
        event.stop()
        self.save(field.answer, self.typed_value(field.answer, field.value))

    def typed_value(self, answer: str, text: str) -> Any:
        """What the input's text is as an answer (a project slug keeps the CLI's other ones)."""
        if answer == "circleci_projects":
            rest = tuple(self.state.answers.get(answer) or ())[1:]
            return (text, *rest) if text.strip() else rest
        return text

    def save(self, answer: str, value: Any) -> None:
        """Keep an answer as typed; the plans are asked again once typing pauses."""
        if self.state.answers.get(answer) == value:
            return
        self.wizard.set_answer(answer, value)
        self.answers_changed()

    def answers_changed(self) -> None:
        self.show_answer_problems()
        if self._replan_timer is not None:
            self._replan_timer.stop()
        self._replan_timer = self.set_timer(REPLAN_DELAY, self._replan)
        self.refresh_page()

    def _replan(self) -> None:
        self._replan_timer = None
        self.wizard.replan()

    def show_answer_problems(self) -> None:
        for field in self.query(AnswerField):
            field.show_problems(self.state.problems_for(field.answer))

    # -- what the app tells the page -------------------------------------------------------

    def on_run_changed(self, _: RunChanged) -> None:
        self.run_changed()

    def run_changed(self) -> None:
        """Plans, results or the connection changed."""
        self.refresh_page()

    def on_secret_copied(self, answer: SecretCopied) -> None:
        self.notify(self.wizard.copy_notes[answer.key_id])
        self.refresh_page()

    def on_text_copied(self, answer: TextCopied) -> None:
        self.notify(answer.note)
        self.refresh_page()

    def on_work_failed(self, message: WorkFailed) -> None:
        self.work_failed(message.job, message.key, message.sentence)

    def refresh_page(self) -> None:
        """Show the run as it is now (plans, results, answers)."""
        if not self.shown:
            return
        self.query_one("#heading", Static).update(self.heading())
        for widget in self.query(StepList):
            widget.refresh()

    def work_failed(self, job: Job, key: str | None, sentence: str) -> None:
        """Background work this page asked for failed (``sentence`` says why): the one way
        a failure reaches a page; a page that shows it in place overrides this."""
        self.notify(sentence, severity="error", timeout=10)

    # -- keys ------------------------------------------------------------------------------

    def busy(self) -> bool:
        """True while the page waits for a step to finish: leaving would hide its outcome."""
        return False

    def action_primary(self) -> None:
        from .flow import NEXT

        self.dismiss(NEXT)

    def action_back(self) -> None:
        if self.busy():
            self.notify("Wait for the step to finish before going back.", severity="warning")
            return
        self.dismiss(BACK)

    def action_scroll_page(self, direction: int) -> None:
        page = self.query_one("#page", VerticalScroll)
        if direction > 0:
            page.scroll_page_down()
        else:
            page.scroll_page_up()

    def help_text(self) -> str:
        step = self.info.step
        return "\n\n".join(t for t in (step.why if step else "", self.HELP) if t)

    def action_help(self) -> None:
        from .help_screen import HelpScreen  # not needed for the first frame

        keys = []
        for binding in (b.binding for b in self.active_bindings.values()):
            if binding.show or binding.id in ("scroll-down", "scroll-up"):
                keys.append((self.app.get_key_display(binding), binding.tooltip
                             or binding.description))
        keys += self.WIDGET_KEYS
        self.app.push_screen(HelpScreen(self.info.title, self.help_text(), keys))
