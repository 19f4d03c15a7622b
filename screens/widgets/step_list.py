"""The sidebar: the registry's pages for these answers, where the operator is, and what is done.

Each line carries a marker that reads without colour: ``▶`` here, ``✓`` nothing left to do, ``·``
will create, ``!`` will change something that exists (asks first), ``✗`` cannot run as it stands.
Below 80 columns the stylesheet hides it; the page heading's "Step n of m" stays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widget import Widget

from ...wizard.model import Action
from ...wizard.registry import PageInfo, pages_for

if TYPE_CHECKING:
    from ..app import WizardApp

MARKERS: dict[str, str] = {
    "current": "▶",
    "done": "✓",
    "todo": "·",
    "change": "!",
    "stopped": "✗",
}


class StepList(Widget):
    """Re-rendered whenever the run changes (the page calls :meth:`refresh`)."""

    COMPONENT_CLASSES = {f"step-list--{status}" for status in MARKERS}
    DEFAULT_CSS = """
    StepList > .step-list--current { color: $accent; text-style: bold; }
    StepList > .step-list--done { color: $success; }
    StepList > .step-list--change { color: $warning; }
    StepList > .step-list--stopped { color: $error; text-style: bold; }
    StepList > .step-list--todo { color: $text-muted; }
    """

    def status_of(self, page: PageInfo) -> str:
        app = cast("WizardApp", self.app)
        state, key = app.state, page.key
        if key == app.current_page:
            return "current"
        if key in state.done() or (page.step is None and key in app.passed):
            return "done"
        plan = state.plan(key)
        if plan is None:
            return "todo"
        if plan.action.stops:
            return "stopped"
        return "change" if plan.action in (Action.UPDATE, Action.REPAIR) else "todo"

    def render(self) -> Text:
        app = cast("WizardApp", self.app)
        text = Text()
        for page in pages_for(app.state.flow_config):
            status = self.status_of(page)
            style = self.get_component_rich_style(f"step-list--{status}")
            text.append_text(Text(f"{MARKERS[status]} {page.title}\n", style=style))
        return text
