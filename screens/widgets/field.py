"""A labelled input for one answer, with the engine's word on it shown underneath.

The label is the answer's name from :data:`wizard.answers.FIELDS` (the same name the CLI's errors
use for its option), and the line under the input shows the problems the config builder found
with that answer: the very sentence the CLI would print. The input never decides what is valid.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from ...wizard.answers import label_of
from ...wizard.validation import Problem


class AnswerField(Vertical):
    """Label, input and a line for the answer's problems; ``answer`` names the config field."""

    DEFAULT_CSS = """
    AnswerField { height: auto; margin-bottom: 1; }
    AnswerField > .field-problem { height: auto; }
    """

    def __init__(self, answer: str, value: str, *, label: str | None = None,
                 placeholder: str = "") -> None:
        super().__init__(id=f"field-{answer}")
        self.answer = answer
        self.label = label or label_of(answer)
        self._input = Input(value=value, placeholder=placeholder, id=answer, compact=True)

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        yield self._input
        yield Static("", classes="field-problem")

    @property
    def input(self) -> Input:
        return self._input

    @property
    def value(self) -> str:
        return self._input.value

    def show_problems(self, problems: list[Problem]) -> None:
        """Errors first (they stop the page), else warnings (they never do)."""
        errors = [p for p in problems if p.severity == "error"]
        shown = errors or problems
        line = self.query_one(".field-problem", Static)
        line.update("\n".join(f"{'✗' if errors else '!'} {self.label} {p.rule}" for p in shown))
        line.display = bool(shown)
        line.set_class(bool(errors), "-error")
        line.set_class(bool(shown) and not errors, "-warning")
