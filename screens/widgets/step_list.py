"""The sidebar: every page of the wizard with where the operator is and what is done."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.widget import Widget

from screens.flow import PAGES, applies

if TYPE_CHECKING:
    from screens.app import WizardApp

#: status -> marker. ``current`` wins over any other status.
MARKERS: dict[str, str] = {
    "current": "▶",
    "done": "✓",
    "exists": "✓",
    "failed": "✗",
    "skipped": "–",
    "pending": "·",
}


class StepList(Widget):
    """Renders the app's ``page_status`` for each page; refreshed by the app on every change."""

    COMPONENT_CLASSES = {f"step-list--{status}" for status in MARKERS}
    DEFAULT_CSS = """
    StepList { width: 22; height: 1fr; padding: 1 1; }
    StepList > .step-list--current { color: $accent; text-style: bold; }
    StepList > .step-list--done { color: $success; }
    StepList > .step-list--exists { color: $success; text-style: italic; }
    StepList > .step-list--failed { color: $error; text-style: bold; }
    StepList > .step-list--skipped { color: $text-muted; }
    StepList > .step-list--pending { color: $text-muted; }
    """

    def status_of(self, key: str) -> str:
        app = cast("WizardApp", self.app)
        if key == app.current_page:
            return "current"
        if not applies(key, app.config):
            return "skipped"
        return app.page_status.get(key, "pending")

    def render(self) -> Text:
        text = Text()
        for key, title in PAGES:
            status = self.status_of(key)
            style = self.get_component_rich_style(f"step-list--{status}")
            line = Text(f"{MARKERS[status]} {title}", style=style)
            text.append_text(line)
            text.append("\n")
        return text
