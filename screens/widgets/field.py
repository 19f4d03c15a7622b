"""A labelled input bound to one SetupConfig field, with the engine's rule shown under it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from screens.validators import EngineValidator
from wizard.validation import Problem


class Field(Vertical):
    """Label, input and a line for errors/warnings.

    ``config_field`` names the SetupConfig attribute the value is saved to; ``optional`` fields
    may be left empty (saved as ``None``) and are only validated when filled in.
    """

    DEFAULT_CSS = """
    Field { height: auto; margin-bottom: 1; }
    Field > .field-problem { height: auto; }
    """

    def __init__(
        self,
        label: str,
        config_field: str,
        value: str,
        validator: EngineValidator | None = None,
        *,
        optional: bool = False,
        password: bool = False,
        placeholder: str = "",
    ) -> None:
        super().__init__(id=f"field-{config_field}")
        self.label = label
        self.config_field = config_field
        self.validator = validator
        self.optional = optional
        self._input = Input(
            value=value,
            placeholder=placeholder,
            password=password,
            validators=[validator] if validator else [],
            validate_on=["changed", "submitted"],
            id=config_field,
            compact=True,
        )

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        yield self._input
        yield Static("", classes="field-problem")

    def on_mount(self) -> None:
        self.show_problems()

    @property
    def input(self) -> Input:
        return self._input

    @property
    def value(self) -> str:
        return self._input.value.strip() if self.config_field != "prefix" else self._input.value

    @property
    def config_value(self) -> str | None:
        """What goes into the SetupConfig: the typed text, or None for an empty optional field."""
        value = self.value
        return None if (self.optional and not value) else value

    def problems(self) -> list[Problem]:
        """The engine's problems with the current value (none for an empty optional field)."""
        if self.validator is None or (self.optional and not self.value):
            return []
        return self.validator.problems(self.value)

    def errors(self) -> list[str]:
        assert self.validator is not None or not self.problems()
        return [self.validator.sentence(p) for p in self.problems() if p.severity == "error"]

    def show_problems(self) -> list[Problem]:
        """Refresh the line under the input; returns the problems shown."""
        problems = self.problems()
        line = self.query_one(".field-problem", Static)
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity == "warning"]
        shown = errors or warnings
        line.update("\n".join(f"{'✗' if errors else '!'} {self.validator.sentence(p)}"
                              for p in shown) if shown and self.validator else "")
        line.set_class(bool(errors), "error")
        line.set_class(bool(warnings) and not errors, "warning")
        return problems
