"""The command palette (ctrl+p): jump to a step, switch light/dark theme, quit."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from screens.flow import PAGES

if TYPE_CHECKING:
    from screens.app import WizardApp


class WizardCommands(Provider):
    """Every page by name, plus the theme toggle and quit."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app = cast("WizardApp", self.app)
        commands: list[tuple[str, str, object]] = [
            (f"Go to: {title}", f"Jump to the {title} step", partial(app.jump_to, key))
            for key, title in PAGES
        ]
        commands.append(("Toggle light/dark theme", "Switch between the light and dark theme",
                         app.action_toggle_theme))
        commands.append(("Quit", "Leave the wizard (asks first in the middle of the setup)",
                         app.action_quit))
        return commands

    async def discover(self) -> Hits:
        for text, help_text, callback in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback,  # type: ignore[arg-type]
                          text=text, help=help_text)
