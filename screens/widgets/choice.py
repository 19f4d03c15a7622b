"""A choice of a few options whose selected one reads without colour: ``(•)`` vs ``( )``.

Textual's radio buttons show the selection by colour only, and the highlight (where the arrow
keys are) by another colour, so in plain text a highlighted "OIDC" and a selected "Access key"
look the same. Here the arrow keys move the selection itself (highlight and selection are one),
each option is marked ``(•)`` or ``( )``, and the page says the chosen option in words.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import RadioButton, RadioSet


class Choice(RadioButton):
    """One option, marked ``(•)`` when chosen and ``( )`` when not."""

    BUTTON_LEFT = "("
    BUTTON_RIGHT = ")"

    def __init__(self, label: str, value: bool = False, *, id: str | None = None) -> None:
        super().__init__(label, value, id=id)
        self.BUTTON_INNER = "•" if value else " "

    def watch_value(self) -> None:
        super().watch_value()
        self.BUTTON_INNER = "•" if self.value else " "
        self.refresh()

class ChoiceSet(RadioSet):
    """Options where moving is choosing: up/down select the option moved to."""

    BINDINGS = [
        Binding("down,right", "next_choice", "Next option", show=False, id="choice-next",
                tooltip="Choose the next option"),
        Binding("up,left", "previous_choice", "Previous option", show=False,
                id="choice-previous", tooltip="Choose the previous option"),
    ]

    def on_mount(self) -> None:
        self.call_after_refresh(self._highlight_chosen)

    def _highlight_chosen(self) -> None:
        """Start with the highlight on the chosen option (Textual's starts on the first)."""
        for _ in range(max(0, self.pressed_index)):
            self.action_next_button()

    def action_next_choice(self) -> None:
        self.action_next_button()
        self.action_toggle_button()

    def action_previous_choice(self) -> None:
        self.action_previous_button()
        self.action_toggle_button()

    @property
    def chosen(self) -> Choice | None:
        button = self.pressed_button
        return button if isinstance(button, Choice) else None
